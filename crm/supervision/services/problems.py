"""Coordination problems (问题处理) and the meetings that decide them: raise an open blocker to
a department, escalate the overdue ones a level, resolve them (closing the blocker with the
decision), record a meeting.  Flush, never commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crm import signals
from crm.audit import services as audit
from crm.auth.scope import visible_park_ids
from crm.db import parse_id, utcnow
from crm.auth.models import Role, User
from crm.errors import DomainError, InvalidState, NotFound
from crm.extensions import db
from crm.milestones.calendar import WorkCalendar
from crm.projects import services as projects
from crm.projects.models import ProgressLog
from crm.supervision import queries
from crm.supervision.models import Meeting, Problem, ProblemLevel, ProblemStatus
from crm.transaction import check_version, flush, lock

AUDIT_ACTIONS = {
    "problem.raise": _l("raised the blocker to a department"),
    "problem.escalate": _l("escalated the overdue problem"),
    "problem.resolve": _l("resolved the problem"),
    "problem.update": _l("changed the problem's department, owner or due date"),
    "meeting.record": _l("recorded the coordination meeting"),
}
LEVELS = tuple(level.value for level in ProblemLevel)
MAX_DUE_WORKDAYS = 120


def next_level(level: str) -> str | None:
    """The level an overdue problem escalates to (None: the city is the top)."""
    index = LEVELS.index(level)
    return LEVELS[index + 1] if index + 1 < len(LEVELS) else None


def due_workdays(level: str) -> int:
    return int(current_app.config["PROBLEM_DUE_WORKDAYS"][level])


def check_department(department: str | None) -> str:
    if not department or department not in queries.departments():
        raise DomainError(_l("Choose a department from the list."), "department")
    return department


def check_level(level: str | None) -> str:
    if level not in LEVELS:
        raise DomainError(_l("Choose a level from the list."), "level")
    return level


def _check_owner(owner_id: int | None, park_id: int) -> None:
    if owner_id is not None and owner_id not in {uid for uid, _ in queries.owner_choices(park_id)}:
        raise DomainError(_l("Choose the owner from the list."), "owner_id")


def _check_due(due_days: int | None) -> None:
    if due_days is not None and not 1 <= due_days <= MAX_DUE_WORKDAYS:
        raise DomainError(_l("Give between 1 and %(max)s working days.", max=MAX_DUE_WORKDAYS),
                          "due_days")


def raise_problem(blocker: ProgressLog, *, department: str | None, level: str = "park",
                  owner_id: int | None = None, due_days: int | None = None,
                  actor_id: int | None, round_id: int | None = None, today: dt.date,
                  calendar: WorkCalendar) -> Problem:
    """Take an open blocker to a department for coordination, due in working days."""
    lock(blocker)
    if not blocker.is_open_blocker:
        raise InvalidState(_l("Only an open blocker can be raised as a problem."))
    existing = db.session.scalar(select(Problem.id).where(Problem.blocker_id == blocker.id))
    if existing is not None:
        raise InvalidState(_l("This blocker was already raised as problem #%(id)s.", id=existing))
    check_department(department)
    check_level(level)
    _check_owner(owner_id, blocker.park_id)
    _check_due(due_days)
    problem = Problem(project_id=blocker.project_id, park_id=blocker.park_id,
                      blocker_id=blocker.id, round_id=round_id, summary=blocker.text,
                      department=department, level=level, owner_id=owner_id, raised_on=today,
                      due_on=calendar.add_workdays(today, due_days or due_workdays(level)),
                      status=ProblemStatus.OPEN.value, raised_by_id=actor_id)
    db.session.add(problem)
    audit.tag(problem, "problem.raise")
    db.session.flush()
    signals.problems_changed.send(problem, problems=[problem], event="raised")
    return problem


def update_problem(problem: Problem, *, department: str, owner_id: int | None,
                   due_on: dt.date, expected_version: int | None, today: dt.date) -> Problem:
    lock(problem)
    if not problem.is_open:
        raise InvalidState(_l("This problem is resolved."))
    check_version(problem, expected_version)
    check_department(department)
    _check_owner(owner_id, problem.park_id)
    if due_on < today:
        raise DomainError(_l("The due date is in the past."), "due_on")
    problem.department, problem.owner_id, problem.due_on = department, owner_id, due_on
    audit.tag(problem, "problem.update")
    flush()
    return problem


def resolve(problem: Problem, *, decision: str, actor_id: int | None,
            expected_version: int | None = None) -> Problem:
    """Resolve a problem with the decision; its blocker closes with the same note."""
    lock(problem)
    if not problem.is_open:
        raise InvalidState(_l("This problem is already resolved."))
    check_version(problem, expected_version)
    decision = (decision or "").strip()
    if not decision:
        raise DomainError(_l("Say what was decided."), "decision")
    problem.status = ProblemStatus.RESOLVED.value
    problem.resolution = decision
    problem.resolved_at = utcnow()
    problem.resolved_by_id = actor_id
    audit.tag(problem, "problem.resolve")
    flush()
    blocker = problem.blocker
    if blocker is not None and blocker.is_open_blocker:
        projects.close_blocker(blocker, actor_id=actor_id, note=decision)
    return problem


def escalate_overdue(today: dt.date, calendar: WorkCalendar) -> list[Problem]:
    """Every open problem past its due date goes one level up (park -> district -> city), due
    again in that level's working days.  Periodic; a city-level problem stays where it is."""
    if not current_app.config["PROBLEM_ESCALATE"]:
        return []
    escalated = []
    for problem in db.session.scalars(
            select(Problem).where(queries.overdue_condition(today),
                                  Problem.level != ProblemLevel.CITY.value)
            .options(joinedload(Problem.project)).order_by(Problem.id)):
        problem.level = next_level(problem.level)
        problem.due_on = calendar.add_workdays(today, due_workdays(problem.level))
        problem.escalated_on = today
        audit.tag(problem, "problem.escalate")
        escalated.append(problem)
    db.session.flush()
    if escalated:
        signals.problems_changed.send(None, problems=escalated, event="escalated")
    return escalated


