"""What the dashboard pages show, assembled from the figure and list queries; the city's
figures read from the per-park rollups; the home pages' overview.

Filters come from the query string; values that make no sense are dropped and named in
``cleared`` (the page says so), never an error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import case, func, select

from crm.agents.queries import busiest, unassigned_condition
from crm.dashboard.models import ParkRollup
from crm.dashboard.queries import lists
from crm.dashboard.queries.figures import (
    DEFAULT_PERIOD, PERIODS, ParkFigures, Slice, compute, period_since, trend_months,
)
from crm.db import utcnow
from crm.extensions import db
from crm.milestones.calendar import WorkCalendar
from crm.milestones.models import Milestone
from crm.parks.models import Park
from crm.projects.models import INDUSTRIES, ProgressLog, Project, ProjectStatus, Stage
from crm.projects.queries import open_blocker_condition

CITY_SORTS = ("name", "active", "investment", "compliance", "overdue", "saved", "blockers",
              "satisfaction")


@dataclass
class Filters:
    stage: str | None = None
    industry: str | None = None
    period: int = DEFAULT_PERIOD
    cleared: list[str] = field(default_factory=list)

    def slice(self, park_id: int | None) -> Slice:
        return Slice(park_id=park_id, stage=self.stage, industry=self.industry,
                     period_days=self.period)

    def args(self, **overrides) -> dict:
        values = {"stage": self.stage, "industry": self.industry,
                  "period": self.period if self.period != DEFAULT_PERIOD else None}
        values.update(overrides)
        return {k: v for k, v in values.items() if v not in (None, "")}


def parse_filters(args) -> Filters:
    f = Filters()
    stage = args.get("stage") or None
    if stage is not None:
        if stage in {s.value for s in Stage}:
            f.stage = stage
        else:
            f.cleared.append("stage")
    industry = args.get("industry") or None
    if industry is not None:
        if industry in INDUSTRIES:
            f.industry = industry
        else:
            f.cleared.append("industry")
    period = args.get("period") or None
    if period is not None:
        if period.isdigit() and int(period) in PERIODS:
            f.period = int(period)
        else:
            f.cleared.append("period")
    return f


def list_rows() -> int:
    return current_app.config["DASHBOARD_LIST_ROWS"]


@dataclass
class ParkDashboard:
    figures: ParkFigures
    overdue: list[lists.MilestoneRow]
    due_soon: list[lists.MilestoneRow]
    blockers: list[lists.LogRow]
    workload: list
    activity: list[lists.LogRow]
    months: list[str]
    bottlenecks: list[lists.BottleneckRow]
    satisfaction: list[lists.StaffSatisfaction]


def park_dashboard(park_id: int, filters: Filters, today: dt.date,
                   calendar: WorkCalendar) -> ParkDashboard:
    """One park's figures (live) and lists: a constant number of queries."""
    slice_ = filters.slice(park_id)
    figures = compute(slice_, today, calendar).get(park_id, ParkFigures())
    rows = list_rows()
    in_park = Milestone.park_id == park_id

    def state(name):
        return lists.milestone_state_condition(name, today, calendar, filters.period) & in_park

    overdue = lists.milestones(state("overdue"), "overdue", today=today, calendar=calendar,
                               limit=rows, slice_=slice_)
    due_soon = lists.milestones(state("due_soon"), "due_soon", today=today, calendar=calendar,
                                limit=rows, slice_=slice_)
    logs_in_park = ProgressLog.park_id == park_id
    blockers = lists.open_blockers(logs_in_park, limit=rows, slice_=slice_)
    activity = lists.recent_activity(logs_in_park, limit=rows, slice_=slice_)
    staff = busiest(today, park_id=park_id, limit=rows)
    bottlenecks = lists.bottlenecks(in_park, today=today, calendar=calendar, limit=rows,
                                    slice_=slice_)
    satisfaction = lists.satisfaction_by_staff(slice_, period_since(today, filters.period),
                                               limit=rows)
    return ParkDashboard(figures, overdue, due_soon, blockers, staff, activity,
                         trend_months(today), bottlenecks, satisfaction)


def sort_parks(parks, sort: str, descending: bool):
    keys = {
        "name": lambda r: (r.short_name, r.park_id),
        "active": lambda r: (r.figures.active_projects, r.park_id),
        "investment": lambda r: (r.figures.investment, r.park_id),
        "compliance": lambda r: (r.figures.compliance_pct if r.figures.finished else -1, r.park_id),
        "satisfaction": lambda r: (r.figures.satisfaction_pct() if r.figures.ratings else -1,
                                   r.park_id),
        "overdue": lambda r: (r.figures.overdue, r.park_id),
        "saved": lambda r: (r.figures.workdays_saved, r.park_id),
        "blockers": lambda r: (r.figures.open_blockers, r.park_id),
    }
    return sorted(parks, key=keys.get(sort, keys["name"]), reverse=descending)


def city_lists(park_condition, today: dt.date, calendar: WorkCalendar) -> dict:
    """The city's most overdue milestones, oldest open blockers (index-ordered, cut) and the
    approval items most often on a critical path."""
    rows = list_rows()
    overdue_condition = (lists.milestone_state_condition("overdue", today, calendar,
                                                         DEFAULT_PERIOD)
                         & park_condition(Milestone.park_id))
    overdue = lists.milestones(overdue_condition, "overdue", today=today, calendar=calendar,
                               limit=rows)
    blockers = lists.open_blockers(park_condition(ProgressLog.park_id), limit=rows)
    bottlenecks = lists.bottlenecks(park_condition(Milestone.park_id), today=today,
                                    calendar=calendar, limit=rows)
    return {"overdue": overdue, "blockers": blockers, "bottlenecks": bottlenecks}



