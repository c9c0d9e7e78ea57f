"""The milestone lifecycle (DESIGN §4): start, pause, resume, complete, waive, reopen, and custom
milestones; the project's stage advances when its stage's required milestones are finished
(completing or waiving announces ``milestone_finished``; crm/workflows.py calls
``advance_stage``).

Every transition checks the version the user saw (a stale form is answered "changed by
someone else — reload", never a lost update), refuses what the rules forbid with a message
naming the field, keeps ``due_on`` / ``due_provisional`` / ``remaining_workdays`` consistent
through ``sla.py``, and names its audit event.  Services flush but never commit; on an error
the caller rolls back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from crm import signals, transaction
from crm.audit import services as audit
from crm.errors import Conflict, DomainError, InvalidState
from crm.extensions import db
from crm.i18n import today as local_today
from crm.milestones import sla
from crm.milestones.calendar import WINDOW_START, WorkCalendar
from crm.milestones.models import LimitUnit, Milestone, MilestonePause, PauseReason
from crm.milestones.queries import (
    ACTIONS_BY_STATUS, DONE, FINISHED, PAUSED, PENDING, RUNNING, WAIVED, waiting_for, work_calendar,
)
from crm.milestones.services import forecasts
from crm.projects import services as projects
from crm.projects.models import Project, Stage

REFUSED = {
    "start": _l("Only a milestone that has not started can be started."),
    "pause": _l("Only a running milestone can be paused."),
    "resume": _l("Only a paused milestone can be resumed."),
    "complete": _l("Only a running milestone can be completed (resume a paused one first)."),
    "waive": _l("A done or waived milestone cannot be waived; reopen it first."),
    "reopen": _l("Only a done or waived milestone can be reopened."),
    "extend": _l("Only a running milestone can be extended."),
}
STALE = _l("This milestone was changed by someone else in the meantime. Reload the page and try again.")

# What the audit trail calls the actions written here.
AUDIT_ACTIONS = {
    "milestone.start": _l("recorded the acceptance (the clock started)"),
    "milestone.pause": _l("stopped the clock"),
    "milestone.resume": _l("restarted the clock"),
    "milestone.complete": _l("recorded the completion"),
    "milestone.waive": _l("waived the milestone"),
    "milestone.reopen": _l("reopened the milestone"),
    "milestone.add": _l("added a milestone to the plan"),
    "milestone.extend": _l("extended the deadline (statutory extension)"),
    "dependency.add": _l("added a dependency between approvals"),
    "dependency.remove": _l("removed a dependency between approvals"),
    "joint.create": _l("marked approvals as handled jointly"),
    "joint.extend": _l("extended the joint handling (15 working days at most)"),
    "joint.remove": _l("ended the joint handling of approvals"),
}

# Approval-plan stages (a milestone's stage) and the limits of free text.
PLAN_STAGES = (Stage.FILING, Stage.LAND, Stage.PLANNING, Stage.PERMITTING)
MAX_LIMIT_DAYS = 1000
# Dates the forms accept: a year inside the calendar's window, so no rule steps out of it.
EARLIEST = dt.date(WINDOW_START.year + 1, 1, 1)
TEXT_LIMITS = {"document_ref": 100, "approval_doc_no": 100, "issuing_department": 100,
               "name": 100, "department": 100, "reason": 2000, "note": 2000,
               "parallel_reason": 2000, "extension_doc_no": 100}


def stale() -> Conflict:
    """Someone else changed the milestone (or its project) since the user loaded it."""
    return transaction.stale(STALE)


def flush() -> None:
    """Flush, turning the mapper's version check into a "changed by someone else" answer."""
    transaction.flush(STALE)


def replan(project_id: int, today: dt.date | None = None,
           calendar: WorkCalendar | None = None) -> None:
    """The project's plan changed: flush, then refresh its forecasts."""
    flush()
    forecasts.refresh_projects([project_id], today or local_today(), calendar or work_calendar())


# -- checks -----------------------------------------------------------------------------------

