"""What the project page's milestone timeline shows: each milestone in plan order with its SLA
state, due date (and whether it is provisional), working days left, owner, pause history and
the actions the viewer may take.  A constant number of queries whatever the plan's size."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from crm.agents.models import Assignment, AssignmentRole, Staff
from crm.auth.permissions import Action, can
from crm.extensions import db
from crm.i18n import today as local_today
from crm.milestones import sla
from crm.milestones.lifecycle import PAUSED, RUNNING, allowed_actions
from crm.milestones.models import Milestone, MilestonePause
from crm.milestones.services import warning_workdays, work_calendar
from crm.projects.models import Stage

_DAY = dt.timedelta(days=1)

# Badge colour of each SLA state.
STATE_COLOURS = {"on_track": "success", "met": "success", "due_soon": "warning",
                 "overdue": "danger", "missed": "danger", "pending": "secondary",
                 "paused": "secondary", "waived": "secondary"}


@dataclass(frozen=True)
class PauseRow:
    pause: MilestonePause
    workdays: int | None  # working days stopped (None while open)


@dataclass(frozen=True)
class TimelineRow:
    milestone: Milestone
    state: str
    colour: str
    remaining: int | None  # working days left (frozen while paused; None when not running)
    owner_name: str | None
    owner_is_lead: bool  # no owner set: the project's lead agent chases it
    pauses: list[PauseRow]
    actions: list[str]
    saved: int | None  # done: working days saved against the statutory limit


def sla_state(milestone: Milestone, today: dt.date, calendar, threshold: int) -> str:
    """The SLA state shown to users; a finished milestone keeps its stored outcome."""
    if milestone.status == "done" and milestone.outcome:
        return milestone.outcome
    return sla.state(sla.MilestoneFacts(milestone.status, milestone.due_on, milestone.completed_on),
                     today, calendar, threshold)


def timeline(project, user, today: dt.date | None = None) -> dict:
    """The panel's context: rows, whether the viewer may add a milestone, provisional years."""
    today = today or local_today()
    calendar = work_calendar()
    threshold = warning_workdays()
    milestones = db.session.scalars(
        select(Milestone).where(Milestone.project_id == project.id)
        .options(selectinload(Milestone.pauses), joinedload(Milestone.owner))
        .order_by(Milestone.sequence, Milestone.id)
    ).unique().all()
    lead = db.session.scalar(
        select(Staff.name).join(Assignment, Assignment.staff_id == Staff.id)
        .where(Assignment.project_id == project.id, Assignment.ended_at.is_(None),
               Assignment.role == AssignmentRole.LEAD_AGENT.value))
    rows = []
    for m in milestones:
        state = sla_state(m, today, calendar, threshold)
        if m.status == RUNNING and m.due_on is not None:
            remaining = sla.remaining_workdays(m.due_on, today, calendar)
        elif m.status == PAUSED:
            remaining = m.remaining_workdays
        else:
            remaining = None
        pauses = [PauseRow(p, None if p.resumed_on is None else calendar.workdays_between(
                           p.paused_on - _DAY, p.resumed_on - _DAY)) for p in m.pauses]
        rows.append(TimelineRow(
            milestone=m, state=state, colour=STATE_COLOURS.get(state, "secondary"),
            remaining=remaining, owner_name=m.owner.name if m.owner else lead,
            owner_is_lead=m.owner is None and lead is not None, pauses=pauses,
            actions=allowed_actions(m, user), saved=_saved(m, calendar),
        ))
    unpublished = sorted({
        year for m in milestones if m.due_provisional and m.accepted_on
        for year in range(m.accepted_on.year, (m.due_on.year if m.due_on else today.year + 1) + 1)
        if year not in calendar.published_years})
    return {
        "project_id": project.id,
        "rows": rows,
        "today": today,
        "threshold": threshold,
        "can_add": can(user, Action.MILESTONE_UPDATE)
        and Stage(project.stage).order >= Stage.SIGNED.order,
        "provisional": any(m.due_provisional for m in milestones),
        "unpublished_years": unpublished,
    }


def _saved(m: Milestone, calendar) -> int | None:
    if m.status != "done" or m.workdays_used is None or not m.statutory_value or not m.accepted_on:
        return None
    return sla.time_saved(m.accepted_on, m.statutory_value, m.statutory_unit, m.workdays_used,
                          calendar)
