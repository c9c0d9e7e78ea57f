"""Project, stage and progress-log forms.  Server-side validation: the browser's checks are
a convenience only (forms are rendered with ``novalidate``)."""

from __future__ import annotations

import datetime as dt
import decimal
import re

from flask import request
from flask_babel import get_locale, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField, DateField, DecimalField, HiddenField, SelectChoice, SelectField,
    StringField, TextAreaField,
)
from wtforms.i18n import get_translations as wtforms_translations
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from crm import labels
from crm.formfields import WholeNumberField
from crm.i18n import today
from crm.projects.codes import check_credit_code, check_project_code, mod11_10_check_digit
from crm.projects.models import MIN_INVESTMENT_WAN, LogKind, Stage
from crm.projects.services import EDITABLE_FIELDS, MAX_TEXT

# Above 1万亿元 the amount is a slip of the unit, and the column is a 32-bit integer.
MAX_INVESTMENT_WAN = 99_999_999
EARLIEST_DATE = dt.date(1990, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)
PHONE = re.compile(r"^\+?[0-9][0-9\- ()]{4,28}[0-9]$")


def strip(value):
    if isinstance(value, str):
        value = " ".join(value.split()) if "\n" not in value else value.strip()
        return value or None
    return value


def upper(value):
    return value.upper() if isinstance(value, str) else value


def optional_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


def options(pairs, blank=None) -> list[SelectChoice]:
    """Select options from (value, label) pairs, with an optional blank first option."""
    result = [SelectChoice("", blank)] if blank is not None else []
    return result + [SelectChoice(value, text) for value, text in pairs]


def _date_in_range(form, field):
    if field.data and not EARLIEST_DATE <= field.data <= LATEST_DATE:
        raise ValidationError(_l("Enter a date between %(first)s and %(last)s.",
                                 first=EARLIEST_DATE.isoformat(), last=LATEST_DATE.isoformat()))


def _not_in_future(form, field):
    if field.data and field.data > today():
        raise ValidationError(_l("The date cannot be in the future."))


# -- projects ------------------------------------------------------------------------------

