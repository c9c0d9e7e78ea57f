"""Supervision rounds: open one for the projects chosen by filters, take each project's report,
close it (by hand, or by itself after its due date), remind the reporters.  Flush, never
commit; every refusal is raised before anything changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, literal, select

from crm import signals
from crm.agents.models import Assignment, AssignmentRole
from crm.audit import services as audit
from crm.auth.models import Role, User
from crm.auth.scope import park_condition
from crm.db import parse_id, utcnow
from crm.errors import FORM, DomainError, InvalidState, NotFound
from crm.extensions import db
from crm.milestones.calendar import OutOfRange, WorkCalendar
from crm.parks.models import Park
from crm.projects import services as projects
from crm.projects.models import LogKind, Project, ProjectStatus, Stage
from crm.supervision import queries
from crm.supervision.models import Cadence, ReportStatus, Round, RoundReport, RoundStatus
from crm.supervision.services import problems
from crm.queue import enqueue
from crm.transaction import check_version, flush, lock, on_commit

PREPARE_JOB = "crm.supervision.jobs.prepare_round"
AUDIT_ACTIONS = {
    "round.open": _l("opened the supervision round"),
    "round.report": _l("filled the supervision report"),
    "round.close": _l("closed the supervision round"),
}
# Projects a round takes when no status is chosen: those being served.
DEFAULT_STATUSES = (ProjectStatus.ACTIVE.value,)


def _check_scope(user: User, park_id: int | None) -> None:
    if park_id is not None and parse_id(park_id) is None:
        raise NotFound(_l("Choose a park from the list."), "park_id")
    if park_id is None:
        if user.role not in (Role.ADMIN, Role.LEADER):
            raise DomainError(_l("Choose one of your parks."), "park_id")
        return
    visible = db.session.scalar(select(Park.id).where(Park.id == park_id, park_condition(user)))
    if visible is None:
        raise NotFound(_l("Choose a park from the list."), "park_id")


def _project_filter(park_id: int | None, stages: Sequence[str], statuses: Sequence[str],
                    industries: Sequence[str]) -> list:
    conditions = [Project.status.in_(list(statuses) or list(DEFAULT_STATUSES))]
    if park_id is not None:
        conditions.append(Project.park_id == park_id)
    if stages:
        conditions.append(Project.stage.in_(list(stages)))
    if industries:
        conditions.append(Project.industry.in_(list(industries)))
    return conditions


def open_round(*, user: User, title: str, cadence: str, period_start: dt.date,
               period_end: dt.date, due_on: dt.date, park_id: int | None,
               stages: Sequence[str] = (), statuses: Sequence[str] = (),
               industries: Sequence[str] = (), today: dt.date,
               calendar: WorkCalendar) -> Round:
    """Open a round: one ``missing`` report per chosen project, owed by its lead agent.

    A due date that is not a working day moves to the next working day.  Bulk: one
    INSERT ... SELECT whatever the number of projects; above ``ROUND_OPEN_INLINE_MAX`` projects
    a worker runs it once this transaction commits (``prepare_reports``), the round showing
    as being prepared until then.
    """
    title = (title or "").strip()
    if not title:
        raise DomainError(_l("Give the round a title."), "title")
    if cadence not in {c.value for c in Cadence}:
        raise DomainError(_l("Choose a cadence from the list."), "cadence")
    if period_start > period_end:
        raise DomainError(_l("The period must end on or after its first day."), "period_end")
    if due_on < today:
        raise DomainError(_l("The due date is in the past."), "due_on")
    try:
        due_on = calendar.next_workday(due_on)
    except OutOfRange:
        raise DomainError(_l("Choose a date between 2000 and 2100."), "due_on") from None
    _check_scope(user, park_id)
    if any(s not in {x.value for x in Stage} for s in stages):
        raise DomainError(_l("Choose stages from the list."), "stages")
    if any(s not in {x.value for x in ProjectStatus} for s in statuses):
        raise DomainError(_l("Choose statuses from the list."), "statuses")
    conditions = _project_filter(park_id, stages, statuses, industries)
    count = db.session.scalar(select(db.func.count(Project.id)).where(*conditions))
    if not count:
        raise DomainError(_l("No project matches these filters: choose other filters."), FORM)
    previous_id = db.session.scalar(
        select(Round.id).where(Round.park_id.is_(None) if park_id is None
                               else Round.park_id == park_id)
        .order_by(Round.opened_on.desc(), Round.id.desc()).limit(1))
    round_ = Round(title=title, cadence=cadence, park_id=park_id,
                   filters={"stages": list(stages), "statuses": list(statuses),
                            "industries": list(industries)},
                   period_start=period_start, period_end=period_end, opened_on=today,
                   due_on=due_on, status=RoundStatus.OPEN.value,
                   project_count=count, previous_id=previous_id, opened_by_id=user.id)
    db.session.add(round_)
    audit.tag(round_, "round.open")
    if count > current_app.config["ROUND_OPEN_INLINE_MAX"]:
        round_.reports_ready = False
        flush()
        round_id = round_.id
        on_commit(lambda: enqueue(PREPARE_JOB, round_id))
        return round_
    flush()
    _write_reports(round_)
    return round_


def _write_reports(round_: Round) -> int:
    """The round's reports, one per project its filters choose, then the reporters told."""
    filters = round_.filters or {}
    conditions = _project_filter(round_.park_id, filters.get("stages", ()),
                                 filters.get("statuses", ()), filters.get("industries", ()))
    lead_agent = (select(Assignment.staff_id)
                  .where(Assignment.project_id == Project.id, Assignment.ended_at.is_(None),
                         Assignment.role == AssignmentRole.LEAD_AGENT.value)
                  .correlate(Project).limit(1).scalar_subquery())
    db.session.execute(insert(RoundReport).from_select(
        ["round_id", "project_id", "park_id", "reporter_staff_id", "stage_at_open", "status",
         "version"],
        select(literal(round_.id), Project.id, Project.park_id, lead_agent, Project.stage,
               literal(ReportStatus.MISSING.value), literal(1)).where(*conditions)))
    round_.reports_ready = True
    signals.round_opened.send(round_, round=round_)
    # (not the INSERT's rowcount: psycopg reports -1 for INSERT ... SELECT here)
    return db.session.scalar(select(db.func.count(RoundReport.id))
                             .where(RoundReport.round_id == round_.id))