def check_action(milestone, action: str) -> None:
    """Refuse a transition the milestone's status does not allow."""
    if action not in ACTIONS_BY_STATUS.get(milestone.status, ()):
        raise InvalidState(REFUSED[action], "status")


def _check(milestone: Milestone, action: str, version: int | None) -> WorkCalendar:
    """Refuse a stale version or an illegal transition; returns the calendar to use.

    Everything the transition reads from the database (the calendar, the pauses) is read here,
    before any change, so no autoflush splits the change from its audit tag.
    """
    # The plan's lock before any change to it (forecasts.lock_plans: one writer per plan).
    forecasts.lock_plans([milestone.project_id])
    if version is not None and int(version) != milestone.version:
        raise stale()
    check_action(milestone, action)
    milestone.pauses  # noqa: B018 - load them now
    return work_calendar()


DATE_MISSING = {
    "accepted_on": _l("Enter the acceptance date."),
    "paused_on": _l("Enter the date the clock stopped."),
    "resumed_on": _l("Enter the date the clock restarted."),
    "completed_on": _l("Enter the completion date."),
    "extension_approved_on": _l("Enter the date the extension was approved."),
}
DATE_IN_FUTURE = {
    "accepted_on": _l("The acceptance date cannot be in the future."),
    "paused_on": _l("The pause date cannot be in the future."),
    "resumed_on": _l("The resume date cannot be in the future."),
    "completed_on": _l("The completion date cannot be in the future."),
    "extension_approved_on": _l("The approval date cannot be in the future."),
}


def _past_date(value: dt.date | None, today: dt.date, field: str) -> dt.date:
    if value is None:
        raise DomainError(DATE_MISSING[field], field)
    if value > today:
        raise DomainError(DATE_IN_FUTURE[field], field)
    if value < EARLIEST:
        raise DomainError(_l("Dates before %(year)d are not supported.", year=EARLIEST.year),
                             field)
    return value


def _text(value: str | None, field: str, required_message=None) -> str | None:
    value = (value or "").strip()
    if not value:
        if required_message is not None:
            raise DomainError(required_message, field)
        return None
    if len(value) > TEXT_LIMITS[field]:
        raise DomainError(_l("At most %(n)d characters.", n=TEXT_LIMITS[field]), field)
    return value


def _last_resumed(milestone: Milestone) -> dt.date | None:
    resumed = [p.resumed_on for p in milestone.pauses if p.resumed_on is not None]
    return max(resumed) if resumed else None


def _open_pause(milestone: Milestone) -> MilestonePause | None:
    return next((p for p in milestone.pauses if p.resumed_on is None), None)


def _pauses(milestone: Milestone) -> list[sla.Pause]:
    return [(p.paused_on, p.resumed_on) for p in milestone.pauses]


def apply_schedule(milestone: Milestone, calendar: WorkCalendar) -> None:
    """Store the deadline facts of a started milestone from its acceptance, limit and pauses."""
    facts = sla.schedule(milestone.accepted_on, milestone.limit_value, milestone.limit_unit,
                         _pauses(milestone), calendar, milestone.extension_workdays)
    if facts.due_on != milestone.due_on:
        milestone.notified_state = None  # a new deadline: the sweep warns about it afresh
    milestone.due_on = facts.due_on
    milestone.due_provisional = facts.provisional
    milestone.remaining_workdays = facts.remaining_frozen


# -- transitions ------------------------------------------------------------------------------

# The rules of each transition (``apply_*``) work on anything shaped like a milestone with its
# pauses loaded, given what they would otherwise read (the calendar, what it waits for): the
# services below call them on a model after the lock and the version check; bulk work (an
# import) calls them on the rows it holds.  Each returns the audit action and note.

class Tagged(NamedTuple):
    action: str
    note: str | None


