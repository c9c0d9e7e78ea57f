"""The SLA sweep: running milestones that became due soon or overdue since the last sweep are
announced (``signals.milestones_due``; the workflows notify their owner and the park's
managers), once per state (``Milestone.notified_state`` remembers what was announced).

A constant number of queries whatever the number of milestones: one to find them, then one
update per state (the receivers add a few to find recipients).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import or_, select, update

from crm import signals
from crm.extensions import db
from crm.milestones import sla
from crm.milestones.models import Milestone
from crm.milestones.queries import RUNNING, due_soon_before, warning_workdays, work_calendar
from crm.projects.models import Project

DUE_SOON, OVERDUE = "due_soon", "overdue"
_CHUNK = 500


@dataclass(frozen=True)
class MilestoneDue:
    """A milestone to announce: what a message about it needs."""

    id: int
    name: str
    due_on: dt.date
    project_id: int
    park_id: int
    owner_staff_id: int | None
    project_name: str


@dataclass(frozen=True)
class SweepResult:
    milestones: int  # milestones announced
    notifications: int  # notifications recorded


def sweep(today: dt.date) -> SweepResult:
    """Announce every running milestone whose SLA state became due_soon or overdue.  Flushes."""
    calendar = work_calendar()
    threshold = warning_workdays()
    # A running milestone is due soon or overdue exactly when it is due before this day.
    horizon = due_soon_before(today, calendar, threshold)
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
        if state in (DUE_SOON, OVERDUE) and state != row.notified_state:
            announce.append((MilestoneDue(row.id, row.name, row.due_on, row.project_id,
                                          row.park_id, row.owner_staff_id, row.project_name),
                             state))
    if not announce:
        return SweepResult(0, 0)
    by_state: dict[str, list[int]] = defaultdict(list)
    for row, state in announce:
        by_state[state].append(row.id)
    for state, ids in by_state.items():
        for start in range(0, len(ids), _CHUNK):
            db.session.execute(update(Milestone.__table__).where(
                running.id.in_(ids[start:start + _CHUNK]), running.status == RUNNING
            ).values(notified_state=state))
    replies = signals.milestones_due.send(None, rows=announce)
    sent = sum(value for _receiver, value in replies if isinstance(value, int))
    return SweepResult(len(announce), sent)