def prepare_reports(round_: Round) -> bool:
    """Write the reports of a round opened for a worker to fill (once: False when another run
    did it, or the round was closed meanwhile).  The project count is what was written."""
    lock(round_)
    if round_.reports_ready or not round_.is_open:
        return False
    round_.project_count = _write_reports(round_)
    flush()
    return True


def preparing_rounds(older_than: dt.datetime) -> list[Round]:
    """Rounds still waiting for their reports since before ``older_than`` (a lost job)."""
    return list(db.session.scalars(select(Round).where(
        Round.reports_ready.is_(False), Round.status == RoundStatus.OPEN.value,
        Round.created_at < older_than)))


def check_period_investment(report: RoundReport, amount: int | None, field: str) -> None:
    """An amount invested in the round's period: not negative, and with the project's earlier
    reports (this one's previous figure aside) not more than its total investment."""
    if amount is None:
        return
    if amount < 0:
        raise DomainError(_l("The investment completed cannot be negative."), field)
    so_far = queries.cumulative_investment(report.project_id, excluding_report=report.id)
    if so_far + amount > report.project.investment:
        raise DomainError(
            _l("With this period the project would have invested %(done)s 万元, more "
               "than its total investment of %(total)s 万元.",
               done=so_far + amount, total=report.project.investment), field)