# -- the city: per-park rollups -----------------------------------------------------------

@dataclass
class ParkRow:
    park_id: int
    name: str
    short_name: str
    figures: ParkFigures


@dataclass
class CityFigures:
    parks: list[ParkRow]
    total: ParkFigures
    computed_at: dt.datetime | None  # the oldest park's rollup time
    period_days: int


def max_age() -> dt.timedelta:
    return dt.timedelta(seconds=current_app.config["ROLLUP_MAX_AGE_SECONDS"])


def _staleness(rollups, park_count: int, today: dt.date) -> str:
    """"missing" (a visible park has none yet), "old" (older than the maximum age or computed
    for another day) or "fresh"."""
    if len(rollups) < park_count:
        return "missing"
    oldest = min((r.computed_at for r in rollups), default=None)
    if oldest is not None and (utcnow() - oldest > max_age()
                               or any(r.as_of != today for r in rollups)):
        return "old"
    return "fresh"


def _read(park_condition) -> list:
    """Rows (columns, not ORM objects: a city has hundreds of parks) of the visible parks."""
    return list(db.session.execute(
        select(ParkRollup.computed_at, ParkRollup.as_of, ParkRollup.figures,
               Park.id, Park.name, Park.short_name)
        .join(Park, Park.id == ParkRollup.park_id)
        .where(park_condition).order_by(Park.id)).all())


def city(park_condition, today: dt.date) -> tuple[CityFigures, str]:
    """The visible parks' rollups and their sum, and how stale they are (``_staleness``: the
    caller refreshes missing ones at once and has old ones refreshed in the background,
    crm/dashboard/services.py).  Two queries."""
    park_count = db.session.scalar(select(func.count()).select_from(Park).where(park_condition))
    rollups = _read(park_condition)
    parks = [ParkRow(r.id, r.name, r.short_name, ParkFigures.from_dict(r.figures))
             for r in rollups]
    total = ParkFigures()
    for row in parks:
        total.add(row.figures)
    computed_at = min((r.computed_at for r in rollups), default=None)
    return (CityFigures(parks, total, computed_at, DEFAULT_PERIOD),
            _staleness(rollups, park_count, today))


# -- the home pages ----------------------------------------------------------------------------

def staff_home(user, project_condition, today: dt.date, calendar: WorkCalendar) -> dict:
    """An agent's or consultant's day: my milestones overdue and due soon, my open blockers,
    my projects.  ``project_condition(project_column, park_column)`` is the viewer's scope.
    A constant number of queries."""
    rows = list_rows()
    mine = project_condition(Milestone.project_id, Milestone.park_id)

    def state(name):
        return lists.milestone_state_condition(name, today, calendar, DEFAULT_PERIOD) & mine

    overdue = lists.milestones(state("overdue"), "overdue", today=today, calendar=calendar,
                               limit=rows)
    due_soon = lists.milestones(state("due_soon"), "due_soon", today=today, calendar=calendar,
                                limit=rows)
    counts = {name: lists.count(Milestone, state(name)) for name in ("overdue", "due_soon")}
    my_logs = project_condition(ProgressLog.project_id, ProgressLog.park_id)
    blockers = lists.open_blockers(my_logs, limit=rows)
    projects = db.session.scalars(
        select(Project).where(project_condition(Project.id, Project.park_id),
                              Project.status == ProjectStatus.ACTIVE)
        .order_by(Project.stage_changed_at.desc()).limit(50)
    ).all()
    return {"projects": projects, "overdue": overdue, "due_soon": due_soon, "counts": counts,
            "blockers": blockers, "today": today}


def overview(park_condition, today: dt.date, calendar: WorkCalendar) -> dict:
    """Per-park figures in the viewer's scope: one GROUP BY per figure family.
    ``park_condition(column)`` is the viewer's scope on a park id column."""
    active = Project.status == ProjectStatus.ACTIVE
    stage_columns = [
        func.sum(case((active & (Project.stage == s.value), 1), else_=0)).label(s.value)
        for s in Stage
    ]
    project_rows = db.session.execute(
        select(Park.id, Park.name,
               func.count(Project.id).filter(active).label("active"),
               func.coalesce(func.sum(Project.investment).filter(active), 0).label("investment"),
               *stage_columns)
        .select_from(Park).outerjoin(Project, Project.park_id == Park.id)
        .where(park_condition(Park.id))
        .group_by(Park.id, Park.name).order_by(Park.id)
    ).all()
    overdue = dict(db.session.execute(
        select(Milestone.park_id, func.count())
        .where(park_condition(Milestone.park_id),
               lists.milestone_state_condition("overdue", today, calendar, DEFAULT_PERIOD))
        .group_by(Milestone.park_id)
    ).all())
    blockers = dict(db.session.execute(
        select(ProgressLog.park_id, func.count())
        .where(park_condition(ProgressLog.park_id), open_blocker_condition())
        .group_by(ProgressLog.park_id)
    ).all())
    unassigned = dict(db.session.execute(
        select(Project.park_id, func.count())
        .where(park_condition(Project.park_id), unassigned_condition())
        .group_by(Project.park_id)
    ).all())
    return {"parks": project_rows, "overdue": overdue, "blockers": blockers,
            "unassigned": unassigned, "stages": list(Stage)}