def record_meeting(*, user: User, park_id: int | None, held_on: dt.date, title: str,
                   attendees: str, decisions: str, problem_ids: Sequence[int],
                   resolve_problems: bool, today: dt.date) -> Meeting:
    """Record a coordination meeting and the problems it took; with ``resolve_problems``,
    its decisions resolve them."""
    if held_on > today:
        raise DomainError(_l("Record a meeting once it has been held: the date is in the "
                             "future."), "held_on")
    for field, value in (("title", title), ("attendees", attendees), ("decisions", decisions)):
        if not (value or "").strip():
            raise DomainError(_l("This field is required."), field)
    if park_id is None and user.role not in (Role.ADMIN, Role.LEADER):
        raise DomainError(_l("Choose one of your parks."), "park_id")
    if park_id is not None and (parse_id(park_id) is None
                                or park_id not in visible_park_ids(user)):
        raise NotFound(_l("Choose a park from the list."), "park_id")
    wanted = sorted(set(problem_ids))
    if any(parse_id(i) is None for i in wanted):
        raise DomainError(_l("Choose open problems from the list."), "problem_ids")
    found = list(db.session.scalars(select(Problem).where(
        Problem.id.in_(wanted), queries.problem_condition(user),
        Problem.status == ProblemStatus.OPEN.value,
        *([Problem.park_id == park_id] if park_id is not None else []))))
    if len(found) != len(wanted):
        raise DomainError(_l("Choose open problems from the list."), "problem_ids")
    if resolve_problems and not found:
        raise DomainError(_l("Choose the problems the decisions resolve."), "problem_ids")
    meeting = Meeting(park_id=park_id, held_on=held_on, title=title.strip(),
                      attendees=attendees.strip(), decisions=decisions.strip(),
                      created_by_id=user.id, problems=found)
    db.session.add(meeting)
    audit.tag(meeting, "meeting.record")
    db.session.flush()
    if resolve_problems:
        for problem in found:
            resolve(problem, decision=meeting.decisions, actor_id=user.id)
    return meeting