class ProjectForm(FlaskForm):
    name = StringField(_l("Project name"), filters=[strip],
                       validators=[DataRequired(), Length(max=200)])
    investor_name = StringField(_l("Investor"), filters=[strip],
                                validators=[DataRequired(), Length(max=200)])
    investor_credit_code = StringField(
        _l("Investor's unified social credit code"), filters=[strip, upper],
        validators=[Optional(), Length(max=18)],
        description=_l("18 characters; the last one is a check character."))
    investment = WholeNumberField(
        _l("Total investment (10,000 yuan)"), validators=[InputRequired()],
        description=_l("In 万元, a whole number: 1亿元 = 10000."))
    industry = SelectField(_l("Industry"), choices=options(labels.choices("industry")),
                           validators=[InputRequired()])
    park = SelectField(_l("Park"), coerce=int, validators=[InputRequired()])
    stage = SelectField(_l("Stage"), choices=options(labels.choices("stage")),
                        default=Stage.NEGOTIATING.value, validators=[InputRequired()])
    status = SelectField(_l("Status"), choices=options(labels.choices("project_status")),
                         validators=[InputRequired()])
    code = StringField(_l("Project code"), filters=[strip, upper],
                       validators=[Optional(), Length(max=24)],
                       description=_l("24 characters from the investment project platform, "
                                      "e.g. 2411-320613-89-01-123456; empty until filed."))
    accept_code_warning = BooleanField(_l("The code is correct as issued"))
    approval_mode = SelectField(_l("Approval mode"), choices=options(labels.choices("approval_mode")),
                                validators=[InputRequired()])
    eia_category = SelectField(_l("Environmental impact assessment"),
                               choices=options(labels.choices("eia_category")),
                               validators=[InputRequired()])
    contact_name = StringField(_l("Enterprise contact"), filters=[strip],
                               validators=[Optional(), Length(max=50)])
    contact_phone = StringField(_l("Contact phone"), filters=[strip],
                                validators=[Optional(), Length(max=30)])
    signed_on = DateField(_l("Signed on"), validators=[Optional(), _date_in_range])
    expected_start_on = DateField(_l("Expected start of construction"),
                                  validators=[Optional(), _date_in_range])
    description = TextAreaField(_l("Description"), filters=[strip], render_kw={"rows": 3},
                                validators=[Optional(), Length(max=MAX_TEXT)])
    version = HiddenField()

    # Set by validation when the code's check digit does not match; the form then only
    # passes once the user ticks accept_code_warning.  A code already saved on the project
    # was accepted before and is not questioned again.
    code_warning = None
    saved_code = None

    def validate_investment(self, field):
        if field.data is None:
            return
        if field.data < MIN_INVESTMENT_WAN:
            raise ValidationError(_l(
                "Daiban tracks projects with a total investment of 1亿元 (10000万元) or more; "
                "enter the amount in 万元."))
        if field.data > MAX_INVESTMENT_WAN:
            raise ValidationError(_l("That is more than 1万亿元: check the unit (万元)."))

    def validate_investor_credit_code(self, field):
        if not field.data:
            return
        problem = check_credit_code(field.data)
        if problem == "length":
            raise ValidationError(_l("A unified social credit code has 18 characters."))
        if problem == "characters":
            raise ValidationError(_l("Only digits and capital letters other than I, O, Z, S "
                                     "and V can appear in a unified social credit code."))
        if problem == "check":
            raise ValidationError(_l("The last character does not match the check character "
                                     "of the first 17: check the code for a typing error."))

    def validate_code(self, field):
        if not field.data:
            return
        result = check_project_code(field.data)
        if not result.valid:
            if result.message == "date":
                raise ValidationError(_l("The first four digits must be a year up to 2020 "
                                         "(old format) or a year and month from November "
                                         "2020 on (current format, YYMM such as 2411)."))
            raise ValidationError(_l("Write the code as 24 characters in groups of "
                                     "4-6-2-2-6 digits, e.g. 2411-320613-89-01-123456."))
        if result.check_digit_ok is False and field.data != self.saved_code:
            digits = field.data.replace("-", "")
            self.code_warning = _l(
                "The last digit does not match the check digit of the first 19 digits "
                "(expected %(digit)d). Check the code; if it is exactly as issued, tick the "
                "box below and save again.", digit=mod11_10_check_digit(digits[:19]))

    def validate_contact_phone(self, field):
        if field.data and (not PHONE.match(field.data)
                           or sum(ch.isdigit() for ch in field.data) < 5):
            raise ValidationError(_l("Enter a phone number: digits, with - or spaces."))

    def validate_expected_start_on(self, field):
        if field.data and self.signed_on.data and field.data < self.signed_on.data:
            raise ValidationError(_l("The expected start cannot be before the signing date."))

    def validate_signed_on(self, field):
        if field.data and field.data > today():
            raise ValidationError(_l("The signing date cannot be in the future."))

    def validate(self, extra_validators=None) -> bool:
        self.code_warning = None
        valid = super().validate(extra_validators)
        return valid and (self.code_warning is None or bool(self.accept_code_warning.data))

    def project_data(self) -> dict:
        """The validated values of the project's editable columns present in this form."""
        return {name: getattr(self, name).data for name in EDITABLE_FIELDS if name in self}


def project_form(*, parks=(), project=None, may_set_status=True, current=False,
                 formdata=None) -> ProjectForm:
    """The create form (``project`` None: park and stage chosen here) or the edit form.

    The edit form shows the project's values on GET, or when ``current`` is set (after a
    conflict); a submitted form reads the request only, so a missing version never passes
    for the current one.  ``formdata`` given (the JSON API): validate exactly that data, with
    no CSRF token (the API authenticates by bearer token, never by cookie).
    """
    if formdata is not None:
        form = ProjectForm(formdata=formdata, meta={"csrf": False})
    elif project is not None and (current or request.method != "POST"):
        form = ProjectForm(formdata=None, obj=project)
    else:
        form = ProjectForm()
    if project is None:
        form.park.choices = [SelectChoice(p.id, p.name) for p in parks]
        del form.status
        del form.version
    else:
        form.saved_code = project.code
        del form.park
        del form.stage
        if not may_set_status:
            del form.status
    return form