def start(milestone: Milestone, *, accepted_on: dt.date | None, today: dt.date,
          version: int | None = None, parallel_reason: str | None = None) -> Milestone:
    """Accepted (受理) by the department on ``accepted_on``: the clock starts.  A milestone
    whose dependencies are not all issued starts only "in parallel anyway" (容缺受理), with
    the reason."""
    calendar = _check(milestone, "start", version)
    audit.tag(milestone, *apply_start(milestone, accepted_on=accepted_on, today=today,
                                      parallel_reason=parallel_reason,
                                      waiting=waiting_for(milestone), calendar=calendar))
    replan(milestone.project_id, today, calendar)
    return milestone


def apply_start(milestone, *, accepted_on: dt.date | None, today: dt.date,
                parallel_reason: str | None, waiting: Sequence, calendar: WorkCalendar):
    check_action(milestone, "start")
    accepted_on = _past_date(accepted_on, today, "accepted_on")
    reason = _text(parallel_reason, "parallel_reason")
    if waiting and reason is None:
        raise DomainError(_l("Not issued yet: %(names)s. To accept this one in parallel anyway "
                             "(容缺受理), give the reason.",
                             names="、".join(m.name for m in waiting)), "parallel_reason")
    milestone.accepted_on = accepted_on
    milestone.parallel_reason = reason if waiting else None
    milestone.status = RUNNING
    apply_schedule(milestone, calendar)
    return Tagged(action="milestone.start", note=None)


def pause(milestone: Milestone, *, paused_on: dt.date | None, reason_code: str | None,
          today: dt.date, document_ref: str | None = None, note: str | None = None,
          version: int | None = None, actor_id: int | None = None) -> MilestonePause:
    """Stop the clock from ``paused_on`` (补正, hearing, expert review...)."""
    calendar = _check(milestone, "pause", version)
    record, tagged = apply_pause(milestone, paused_on=paused_on, reason_code=reason_code,
                                 today=today, document_ref=document_ref, note=note,
                                 actor_id=actor_id, calendar=calendar)
    audit.tag(milestone, *tagged)
    replan(milestone.project_id, today, calendar)
    return record


def apply_pause(milestone, *, paused_on: dt.date | None, reason_code: str | None,
                today: dt.date, document_ref: str | None, note: str | None,
                actor_id: int | None, calendar: WorkCalendar):
    """Returns the pause record (appended to ``milestone.pauses``) and the audit tag."""
    check_action(milestone, "pause")
    if reason_code not in {r.value for r in PauseReason}:
        raise DomainError(_l("Choose a reason from the list."), "reason_code")
    paused_on = _past_date(paused_on, today, "paused_on")
    if paused_on < milestone.accepted_on:
        raise DomainError(_l("The pause cannot start before the acceptance date (%(date)s).",
                                date=milestone.accepted_on.isoformat()), "paused_on")
    last = _last_resumed(milestone)
    if last is not None and paused_on < last:
        raise DomainError(_l("The pause cannot start before the clock was last resumed "
                                "(%(date)s).", date=last.isoformat()), "paused_on")
    record = MilestonePause(paused_on=paused_on, reason_code=reason_code,
                            document_ref=_text(document_ref, "document_ref"),
                            note=_text(note, "note"), created_by_id=actor_id)
    milestone.pauses.append(record)
    milestone.status = PAUSED
    apply_schedule(milestone, calendar)
    return record, Tagged(action="milestone.pause", note=reason_code)


def resume(milestone: Milestone, *, resumed_on: dt.date | None, today: dt.date,
           version: int | None = None) -> Milestone:
    """Restart the clock on ``resumed_on``; the working days paused do not count."""
    calendar = _check(milestone, "resume", version)
    audit.tag(milestone, *apply_resume(milestone, resumed_on=resumed_on, today=today,
                                       calendar=calendar))
    replan(milestone.project_id, today, calendar)
    return milestone


