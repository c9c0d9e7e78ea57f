"""The SLA sweep: running milestones that became due soon or overdue since the last sweep
notify their owner (the owner's user, else the project's lead agent's user) and the park's
managers, once per state (``Milestone.notified_state`` remembers what was announced).

A constant number of queries whatever the number of milestones: one to find them, three to
find the recipients, then inserts and one update per state.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import or_, select, update

from crm.agents.models import Assignment, AssignmentRole
from crm.auth.models import Role, User, user_parks
from crm.extensions import db
from crm.milestones import sla
from crm.milestones.lifecycle import RUNNING
from crm.milestones.models import Milestone
from crm.milestones.services import warning_workdays, work_calendar
from crm.notifications.services import notify
from crm.projects.models import Project

DUE_SOON, OVERDUE = "due_soon", "overdue"
KINDS = {DUE_SOON: "milestone_due_soon", OVERDUE: "milestone_overdue"}
_CHUNK = 500


@dataclass(frozen=True)
class SweepResult:
    milestones: int  # milestones announced
    notifications: int  # notifications recorded


def sweep(today: dt.date) -> SweepResult:
    """Announce every running milestone whose SLA state became due_soon or overdue.  Flushes."""
    calendar = work_calendar()
    threshold = warning_workdays()
    # A running milestone is due soon or overdue exactly when it is due before this day.
    horizon = calendar.add_workdays(today, threshold + 1)
    running = Milestone.__table__.c
    # Milestones back on track (a later due date, a calendar change) may be announced again.
    db.session.execute(update(Milestone.__table__).where(
        running.status == RUNNING, running.due_on >= horizon, running.notified_state.is_not(None)
    ).values(notified_state=None))
    rows = db.session.execute(
        select(Milestone.id, Milestone.name, Milestone.due_on, Milestone.project_id,
               Milestone.park_id, Milestone.owner_staff_id, Milestone.notified_state,
               Project.name.label("project_name"))
        .join(Project, Project.id == Milestone.project_id)
        .where(Milestone.status == RUNNING, Milestone.due_on.is_not(None),
               Milestone.due_on < horizon,
               or_(Milestone.notified_state.is_(None), Milestone.notified_state != OVERDUE))
        .order_by(Milestone.due_on, Milestone.id)
    ).all()
    announce = []
    for row in rows:
        state = sla.state(sla.MilestoneFacts(RUNNING, row.due_on), today, calendar, threshold)
        if state in KINDS and state != row.notified_state:
            announce.append((row, state))
    if not announce:
        return SweepResult(0, 0)
    owners, leads, managers = _recipients([row for row, _ in announce])
    sent = 0
    by_state: dict[str, list[int]] = defaultdict(list)
    for row, state in announce:
        chaser = owners.get(row.owner_staff_id) or leads.get(row.project_id)
        recipients = ([chaser] if chaser else []) + managers.get(row.park_id, [])
        sent += notify(recipients, KINDS[state],
                       {"milestone": row.name, "project": row.project_name,
                        "due": row.due_on.isoformat()},
                       link=f"/projects/{row.project_id}#milestone-{row.id}",
                       project_id=row.project_id)
        by_state[state].append(row.id)
    for state, ids in by_state.items():
        for start in range(0, len(ids), _CHUNK):
            db.session.execute(update(Milestone.__table__).where(
                running.id.in_(ids[start:start + _CHUNK]), running.status == RUNNING
            ).values(notified_state=state))
    return SweepResult(len(announce), sent)


def _recipients(rows) -> tuple[dict[int, int], dict[int, int], dict[int, list[int]]]:
    """(owner staff id -> user id, project id -> lead agent's user id, park id -> managers)."""
    staff_ids = sorted({r.owner_staff_id for r in rows if r.owner_staff_id})
    project_ids = sorted({r.project_id for r in rows})
    park_ids = sorted({r.park_id for r in rows})
    owners = dict(db.session.execute(select(User.staff_id, User.id).where(
        User.staff_id.in_(staff_ids), User.active.is_(True))).all()) if staff_ids else {}
    leads = dict(db.session.execute(
        select(Assignment.project_id, User.id)
        .join(User, User.staff_id == Assignment.staff_id)
        .where(Assignment.project_id.in_(project_ids), Assignment.ended_at.is_(None),
               Assignment.role == AssignmentRole.LEAD_AGENT.value, User.active.is_(True))
    ).all())
    managers: dict[int, list[int]] = defaultdict(list)
    for park_id, user_id in db.session.execute(
        select(user_parks.c.park_id, User.id).join(User, User.id == user_parks.c.user_id)
        .where(user_parks.c.park_id.in_(park_ids), User.role == Role.PARK_MANAGER.value,
               User.active.is_(True)).order_by(User.id)
    ):
        managers[park_id].append(user_id)
    return owners, leads, managers