class _JobTranslations:
    """WTForms' own messages ("Not a valid choice.") in the service's language outside a
    request too (Flask-WTF translates them only inside one): imports run in a worker."""

    def get_translations(self, form):
        locale = get_locale()
        return wtforms_translations([str(locale), locale.language] if locale else None)


def job_meta() -> dict:
    return {"csrf": False, "get_translations": _JobTranslations().get_translations}


def ledger_form(formdata, parks) -> ProjectForm:
    """The form one row of an imported ledger is checked with: the create form's fields and
    the status, no CSRF (the rows come from a file the user uploaded through a checked form)."""
    form = ProjectForm(formdata=formdata, meta=job_meta())
    form.park.choices = [SelectChoice(p.id, p.name) for p in parks]
    del form.version
    return form


class StageForm(FlaskForm):
    stage = SelectField(_l("New stage"), choices=options(labels.choices("stage")),
                        validators=[InputRequired()])
    reason = TextAreaField(_l("Reason"), filters=[strip],
                           validators=[DataRequired(), Length(max=1000)],
                           description=_l("Why the stage is changed by hand (kept in the audit trail)."))
    version = HiddenField()


# -- progress log --------------------------------------------------------------------------

class LogForm(FlaskForm):
    project = SelectField(_l("Project"), coerce=optional_int, validators=[InputRequired()],
                          invalid_choice_message=_l("Choose one of your projects."))
    kind = SelectField(_l("Kind"), choices=options(labels.choices("log_kind")),
                       default=LogKind.VISIT.value, validators=[InputRequired()])
    milestone = SelectField(_l("Approval item"), coerce=optional_int,
                            invalid_choice_message=_l("Choose an approval item of this project."))
    resolves = SelectField(_l("Resolves blocker"), coerce=optional_int,
                           invalid_choice_message=_l("Choose an open blocker of this project."))
    happened_on = DateField(_l("Date"), default=today,
                            validators=[InputRequired(), _date_in_range, _not_in_future])
    hours = DecimalField(_l("Hours"), places=1, validators=[Optional()])
    text = TextAreaField(_l("What was done"), filters=[strip], render_kw={"rows": 3},
                         validators=[DataRequired(), Length(max=MAX_TEXT)])

    def validate_hours(self, field):
        if field.data is None:
            return
        if not field.data.is_finite() or not decimal.Decimal(0) <= field.data <= decimal.Decimal(24):
            raise ValidationError(_l("Hours are between 0 and 24."))
        if field.data != field.data.quantize(decimal.Decimal("0.1")):
            raise ValidationError(_l("Use at most one decimal place (e.g. 1.5)."))

    def validate_resolves(self, field):
        if field.data is not None and self.kind.data != LogKind.RESOLUTION.value:
            raise ValidationError(_l("Only a resolution entry can resolve a blocker."))


def fill_log_choices(form, *, milestones, blockers) -> None:
    """The approval items and open blockers of the project being logged on."""
    if "milestone" in form:
        form.milestone.choices = options(((m.id, m.name) for m in milestones), blank="—")
    if "resolves" in form:
        form.resolves.choices = options(
            ((b.id, f"{b.happened_on.isoformat()} {b.text[:40]}") for b in blockers), blank="—")


def project_log_form(project, blockers, **kwargs) -> LogForm:
    """The log form of one project (the project is fixed): its approval items and open
    blockers are the choices."""
    form = LogForm(**kwargs)
    del form.project
    fill_log_choices(form, milestones=project.milestones, blockers=blockers)
    return form


class LogEditForm(LogForm):
    """Edit within 24 hours: the kind, the project and a resolved blocker stay as they are."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.project
        del self.kind
        del self.resolves


class AnnotationForm(FlaskForm):
    text = TextAreaField(_l("Annotation"), filters=[strip],
                         validators=[DataRequired(), Length(max=MAX_TEXT)])


class CloseBlockerForm(FlaskForm):
    note = TextAreaField(_l("How it was resolved"), filters=[strip],
                         validators=[DataRequired(), Length(max=MAX_TEXT)])


class DeleteLogForm(FlaskForm):
    reason = StringField(_l("Reason for deleting"), filters=[strip],
                         validators=[DataRequired(), Length(max=500)])
