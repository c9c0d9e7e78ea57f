"""Forms of supervision: open a round, fill a report, close a round; raise, resolve a problem;
record a meeting; set a year's investment plan."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField,
)
from wtforms.validators import (
    DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from crm.formfields import DayField, WholeNumberField
from crm.labels import choices
from crm.projects.forms import PHONE

TEXT_MAX = 4000
REQUIRED = _l("This field is required.")
DATE_REQUIRED = _l("Enter a date.")


FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2100, 12, 31)


def _calendar_range(form, field):
    """The working-day calendar covers these years."""
    if field.data and not FIRST_DAY <= field.data <= LAST_DAY:
        raise ValidationError(_l("Choose a date between 2000 and 2100."))


class CheckboxesField(SelectMultipleField):
    """Several choices as check boxes (phones handle them better than a multiple select)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RoundForm(FlaskForm):
    title = StringField(_l("Title"), validators=[InputRequired(REQUIRED), Length(max=100)])
    cadence = SelectField(_l("Cadence"), choices=choices("cadence"),
                          validators=[InputRequired(REQUIRED)])
    park_id = SelectField(_l("Park"), validators=[InputRequired(REQUIRED)])
    period_start = DayField(_l("Period from"), validators=[DataRequired(DATE_REQUIRED), _calendar_range])
    period_end = DayField(_l("Period to"), validators=[DataRequired(DATE_REQUIRED), _calendar_range])
    due_on = DayField(_l("Reports due on"), validators=[DataRequired(DATE_REQUIRED), _calendar_range],
                      description=_l("A day that is not a working day moves to the next "
                                     "working day."))
    stages = CheckboxesField(_l("Stages"), choices=choices("stage"), validate_choice=True)
    statuses = CheckboxesField(_l("Statuses"), choices=choices("project_status"),
                               description=_l("None chosen: active projects."))
    industries = CheckboxesField(_l("Industries"), choices=choices("industry"))


class ReportForm(FlaskForm):
    progress = TextAreaField(_l("Progress in this period"),
                             validators=[InputRequired(REQUIRED), Length(max=TEXT_MAX)])
    next_steps = TextAreaField(_l("Next steps"), validators=[Optional(), Length(max=TEXT_MAX)])
    investment_completed = WholeNumberField(
        _l("Investment completed in this period (10,000 yuan)"),
        validators=[Optional(), NumberRange(min=0, max=100_000_000,
                                            message=_l("Enter an amount of 0 or more."))])
    stage_reached = SelectField(_l("Stage reached"), choices=choices("stage"),
                                validators=[InputRequired(REQUIRED)])
    problem_text = TextAreaField(_l("A problem needing coordination"),
                                 validators=[Optional(), Length(max=TEXT_MAX)],
                                 description=_l("Logged as a blocker of the project and taken "
                                                "to the department you choose."))
    problem_department = SelectField(_l("Department"), validators=[Optional()],
                                     validate_choice=False)
    problem_level = SelectField(_l("Level"), choices=choices("problem_level"),
                                validators=[Optional()])
    version = HiddenField()


class EnterprisePartForm(FlaskForm):
    """The enterprise's part of its report, on its progress page (shown in Chinese)."""

    progress = TextAreaField(_l("What your project did in this period"),
                             validators=[InputRequired(REQUIRED), Length(max=TEXT_MAX)])
    investment_completed = WholeNumberField(
        _l("Investment completed in this period (10,000 yuan)"),
        validators=[Optional(), NumberRange(min=0, max=100_000_000,
                                            message=_l("Enter an amount of 0 or more."))])
    needs = TextAreaField(_l("What you need the government to coordinate"),
                          validators=[Optional(), Length(max=TEXT_MAX)],
                          description=_l("Your project agent takes it up with the department "
                                         "concerned."))
    contact_name = StringField(_l("Your name"), validators=[
        InputRequired(_l("Enter your name.")), Length(max=50)])
    contact_phone = StringField(_l("Phone"), validators=[
        Optional(), Length(max=20),
        Regexp(PHONE, message=_l("Enter a phone number: digits, spaces, + and -."))])
    version = HiddenField()


class CloseRoundForm(FlaskForm):
    version = HiddenField()


class RaiseProblemForm(FlaskForm):
    department = SelectField(_l("Department"), validators=[InputRequired(REQUIRED)],
                             validate_choice=False)
    level = SelectField(_l("Level"), choices=choices("problem_level"),
                        validators=[InputRequired(REQUIRED)])
    owner_id = SelectField(_l("Owner"), validators=[Optional()], validate_choice=False)
    due_days = WholeNumberField(_l("Due in working days"),
                                validators=[Optional(), NumberRange(min=1, max=120)],
                                description=_l("Empty: the level's usual time."))


class ProblemEditForm(FlaskForm):
    department = SelectField(_l("Department"), validators=[InputRequired(REQUIRED)],
                             validate_choice=False)
    owner_id = SelectField(_l("Owner"), validators=[Optional()], validate_choice=False)
    due_on = DayField(_l("Due on"), validators=[DataRequired(DATE_REQUIRED), _calendar_range])
    version = HiddenField()


class ResolveProblemForm(FlaskForm):
    decision = TextAreaField(_l("Decision"), validators=[InputRequired(REQUIRED),
                                                          Length(max=TEXT_MAX)])
    version = HiddenField()


class MeetingForm(FlaskForm):
    park_id = SelectField(_l("Park"), validators=[InputRequired(REQUIRED)])
    held_on = DayField(_l("Held on"), validators=[DataRequired(DATE_REQUIRED), _calendar_range])
    title = StringField(_l("Title"), validators=[InputRequired(REQUIRED), Length(max=200)])
    attendees = TextAreaField(_l("Attendees"), validators=[InputRequired(REQUIRED),
                                                            Length(max=TEXT_MAX)])
    decisions = TextAreaField(_l("Decisions"), validators=[InputRequired(REQUIRED),
                                                            Length(max=TEXT_MAX)])
    problem_ids = CheckboxesField(_l("Problems discussed"), coerce=int, validate_choice=False)
    resolve = BooleanField(_l("The decisions resolve the problems discussed"))


class InvestmentPlanForm(FlaskForm):
    year = WholeNumberField(_l("Year"), validators=[
        InputRequired(REQUIRED), NumberRange(min=2000, max=2100,
                                             message=_l("Choose a year between 2000 and 2100."))])
    planned = WholeNumberField(_l("Planned investment (10,000 yuan)"), validators=[
        InputRequired(REQUIRED), NumberRange(min=0, max=100_000_000,
                                             message=_l("Enter an amount of 0 or more."))])
