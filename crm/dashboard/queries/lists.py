"""The dashboards' lists and the drill-down lists behind every figure.

Each list is one query (rows with their project, park and responsible person joined in), cut
to a page; ``where`` is any SQL condition on milestones or logs (the viewer's scope, a park,
a slice).  The PDF summary uses the same queries.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased

from crm.agents.models import Assignment, AssignmentRole, Staff
from crm.auth.models import User
from crm.dashboard.queries.figures import Slice
from crm.extensions import db
from crm.milestones import sla
from crm.milestones.calendar import WorkCalendar
from crm.milestones.models import Milestone
from crm.milestones.queries import STATES as MILESTONE_STATES  # noqa: F401  (the drill-downs' tabs)
from crm.milestones.queries import state_condition
from crm.parks.models import Park
from crm.portal.models import DIMENSIONS, SATISFIED, Rating
from crm.projects.models import ProgressLog, Project
from crm.projects.queries import open_blocker_condition


class MilestoneRow(NamedTuple):
    milestone_id: int
    project_id: int
    project: str
    park: str
    item: str
    stage: str
    status: str
    outcome: str | None
    due_on: dt.date | None
    completed_on: dt.date | None
    workdays_used: int | None
    statutory_value: int | None
    statutory_unit: str
    responsible: str | None  # the milestone's owner, else the project's lead agent
    late: int | None = None  # working days past due (sla.workdays_late): overdue or missed


class LogRow(NamedTuple):
    log_id: int
    project_id: int
    project: str
    park: str
    kind: str
    happened_on: dt.date
    text: str
    author: str | None
    created_at: dt.datetime


def milestone_state_condition(state: str, today: dt.date, calendar: WorkCalendar,
                              period_days: int):
    """The milestones in ``state``: milestones.queries.state_condition, the one definition."""
    return state_condition(state, today, calendar, period_days=period_days)


def _milestone_order(state: str):
    if state in ("met", "missed", "finished"):
        return (Milestone.completed_on.desc(), Milestone.id.desc())
    if state == "paused":
        return (Milestone.updated_at, Milestone.id)
    return (Milestone.due_on, Milestone.id)


def milestones(condition, state: str, *, today: dt.date, calendar: WorkCalendar, limit: int,
               offset: int = 0, slice_: Slice | None = None) -> list[MilestoneRow]:
    """Milestones matching ``condition`` (a state condition and the scope), most urgent first:
    overdue by working days overdue (oldest due date first), finished newest first; each with
    how many working days it is late (``sla.workdays_late``: to today while running, to the
    completion when missed, None when it is not late)."""
    owner = aliased(Staff)
    lead = aliased(Staff)
    query = (
        select(Milestone.id, Milestone.project_id, Project.name, Park.short_name, Milestone.name,
               Milestone.stage, Milestone.status, Milestone.outcome, Milestone.due_on,
               Milestone.completed_on, Milestone.workdays_used, Milestone.statutory_value,
               Milestone.statutory_unit, func.coalesce(owner.name, lead.name))
        .join(Project, Project.id == Milestone.project_id)
        .join(Park, Park.id == Milestone.park_id)
        .outerjoin(owner, owner.id == Milestone.owner_staff_id)
        .outerjoin(Assignment, (Assignment.project_id == Milestone.project_id)
                   & (Assignment.role == AssignmentRole.LEAD_AGENT.value)
                   & Assignment.ended_at.is_(None))
        .outerjoin(lead, lead.id == Assignment.staff_id)
        .where(condition)
        .order_by(*_milestone_order(state)).limit(limit).offset(offset)
    )
    if slice_ is not None:
        query = _sliced(query, slice_, Milestone.park_id)
    rows = []
    for row in db.session.execute(query):
        late = sla.workdays_late(row[6], row[7], row[8], row[9], today, calendar)
        rows.append(MilestoneRow(*row, late=late))
    return rows


def count(model, condition, slice_: Slice | None = None) -> int:
    query = select(func.count()).select_from(model).where(condition)
    if slice_ is not None:
        query = slice_.rows(query, model.park_id, model.project_id)
    return db.session.scalar(query) or 0


def _sliced(query, slice_: Slice, park_column):
    """A list query (which already joins projects) limited to the slice."""
    if slice_.park_id is not None:
        query = query.where(park_column == slice_.park_id)
    return query.where(*slice_.project_conditions())


def logs(condition, *, order, limit: int, offset: int = 0,
         slice_: Slice | None = None) -> list[LogRow]:
    """Progress logs matching ``condition`` with their project, park and author.

    The page of ids is chosen first from the logs alone (an index walk in ``order``), then
    joined: otherwise SQLite starts from the parks and sorts every matching log.
    """
    page = select(ProgressLog.id).where(condition)
    if slice_ is not None:
        page = slice_.rows(page, ProgressLog.park_id, ProgressLog.project_id)
    page = page.order_by(*order).limit(limit).offset(offset)
    author = func.coalesce(Staff.name, User.display_name)
    query = (
        select(ProgressLog.id, ProgressLog.project_id, Project.name, Park.short_name,
               ProgressLog.kind, ProgressLog.happened_on, ProgressLog.text, author,
               ProgressLog.created_at)
        .join(Project, Project.id == ProgressLog.project_id)
        .join(Park, Park.id == ProgressLog.park_id)
        .outerjoin(User, User.id == ProgressLog.author_id)
        .outerjoin(Staff, Staff.id == User.staff_id)
        .where(ProgressLog.id.in_(page)).order_by(*order)
    )
    return [LogRow(*row) for row in db.session.execute(query)]


def open_blockers(condition, *, limit: int, offset: int = 0,
                  slice_: Slice | None = None) -> list[LogRow]:
    """Open blockers, oldest first."""
    return logs(open_blocker_condition() & condition,
                order=(ProgressLog.happened_on, ProgressLog.id), limit=limit, offset=offset,
                slice_=slice_)


def recent_activity(condition, *, limit: int, slice_: Slice | None = None) -> list[LogRow]:
    return logs(condition, order=(ProgressLog.created_at.desc(), ProgressLog.id.desc()),
                limit=limit, slice_=slice_)



class BottleneckRow(NamedTuple):
    item: str  # the approval item's name
    projects: int  # open milestones of it on their project's critical path
    workdays: int  # working days from today to their forecast issue, summed: what they cost


def bottlenecks(condition, *, today: dt.date, calendar: WorkCalendar, limit: int,
                slice_: Slice | None = None) -> list[BottleneckRow]:
    """The approval items most often on the critical path of open plans (the bottlenecks a
    city should re-engineer), with the working days they still hold their projects up.  One
    query grouped by item and forecast date; the few distinct dates are turned into working
    days with the calendar's ordinals."""
    query = (select(Milestone.name, Milestone.forecast_on, func.count())
             .where(condition, Milestone.critical)  # as written (the partial index's predicate)
             .group_by(Milestone.name, Milestone.forecast_on))
    if slice_ is not None:
        query = slice_.rows(query, Milestone.park_id, Milestone.project_id)
    totals: dict[str, list[int]] = {}
    for name, forecast_on, count_ in db.session.execute(query):
        row = totals.setdefault(name, [0, 0])
        row[0] += count_
        if forecast_on is not None and forecast_on > today:
            row[1] += count_ * calendar.workdays_between(today, forecast_on)
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))
    return [BottleneckRow(name, projects, days) for name, (projects, days) in ranked[:limit]]


class StaffSatisfaction(NamedTuple):
    staff_id: int
    name: str
    ratings: int
    satisfied_pct: float  # scores of 4 or 5 ÷ all scores, over the five dimensions


def satisfaction_by_staff(slice_: Slice, since: dt.datetime, *,
                          limit: int) -> list[StaffSatisfaction]:
    """Who served the enterprises that rated the slice's service since ``since``, most rated
    first (the same rule and rows as ``ParkFigures.satisfaction_pct``)."""
    satisfied = sum(case((getattr(Rating, d) >= SATISFIED, 1), else_=0) for d in DIMENSIONS)
    rows = db.session.execute(slice_.rows(
        select(Staff.id, Staff.name, func.count(Rating.id), func.sum(satisfied))
        .join(Rating, Rating.staff_id == Staff.id)
        .where(Rating.submitted_at >= since)
        .group_by(Staff.id, Staff.name)
        .order_by(func.count(Rating.id).desc(), Staff.name).limit(limit),
        Rating.park_id, Rating.project_id))
    return [StaffSatisfaction(sid, name, count, 100.0 * int(ok) / (count * len(DIMENSIONS)))
            for sid, name, count, ok in rows]
