"""What the dashboard pages show, assembled from the figure and list queries.

Filters come from the query string; values that make no sense are dropped and named in
``cleared`` (the page says so), never an error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask import current_app

from crm.agents.queries import busiest
from crm.dashboard import lists
from crm.dashboard.figures import (
    DEFAULT_PERIOD, PERIODS, ParkFigures, Slice, compute, trend_months,
)
from crm.milestones.calendar import WorkCalendar
from crm.milestones.models import Milestone
from crm.projects.models import INDUSTRIES, ProgressLog, Stage

CITY_SORTS = ("name", "active", "investment", "compliance", "overdue", "saved", "blockers")


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
    overdue: list  # (MilestoneRow, working days overdue)
    due_this_week: list[lists.MilestoneRow]
    blockers: list[lists.LogRow]
    workload: list
    activity: list[lists.LogRow]
    months: list[str]


def park_dashboard(park_id: int, filters: Filters, today: dt.date,
                   calendar: WorkCalendar) -> ParkDashboard:
    """One park's figures (live) and lists: a constant number of queries."""
    slice_ = filters.slice(park_id)
    figures = compute(slice_, today, calendar).get(park_id, ParkFigures())
    rows = list_rows()
    in_park = Milestone.park_id == park_id

    def state(name):
        return lists.milestone_state_condition(name, today, calendar, filters.period) & in_park

    overdue = [(row, calendar.workdays_between(row.due_on, today))
               for row in lists.milestones(state("overdue"), "overdue", limit=rows, slice_=slice_)]
    due_week = lists.milestones(state("due_this_week"), "due_this_week", limit=rows,
                                slice_=slice_)
    logs_in_park = ProgressLog.park_id == park_id
    blockers = lists.open_blockers(logs_in_park, limit=rows, slice_=slice_)
    activity = lists.recent_activity(logs_in_park, limit=rows, slice_=slice_)
    staff = busiest(today, park_id=park_id, limit=rows)
    return ParkDashboard(figures, overdue, due_week, blockers, staff, activity,
                         trend_months(today))


def sort_parks(parks, sort: str, descending: bool):
    keys = {
        "name": lambda r: (r.short_name, r.park_id),
        "active": lambda r: (r.figures.active_projects, r.park_id),
        "investment": lambda r: (r.figures.investment, r.park_id),
        "compliance": lambda r: (r.figures.compliance_pct if r.figures.finished else -1, r.park_id),
        "overdue": lambda r: (r.figures.overdue, r.park_id),
        "saved": lambda r: (r.figures.workdays_saved, r.park_id),
        "blockers": lambda r: (r.figures.open_blockers, r.park_id),
    }
    return sorted(parks, key=keys.get(sort, keys["name"]), reverse=descending)


def city_lists(park_condition, today: dt.date, calendar: WorkCalendar) -> dict:
    """The city's most overdue milestones and oldest open blockers (index-ordered, cut)."""
    rows = list_rows()
    overdue_condition = (lists.milestone_state_condition("overdue", today, calendar,
                                                         DEFAULT_PERIOD)
                         & park_condition(Milestone.park_id))
    overdue = [(row, calendar.workdays_between(row.due_on, today))
               for row in lists.milestones(overdue_condition, "overdue", limit=rows)]
    blockers = lists.open_blockers(park_condition(ProgressLog.park_id), limit=rows)
    return {"overdue": overdue, "blockers": blockers}

