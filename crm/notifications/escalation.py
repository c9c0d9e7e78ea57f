"""The escalation ladder (ALERT_ESCALATION, in working days): a running milestone overdue by
N working days, or a blocker open for N, is escalated to the step's audience, once per subject
and step (``Escalation`` rows, unique).  The steps taken are shown on the project's page.

Audiences: ``owner`` (the milestone's owner, else the lead agent, and the chief consultant),
``park_manager`` (the park's managers), ``city`` (the leaders of the city bureau).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import and_, exists, insert, select

from crm.agents.models import Assignment, AssignmentRole
from crm.auth.models import Role, User
from crm.db import utcnow
from crm.extensions import db
from crm.milestones.models import Milestone
from crm.milestones.queries import RUNNING
from crm.notifications import outbox, schedule
from crm.notifications.models import Escalation
from crm.notifications.outbox import Alert
from crm.notifications.services import park_managers, summary
from crm.projects.models import ProgressLog, Project

MILESTONE, BLOCKER = "milestone", "blocker"
OWNER, PARK_MANAGER, CITY = "owner", "park_manager", "city"
_CHUNK = 500


@dataclass(frozen=True)
class Subject:
    kind: str  # milestone | blocker
    id: int
    project_id: int
    project_name: str
    park_id: int
    workdays: int  # late / open
    name: str  # the milestone's name, or the blocker's summary
    due_on: dt.date | None
    owner_staff_id: int | None


@dataclass(frozen=True)
class EscalationResult:
    steps: int
    notifications: int


def ladder(kind: str) -> dict[int, str]:
    """{working days: audience} of a subject kind, from the configuration."""
    return {int(days): audience
            for days, audience in current_app.config["ALERT_ESCALATION"].get(kind, [])}


def _not_fully_escalated(kind: str, id_column, last_step: int):
    return ~exists().where(Escalation.subject == kind, Escalation.subject_id == id_column,
                           Escalation.step == last_step)


def _late_milestones(today: dt.date, calendar, steps: dict[int, str]) -> list[Subject]:
    if not steps:
        return []
    rows = db.session.execute(
        select(Milestone.id, Milestone.name, Milestone.due_on, Milestone.project_id,
               Milestone.park_id, Milestone.owner_staff_id, Project.name)
        .join(Project, Project.id == Milestone.project_id)
        .where(Milestone.status == RUNNING, Milestone.due_on < today,
               _not_fully_escalated(MILESTONE, Milestone.id, max(steps))))
    return [Subject(MILESTONE, mid, project_id, project_name, park_id,
                    calendar.workdays_between(due_on, today), name, due_on, owner)
            for mid, name, due_on, project_id, park_id, owner, project_name in rows]


def _standing_blockers(today: dt.date, calendar, steps: dict[int, str]) -> list[Subject]:
    if not steps:
        return []
    zone = outbox.zone()
    rows = db.session.execute(
        select(ProgressLog.id, ProgressLog.text, ProgressLog.created_at, ProgressLog.project_id,
               Project.park_id, Project.name)
        .join(Project, Project.id == ProgressLog.project_id)
        .where(ProgressLog.is_open_blocker,
               _not_fully_escalated(BLOCKER, ProgressLog.id, max(steps))))
    subjects = []
    for log_id, text, created_at, project_id, park_id, project_name in rows:
        opened = created_at.astimezone(zone).date()
        if opened < today:
            subjects.append(Subject(BLOCKER, log_id, project_id, project_name, park_id,
                                    calendar.workdays_between(opened, today), summary(text),
                                    None, None))
    return subjects


def _fired(kind: str, ids: list[int]) -> set[tuple[int, int]]:
    fired: set[tuple[int, int]] = set()
    for start in range(0, len(ids), _CHUNK):
        fired.update(db.session.execute(select(Escalation.subject_id, Escalation.step).where(
            Escalation.subject == kind, Escalation.subject_id.in_(ids[start:start + _CHUNK]))))
    return fired


def _people(project_ids: list[int], staff_ids: list[int]):
    """(user of each staff member, {project: [consultant's and lead agent's users]})."""
    users: dict[int, int] = {}
    for start in range(0, len(staff_ids), _CHUNK):
        users.update(db.session.execute(select(User.staff_id, User.id).where(
            User.staff_id.in_(staff_ids[start:start + _CHUNK]), User.active.is_(True))).all())
    serving: dict[int, dict[str, int]] = defaultdict(dict)
    for start in range(0, len(project_ids), _CHUNK):
        for project_id, role, user_id in db.session.execute(
            select(Assignment.project_id, Assignment.role, User.id)
            .join(User, and_(User.staff_id == Assignment.staff_id, User.active.is_(True)))
            .where(Assignment.project_id.in_(project_ids[start:start + _CHUNK]),
                   Assignment.ended_at.is_(None),
                   Assignment.role.in_([AssignmentRole.CONSULTANT.value,
                                        AssignmentRole.LEAD_AGENT.value]))):
            serving[project_id][role] = user_id
    return users, serving


def escalate(today: dt.date, calendar) -> EscalationResult:
    """Take every ladder step reached and not yet taken.  Flushes (bulk), never commits."""
    ladders = {MILESTONE: ladder(MILESTONE), BLOCKER: ladder(BLOCKER)}
    subjects = (_late_milestones(today, calendar, ladders[MILESTONE])
                + _standing_blockers(today, calendar, ladders[BLOCKER]))
    due: list[tuple[Subject, int, str]] = []
    for kind in (MILESTONE, BLOCKER):
        mine = [s for s in subjects if s.kind == kind]
        fired = _fired(kind, [s.id for s in mine])
        for subject in mine:
            for step in schedule.steps_reached(subject.workdays, sorted(ladders[kind])):
                if (subject.id, step) not in fired:
                    due.append((subject, step, ladders[kind][step]))
    if not due:
        return EscalationResult(0, 0)
    audiences = {audience for _s, _step, audience in due}
    users, serving = (_people(sorted({s.project_id for s, _st, _a in due}),
                              sorted({s.owner_staff_id for s, _st, _a in due
                                      if s.owner_staff_id}))
                      if OWNER in audiences else ({}, {}))
    managers = (park_managers(s.park_id for s, _st, _a in due)
                if PARK_MANAGER in audiences else {})
    leaders = (list(db.session.scalars(select(User.id).where(
        User.role == Role.LEADER.value, User.active.is_(True)))) if CITY in audiences else [])
    now = utcnow()
    alerts, rows = [], []
    for subject, step, audience in due:
        if audience == OWNER:
            people = serving.get(subject.project_id, {})
            chaser = users.get(subject.owner_staff_id) or people.get(
                AssignmentRole.LEAD_AGENT.value)
            recipients = [chaser, people.get(AssignmentRole.CONSULTANT.value)]
        elif audience == PARK_MANAGER:
            recipients = managers.get(subject.park_id, [])
        else:
            recipients = leaders
        if subject.kind == MILESTONE:
            alerts.append(Alert(recipients, "milestone_escalated",
                                {"milestone": subject.name, "project": subject.project_name,
                                 "days": subject.workdays, "due": subject.due_on.isoformat()},
                                f"/projects/{subject.project_id}#milestone-{subject.id}",
                                subject.project_id, subject.park_id))
        else:
            alerts.append(Alert(recipients, "blocker_escalated",
                                {"project": subject.project_name, "days": subject.workdays,
                                 "summary": subject.name},
                                f"/projects/{subject.project_id}#log-{subject.id}",
                                subject.project_id, subject.park_id))
        rows.append(dict(subject=subject.kind, subject_id=subject.id, step=step,
                         audience=audience, project_id=subject.project_id, fired_at=now))
    db.session.execute(insert(Escalation), rows)
    return EscalationResult(len(rows), outbox.record(alerts, now=now))