def apply_resume(milestone, *, resumed_on: dt.date | None, today: dt.date,
                 calendar: WorkCalendar):
    check_action(milestone, "resume")
    record = _open_pause(milestone)
    if record is None:  # a paused status without an open pause: refuse rather than guess
        raise InvalidState(REFUSED["resume"], "status")
    resumed_on = _past_date(resumed_on, today, "resumed_on")
    if resumed_on < record.paused_on:
        raise DomainError(_l("The clock cannot resume before the pause began (%(date)s).",
                                date=record.paused_on.isoformat()), "resumed_on")
    record.resumed_on = resumed_on
    milestone.status = RUNNING
    apply_schedule(milestone, calendar)
    return Tagged(action="milestone.resume", note=None)


def complete(milestone: Milestone, *, completed_on: dt.date | None, today: dt.date,
             approval_doc_no: str | None = None, issuing_department: str | None = None,
             version: int | None = None, actor_id: int | None = None) -> Milestone:
    """Approved (办结) on ``completed_on``: met or missed, working days used; may advance the stage."""
    calendar = _check(milestone, "complete", version)
    audit.tag(milestone, *apply_complete(milestone, completed_on=completed_on, today=today,
                                         approval_doc_no=approval_doc_no,
                                         issuing_department=issuing_department,
                                         calendar=calendar))
    replan(milestone.project_id, today, calendar)
    signals.milestone_finished.send(milestone, milestone=milestone, actor_id=actor_id)
    return milestone


def apply_complete(milestone, *, completed_on: dt.date | None, today: dt.date,
                   approval_doc_no: str | None, issuing_department: str | None,
                   calendar: WorkCalendar):
    check_action(milestone, "complete")
    completed_on = _past_date(completed_on, today, "completed_on")
    if completed_on < milestone.accepted_on:
        raise DomainError(_l("The completion date cannot be before the acceptance date "
                                "(%(date)s).", date=milestone.accepted_on.isoformat()),
                             "completed_on")
    last = _last_resumed(milestone)
    if last is not None and completed_on < last:
        raise DomainError(_l("The completion date cannot be before the clock was last "
                                "resumed (%(date)s).", date=last.isoformat()), "completed_on")
    milestone.approval_doc_no = _text(approval_doc_no, "approval_doc_no")
    milestone.issuing_department = _text(issuing_department, "issuing_department")
    apply_schedule(milestone, calendar)
    milestone.status = DONE
    milestone.completed_on = completed_on
    milestone.outcome = sla.outcome(completed_on, milestone.due_on)
    milestone.workdays_used = sla.workdays_used(milestone.accepted_on, completed_on,
                                                _pauses(milestone), calendar)
    return Tagged(action="milestone.complete", note=milestone.outcome)


def waive(milestone: Milestone, *, reason: str | None, today: dt.date,
          version: int | None = None, actor_id: int | None = None) -> Milestone:
    """Not needed for this project (with the reason); may advance the stage."""
    _check(milestone, "waive", version)
    reason = _text(reason, "reason", _l("Give the reason for waiving this milestone."))
    record = _open_pause(milestone)
    if record is not None:
        record.resumed_on = max(today, record.paused_on)
    milestone.status = WAIVED
    milestone.waive_reason = reason
    milestone.due_on = None
    milestone.due_provisional = False
    milestone.remaining_workdays = None
    audit.tag(milestone, "milestone.waive", reason)
    replan(milestone.project_id, today)
    signals.milestone_finished.send(milestone, milestone=milestone, actor_id=actor_id)
    return milestone


def reopen(milestone: Milestone, *, reason: str | None, today: dt.date,
           version: int | None = None) -> Milestone:
    """Undo a completion or a waiver (managers): back to running, or pending if never started.

    The project's stage is not moved back; a manager does that by hand if needed.
    """
    calendar = _check(milestone, "reopen", version)
    reason = _text(reason, "reason", _l("Give the reason for reopening this milestone."))
    milestone.completed_on = None
    milestone.outcome = None
    milestone.workdays_used = None
    milestone.approval_doc_no = None
    milestone.issuing_department = None
    milestone.waive_reason = None
    milestone.notified_state = None
    if milestone.accepted_on is None:
        milestone.status = PENDING
        milestone.due_on = None
        milestone.due_provisional = False
        milestone.remaining_workdays = None
    else:
        milestone.status = PAUSED if _open_pause(milestone) else RUNNING
        apply_schedule(milestone, calendar)
    audit.tag(milestone, "milestone.reopen", reason)
    replan(milestone.project_id, today, calendar)
    return milestone


