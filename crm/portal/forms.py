"""The staff's form for issuing a project's enterprise link; the enterprise's confirmation,
rating and complaint; the staff's steps of a bad-review case."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from crm.db import parse_id
from crm.formfields import DATE_MESSAGE, DayField
from crm.portal.models import DIMENSIONS
from crm.projects.forms import PHONE, strip


class LinkForm(FlaskForm):
    expires_on = DayField(_l("Expires after"), validators=[Optional()],
                          description=_l("Optional: the last day the link opens."))


class ConfirmForm(FlaskForm):
    """The enterprise confirms its service order: the version it was shown (a newer one issued
    meanwhile is refused)."""

    document_id = HiddenField(validators=[DataRequired(
        _l("This page is out of date: reload it and confirm again."))], filters=[parse_id])

    signer_name = StringField(_l("Your name"), validators=[
        DataRequired(_l("Enter your name.")), Length(max=50)], filters=[strip])
    signer_title = StringField(_l("Your position"), validators=[
        DataRequired(_l("Enter your position in the company.")), Length(max=50)],
        filters=[strip])
    signer_phone = StringField(_l("Phone"), validators=[
        DataRequired(_l("Enter a phone number.")),
        Length(max=20), Regexp(PHONE, message=_l("Enter a phone number: digits, spaces, + and -."))],
        filters=[strip])
    understood = BooleanField(_l("We have read the approval plan and the service promises."),
                              validators=[DataRequired(
                                  _l("Tick the box to confirm you have read the order."))])


SERVICE = "service"  # the rating's target: the whole service, not one approval
SCORE_CHOICES = [(str(n), str(n)) for n in range(5, 0, -1)]


def _score(label):
    return RadioField(label, choices=SCORE_CHOICES, validators=[
        InputRequired(_l("Choose a score from 1 to 5."))])


class ScoresForm(FlaskForm):
    """The five dimensions scored 1-5 and a comment (a rating, or a callback's result)."""

    openness = _score(_l("Openness of government affairs"))
    standards = _score(_l("Handling by the rules"))
    convenience = _score(_l("Convenience"))
    courtesy = _score(_l("Courtesy"))
    discipline = _score(_l("Discipline"))
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=1000)],
                            filters=[strip])

    def scores(self) -> dict:
        return {d: int(self[d].data) for d in DIMENSIONS if (self[d].data or "").isdigit()}


class RatingForm(ScoresForm):
    """The enterprise rates a finished approval, or the whole service (target "service")."""

    target = SelectField(_l("What you rate"), choices=[], validators=[
        InputRequired(_l("Choose what you rate."))])

    def set_targets(self, targets) -> None:
        self.target.choices = [
            (SERVICE if t.milestone_id is None else str(t.milestone_id),
             str(_l("The whole service")) if t.milestone_id is None else t.name)
            for t in targets if t.changeable]

    def milestone_id(self) -> int | None:
        return None if self.target.data == SERVICE else parse_id(self.target.data)


class CallbackForm(ScoresForm):
    """The third-party surveyor's result for one milestone of the callback sample."""


class ComplaintForm(FlaskForm):
    text = TextAreaField(_l("What went wrong"), validators=[
        DataRequired(_l("Describe the problem.")), Length(max=1000)], filters=[strip])
    contact_name = StringField(_l("Your name"), validators=[
        DataRequired(_l("Enter your name.")), Length(max=50)], filters=[strip])
    contact_phone = StringField(_l("Phone"), validators=[
        DataRequired(_l("Enter a phone number.")),
        Length(max=20), Regexp(PHONE, message=_l("Enter a phone number: digits, spaces, + and -."))],
        filters=[strip])


# -- the staff's steps of a case --------------------------------------------------------------

class CaseForm(FlaskForm):
    version = HiddenField(filters=[parse_id])


class ClassifyForm(CaseForm):
    classification = RadioField(_l("Classification"), choices=[], validators=[
        InputRequired(_l("Choose simple or complex."))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.classification.choices = [
            ("simple", str(_l("Simple: rectified at once by the assignee (3 working days)"))),
            ("complex", str(_l("Complex: an acceptance panel (15 working days)")))]


class RectifyForm(CaseForm):
    rectification = TextAreaField(_l("What was done"), validators=[
        DataRequired(_l("Describe what was done.")), Length(max=2000)], filters=[strip])
    rectified_on = DayField(_l("Done on"), validators=[InputRequired(DATE_MESSAGE)])


class AcceptForm(CaseForm):
    panel_members = TextAreaField(_l("Panel members"), validators=[
        DataRequired(_l("Name the panel's members.")), Length(max=500)], filters=[strip],
        description=_l("The administration department, a window representative and a citizen "
                       "inspector, by name."))
    rectification = TextAreaField(_l("Findings and acceptance"), validators=[
        DataRequired(_l("Record the panel's findings.")), Length(max=2000)], filters=[strip])
    rectified_on = DayField(_l("Day of the panel's acceptance"), validators=[InputRequired(DATE_MESSAGE)])


class CloseForm(CaseForm):
    close_note = TextAreaField(_l("What the enterprise said on the phone"), validators=[
        DataRequired(_l("Record what the enterprise said.")), Length(max=2000)],
        filters=[strip])
