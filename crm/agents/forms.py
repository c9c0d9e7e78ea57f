"""Forms of the roster and team pages.  Assignment rules (who may take which role, reasons,
handover notes, capacity) are checked by the services, which name the field at fault; these
forms parse input and check the plain field formats of staff records."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import (
    AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError,
)

from crm.formfields import DayField, WholeNumberField
from crm.i18n import today
from crm.labels import choices

TOO_LONG = _l("Use at most %(max)d characters.")
MAX_CAPACITY = 99


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class PrefixedForm(FlaskForm):
    """A form whose field names carry a prefix, so several forms share a page without
    clashing ids (``prefix`` is a class attribute here)."""

    prefix = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", type(self).prefix)
        super().__init__(*args, **kwargs)


def _reason_field(label=None):
    return TextAreaField(label or _l("Reason"), filters=[_strip], render_kw={"rows": 2})


class AssignForm(PrefixedForm):
    """Make someone the chief consultant or the lead agent (replacing whoever holds it)."""

    prefix = "assign"
    role = SelectField(_l("Role"), choices=[c for c in choices("assignment_role") if c[0] != "helper"],
                       validate_choice=False)
    staff_id = SelectField(_l("Staff member"), validate_choice=False)
    reason = _reason_field()
    handover_note = TextAreaField(
        _l("Handover note"), filters=[_strip], render_kw={"rows": 3},
        description=_l("Required when replacing someone: open items, contacts, deadlines."))
    force = BooleanField(_l("Assign anyway (on leave or at capacity)"))


class HelperForm(PrefixedForm):
    prefix = "helper"
    staff_id = SelectField(_l("Helper agent"), validate_choice=False)
    reason = _reason_field()
    force = BooleanField(_l("Assign anyway (on leave or at capacity)"))


class EndHelperForm(FlaskForm):
    """One per helper on the page; its inputs carry their own ids."""

    assignment_id = HiddenField()
    reason = StringField(_l("Reason"), filters=[_strip])


class ActionForm(FlaskForm):
    """A button that posts (CSRF token only)."""


class AddToParkForm(FlaskForm):
    staff_id = HiddenField()


class HandoverForm(FlaskForm):
    """Shared fields of the hand-over screen; each row posts ``choice_<assignment id>``."""

    reason = _reason_field()
    handover_note = TextAreaField(_l("Handover note"), filters=[_strip], render_kw={"rows": 3})
    force = BooleanField(_l("Assign anyway (on leave or at capacity)"))


def _capacity_field():
    return WholeNumberField(_l("Capacity (active projects)"), validators=[
        InputRequired(message=_l("Enter the capacity.")),
        NumberRange(min=1, max=MAX_CAPACITY, message=_l("Enter a number from %(min)s to %(max)s.")),
    ])


def _phone_field():
    return StringField(_l("Phone"), filters=[_strip], validators=[
        Optional(), Length(max=30, message=TOO_LONG),
        Regexp(r"^[0-9+\-() ]{5,30}$", message=_l("Use digits, spaces, +, - and brackets only.")),
    ])


def _title_field():
    return StringField(_l("Job title"), filters=[_strip],
                       validators=[Optional(), Length(max=50, message=TOO_LONG)])


class StaffForm(FlaskForm):
    """A new staff member of the park."""

    name = StringField(_l("Full name"), filters=[_strip], validators=[
        DataRequired(message=_l("Enter the name.")), Length(max=50, message=TOO_LONG)])
    kind = SelectField(_l("Kind"), choices=choices("staff_kind"), validate_choice=False,
                       validators=[AnyOf([c for c, _ in choices("staff_kind")],
                                         message=_l("Choose chief consultant or project agent."))])
    phone = _phone_field()
    title = _title_field()
    capacity = _capacity_field()


class StaffEditForm(FlaskForm):
    capacity = _capacity_field()
    on_leave_until = DayField(_l("On leave until"), validators=[Optional()],
                              description=_l("The last day of leave; empty when not on leave."))
    active = BooleanField(_l("Active (can be assigned)"))
    phone = _phone_field()
    title = _title_field()

    def validate_on_leave_until(self, field):
        if field.data and field.data < today():
            raise ValidationError(_l("The leave must end today or later; leave the field empty when there is no leave."))