def add_custom(project: Project, *, name: str | None, stage: str | None, limit_value: int | None,
               limit_unit: str | None, department: str | None = None,
               statutory_value: int | None = None, statutory_unit: str | None = None,
               required: bool = True) -> Milestone:
    """A milestone that is not in the catalogue (a local approval, a special review...)."""
    if Stage(project.stage).order < Stage.SIGNED.order:
        raise DomainError(_l("The approval plan starts when the project is signed."), None)
    name = _text(name, "name", _l("Give the milestone a name."))
    if stage not in {s.value for s in PLAN_STAGES}:
        raise DomainError(_l("Choose a stage from the list."), "stage")
    _check_limit(limit_value, limit_unit, "limit_value", "limit_unit")
    statutory_unit = statutory_unit or LimitUnit.WORKING.value
    if statutory_value is not None:
        _check_limit(statutory_value, statutory_unit, "statutory_value", "statutory_unit")
    order = Stage(stage).order
    earlier = [s.value for s in Stage if s.order <= order]
    last = db.session.scalar(select(func.max(Milestone.sequence)).where(
        Milestone.project_id == project.id, Milestone.stage.in_(earlier))) or 0
    milestone = Milestone(
        project=project, park_id=project.park_id, approval_item_id=None, name=name,
        department=_text(department, "department"), stage=stage, sequence=last + 1,
        required=bool(required), limit_value=limit_value, limit_unit=limit_unit,
        statutory_value=statutory_value, statutory_unit=statutory_unit,
        status=PENDING,
    )
    db.session.add(milestone)
    audit.tag(milestone, "milestone.add", name)
    replan(project.id)
    return milestone


def _check_limit(value: int | None, unit: str | None, field: str, unit_field: str) -> None:
    if unit not in {u.value for u in LimitUnit}:
        raise DomainError(_l("Choose working days or calendar days."), unit_field)
    if value is None or value <= 0:
        raise DomainError(_l("The limit must be a positive number of days."), field)
    if value > MAX_LIMIT_DAYS:
        raise DomainError(_l("The limit cannot exceed %(n)d days.", n=MAX_LIMIT_DAYS), field)


# -- the project's stage ----------------------------------------------------------------------

def stage_finished(statuses: Sequence[str]) -> bool:
    """A stage is finished when every required milestone in it is done or waived."""
    return all(status in FINISHED for status in statuses)


def next_stage(stage: str, required_statuses: Sequence[str]) -> str | None:
    """The stage a project at ``stage`` moves on to when its current stage is finished
    (``required_statuses``: the statuses of the required milestones of that stage), else None.
    Stages from ``signed`` on take part; ``approved`` is the end."""
    if not Stage.SIGNED.order <= Stage(stage).order < Stage.APPROVED.order:
        return None
    if not stage_finished(required_statuses):
        return None
    return list(Stage)[Stage(stage).order + 1].value


def advance_stage(project: Project, *, actor_id: int | None = None) -> list:
    """Move the project on, stage by stage, while its current stage is finished.

    The project row is locked first (PostgreSQL; SQLite serialises writers anyway), so two
    people finishing a stage's last two milestones at once cannot both miss the advance.
    """
    db.session.refresh(project, with_for_update=True)
    changes = []
    while True:
        statuses = db.session.scalars(select(Milestone.status).where(
            Milestone.project_id == project.id, Milestone.stage == project.stage,
            Milestone.required.is_(True))).all()
        following = next_stage(project.stage, statuses)
        if following is None:
            break
        changes.append(projects.change_stage(project, following, reason=None,
                                             actor_id=actor_id, automatic=True))
    flush()
    return changes
