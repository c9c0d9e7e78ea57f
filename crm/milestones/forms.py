"""Forms of the milestone actions, custom milestones and the schedule import.  The rules
(dates, transitions) live in the services; forms check types and required fields."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField,
)
from wtforms.widgets import CheckboxInput, ListWidget
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from crm.db import parse_id
from crm.formfields import DATE_MESSAGE, DayField, WholeNumberField
from crm.labels import choices
from crm.milestones.services.lifecycle import MAX_LIMIT_DAYS, PLAN_STAGES, TEXT_LIMITS


class VersionedForm(FlaskForm):
    """The version of the milestone the user saw: a stale form is refused, never applied."""

    version = HiddenField()

    def version_number(self) -> int | None:
        return parse_id(self.version.data)


class StartForm(VersionedForm):
    accepted_on = DayField(_l("Accepted on"), validators=[InputRequired(DATE_MESSAGE)],
                            description=_l("The day the department accepted (受理) the application; it may be earlier than today."))
    parallel_reason = TextAreaField(_l("Reason for accepting in parallel (容缺受理)"), validators=[
        Optional(), Length(max=TEXT_LIMITS["parallel_reason"])],
        description=_l("Only when an approval this one waits for is not issued yet."))


class ExtendForm(VersionedForm):
    extension_workdays = WholeNumberField(_l("Extension (working days)"), validators=[
        InputRequired(_l("Enter the working days of the extension.")),
        NumberRange(min=1, max=MAX_LIMIT_DAYS, message=_l("Enter a number of days from 1 to %(max)d.", max=MAX_LIMIT_DAYS))])
    extension_doc_no = StringField(_l("Extension approval document"), validators=[
        InputRequired(_l("Enter the number of the document approving the extension.")),
        Length(max=TEXT_LIMITS["extension_doc_no"])],
        description=_l("The authority head's approval (行政许可法 Art. 42), e.g. its document number."))
    extension_approved_on = DayField(_l("Extension approved on"),
                                     validators=[InputRequired(DATE_MESSAGE)])


class DependencyForm(FlaskForm):
    """A manager makes one milestone of a project wait for another (with the reason)."""

    milestone_id = SelectField(_l("Approval"), choices=[], validators=[
        InputRequired(_l("Choose an approval of this project."))])
    requires_id = SelectField(_l("Waits for"), choices=[], validators=[
        InputRequired(_l("Choose an approval of this project."))])
    reason = TextAreaField(_l("Reason"), validators=[
        InputRequired(_l("Give the reason for the change.")), Length(max=TEXT_LIMITS["reason"])])

    def set_plan(self, milestones) -> None:
        options = [(str(m.id), m.name) for m in milestones]
        self.milestone_id.choices = options
        self.requires_id.choices = options


class JointForm(FlaskForm):
    """A manager marks open approvals of a project as handled jointly (联合办理)."""

    name = StringField(_l("Name"), validators=[
        InputRequired(_l("Give the joint handling a name.")), Length(max=TEXT_LIMITS["name"])],
        description=_l("For example 施工图联合审查 or the window that handles them together."))
    milestone_ids = SelectMultipleField(
        _l("Approvals handled jointly"), choices=[], validate_choice=False,
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
        description=_l("At least two open approvals; from the first acceptance all are decided "
                       "within 45 working days (行政许可法 Art. 42)."))
    reason = TextAreaField(_l("Note"), validators=[Optional(), Length(max=TEXT_LIMITS["reason"])])

    def set_plan(self, milestones) -> None:
        self.milestone_ids.choices = [(str(m.id), m.name) for m in milestones
                                      if m.status not in ("done", "waived") and not m.joint_id]


class PauseForm(VersionedForm):
    paused_on = DayField(_l("Clock stopped on"), validators=[InputRequired(DATE_MESSAGE)])
    reason_code = SelectField(_l("Reason"), choices=[], validators=[InputRequired()])
    document_ref = StringField(_l("Document reference"), validators=[
        Optional(), Length(max=TEXT_LIMITS["document_ref"])],
        description=_l("For example the number of the notice to supplement materials (optional)."))
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=TEXT_LIMITS["note"])])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reason_code.choices = [(code, str(text)) for code, text in choices("pause_reason")]


class ResumeForm(VersionedForm):
    resumed_on = DayField(_l("Clock restarted on"), validators=[InputRequired(DATE_MESSAGE)])


class CompleteForm(VersionedForm):
    completed_on = DayField(_l("Completed on"), validators=[InputRequired(DATE_MESSAGE)],
                             description=_l("The day the approval was issued (办结)."))
    approval_doc_no = StringField(_l("Approval document number"), validators=[
        Optional(), Length(max=TEXT_LIMITS["approval_doc_no"])])
    issuing_department = StringField(_l("Issuing department"), validators=[
        Optional(), Length(max=TEXT_LIMITS["issuing_department"])])


class ReasonForm(VersionedForm):
    """Waive and reopen: a reason is required (it goes into the audit trail)."""

    reason = TextAreaField(_l("Reason"), validators=[
        InputRequired(_l("Give a reason.")), Length(max=TEXT_LIMITS["reason"])])


class CustomMilestoneForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(_l("Give the milestone a name.")),
                                               Length(max=TEXT_LIMITS["name"])])
    department = StringField(_l("Handling department"), validators=[Optional(),
                                                           Length(max=TEXT_LIMITS["department"])])
    stage = SelectField(_l("Stage"), choices=[])
    limit_value = WholeNumberField(_l("Committed limit"), validators=[
        InputRequired(_l("Enter the limit in days.")),
        NumberRange(min=1, max=MAX_LIMIT_DAYS, message=_l("Enter a number of days from 1 to %(max)d.", max=MAX_LIMIT_DAYS))])
    limit_unit = SelectField(_l("Unit"), choices=[])
    statutory_value = WholeNumberField(_l("Statutory limit"), validators=[
        Optional(),
        NumberRange(min=1, max=MAX_LIMIT_DAYS, message=_l("Enter a number of days from 1 to %(max)d.", max=MAX_LIMIT_DAYS))],
        description=_l("Optional: the legal limit, to count the time saved."))
    statutory_unit = SelectField(_l("Unit"), choices=[])
    required = BooleanField(_l("Required for the stage to advance"), default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stages = {code: text for code, text in choices("stage")}
        self.stage.choices = [(s.value, str(stages[s.value])) for s in PLAN_STAGES]
        units = [(code, str(text)) for code, text in choices("limit_unit")]
        self.limit_unit.choices = units
        self.statutory_unit.choices = units


class ScheduleImportForm(FlaskForm):
    year = WholeNumberField(_l("Year"), validators=[InputRequired(_l("Enter the year.")),
                                                NumberRange(min=2001, max=2099)])
    file = FileField(_l("Schedule file"), validators=[FileRequired(_l("Choose the file."))],
                     description=_l("Plain text, one date per line followed by 休 (day off) or 班 (working day), e.g. “2027-01-01 休”."))