def submit_report(report: RoundReport, *, user: User, progress: str, next_steps: str | None,
                  investment_completed: int | None, stage_reached: str,
                  problem_text: str | None = None, problem_department: str | None = None,
                  problem_level: str = "park", expected_version: int | None = None, today: dt.date,
                  calendar: WorkCalendar) -> RoundReport:
    """Fill (or correct, while the round is open) a project's report.  A problem named in it
    is logged as a blocker of the project and raised to its department."""
    lock(report.round)
    if not report.round.is_open:
        raise InvalidState(_l("This round is closed: its reports can no longer change."))
    check_version(report, expected_version)
    progress = (progress or "").strip()
    if not progress:
        raise DomainError(_l("Say what progress the project made in this period."), "progress")
    check_period_investment(report, investment_completed, "investment_completed")
    if stage_reached not in {s.value for s in Stage}:
        raise DomainError(_l("Choose a stage from the list."), "stage_reached")
    if Stage(stage_reached).order < Stage(report.stage_at_open).order:
        raise DomainError(_l("The stage reached cannot be before the stage the project had "
                             "when the round opened."), "stage_reached")
    problem_text = (problem_text or "").strip()
    if problem_text:
        problems.check_department(problem_department)
        problems.check_level(problem_level)
    report.progress = progress
    report.next_steps = (next_steps or "").strip() or None
    report.investment_completed = investment_completed
    report.stage_reached = stage_reached
    report.status = ReportStatus.FILLED.value
    report.submitted_on = today
    report.submitted_at = utcnow()
    report.submitted_by_id = user.id
    audit.tag(report, "round.report")
    flush()
    if problem_text:
        blocker = projects.add_log(report.project, author_id=user.id, kind=LogKind.BLOCKER.value,
                                   happened_on=today, text=problem_text)
        problems.raise_problem(blocker, department=problem_department, level=problem_level,
                               actor_id=user.id,
                               round_id=report.round_id, today=today, calendar=calendar)
    return report


def close_round(round_: Round, *, user: User | None, expected_version: int | None = None) -> Round:
    """Close a round: its reports are final and its report (PDF and workbook) is made."""
    lock(round_)
    if not round_.is_open:
        raise InvalidState(_l("This round is already closed."))
    if round_.preparing:
        raise InvalidState(_l("The round's reports are still being prepared: close it once "
                              "they are."))
    check_version(round_, expected_version)
    round_.status = RoundStatus.CLOSED.value
    round_.closed_at = utcnow()
    round_.closed_by_id = getattr(user, "id", None)
    audit.tag(round_, "round.close")
    flush()
    signals.round_closed.send(round_, round=round_, user=user)
    return round_


def close_due(today: dt.date, calendar: WorkCalendar) -> list[Round]:
    """Close the open rounds whose due date passed more than ROUND_CLOSE_AFTER_WORKDAYS
    working days ago (periodic)."""
    grace = current_app.config["ROUND_CLOSE_AFTER_WORKDAYS"]
    closed = []
    for round_ in db.session.scalars(select(Round).where(Round.status == RoundStatus.OPEN.value,
                                                         Round.reports_ready.is_(True),
                                                         Round.due_on < today)):
        if calendar.add_workdays(round_.due_on, grace) < today:
            closed.append(close_round(round_, user=None))
    return closed


def remind(today: dt.date, calendar: WorkCalendar) -> list[tuple[Round, str, dict[int, int]]]:
    """Once per round: the working day before the due date, the reporters still owing a report
    are reminded; the working day after it, told they are late.  (round, "due" | "late",
    {user id: reports owed}) for each reminder sent."""
    sent = []
    for round_ in db.session.scalars(select(Round).where(Round.status == RoundStatus.OPEN.value,
                                                         Round.reports_ready.is_(True))
                                     .order_by(Round.id)):
        if round_.late_notice_on is None and today > round_.due_on:
            kind, round_.late_notice_on = "late", today
        elif round_.reminded_on is None and calendar.add_workdays(today, 1) >= round_.due_on:
            kind, round_.reminded_on = "due", today
        else:
            continue
        owed = queries.missing_reporters(round_.id)
        if owed:
            sent.append((round_, kind, owed))
    db.session.flush()
    for round_, kind, owed in sent:
        signals.round_reports_due.send(round_, round=round_, kind=kind, owed=owed)
    return sent
