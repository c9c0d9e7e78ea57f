"""The dashboard's key figures, per park, as SQL aggregates.

Every query groups by park, so the same code gives one park's figures (the park dashboard,
live) and every park's figures at once (the rollups behind the leadership dashboard).  A
fixed number of queries whatever the data size; no Python loop over rows, except over the
few distinct (acceptance date, limit) pairs of calendar-day limits, which are converted into
working days with the calendar's precomputed ordinals.

Each figure counts with the one definition of what it counts: milestone states from
``milestones.queries.state_condition`` (the SQL side of ``sla.state``, with the one due-soon
setting), ``Project.in_service``, ``ProgressLog.is_open_blocker``,
``agents.queries.unassigned_condition``, ``milestones.queries.promise_condition``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import asdict, dataclass, field

from sqlalchemy import and_, case, func, literal, select, true, union_all

from crm.agents.queries import unassigned_condition
from crm.extensions import db
from crm.i18n import local_day_start
from crm.milestones import sla
from crm.milestones.calendar import WorkCalendar
from crm.milestones.models import Milestone, MilestoneStatus, ProjectForecast
from crm.milestones.queries import (
    finished_condition, period_start, promise_condition, promise_margin_totals, state_condition,
)
from crm.portal.models import DIMENSIONS, Rating, SatisfactionCase
from crm.portal.queries import case_late_condition, satisfaction_columns
from crm.projects.models import ProgressLog, Project, ProjectStatus, Stage
from crm.projects.queries import in_service_condition, open_blocker_condition
from crm.supervision.models import InvestmentPlan, Problem, ProblemStatus
from crm.supervision.queries import completed_in_year, completion_pct, overdue_condition

PERIODS = (30, 90, 180, 365)
DEFAULT_PERIOD = 90
TREND_MONTHS = 12

RUNNING = MilestoneStatus.RUNNING.value
PAUSED = MilestoneStatus.PAUSED.value
DONE = MilestoneStatus.DONE.value


@dataclass(frozen=True)
class Slice:
    """Which rows the figures cover: a park (None: every park), a stage, an industry, and the
    period (days back from ``today``) of the "finished" figures."""

    park_id: int | None = None
    stage: str | None = None
    industry: str | None = None
    period_days: int = DEFAULT_PERIOD

    @property
    def filters_projects(self) -> bool:
        return bool(self.stage or self.industry)

    def project_conditions(self) -> list:
        conditions = []
        if self.stage:
            conditions.append(Project.stage == self.stage)
        if self.industry:
            conditions.append(Project.industry == self.industry)
        return conditions

    def rows(self, query, park_column, project_column):
        """``query`` limited to this slice (joins projects only when a project filter is set)."""
        if self.park_id is not None:
            query = query.where(park_column == self.park_id)
        if self.filters_projects:
            query = query.join(Project, Project.id == project_column).where(
                *self.project_conditions())
        return query


@dataclass
class StageDays:
    """Milestones of a stage finished in the period: working days used against committed."""

    finished: int = 0
    used: int = 0  # sum of working days used
    committed: int = 0  # sum of committed limits, in working days

    @property
    def average_used(self) -> float | None:
        return self.used / self.finished if self.finished else None

    @property
    def average_committed(self) -> float | None:
        return self.committed / self.finished if self.finished else None


@dataclass
class ParkFigures:
    active_projects: int = 0  # in service (在办): active, not yet approved
    investment: int = 0  # 万元, of the projects in service
    approved_projects: int = 0  # active projects through their approvals (审批完成)
    new_this_month: int = 0
    stages: dict[str, list[int]] = field(default_factory=dict)  # stage -> [count, investment]
    overdue: int = 0
    due_soon: int = 0
    on_track: int = 0
    paused: int = 0
    met: int = 0
    missed: int = 0
    extended: int = 0  # of the finished (met or missed): after a statutory extension
    workdays_saved: int = 0
    open_blockers: int = 0
    unassigned: int = 0
    promise_at_risk: int = 0  # projects whose whole-chain promise is at risk
    promise_overdue: int = 0  # ... past its promised day, the end item not issued
    promise_running: int = 0  # running promises with a forecast ...
    promise_margin: int = 0  # ... and the sum of their margins (working days; < 0: late)
    # The enterprise's ratings in the period: how many, and per dimension how many scored 4-5.
    ratings: int = 0
    satisfied: dict[str, int] = field(default_factory=dict)
    cases_open: int = 0  # bad-review cases not closed ...
    cases_late: int = 0  # ... of which past their due day with their step not done
    stage_days: dict[str, StageDays] = field(default_factory=dict)
    months: dict[str, list[int]] = field(default_factory=dict)  # 'YYYY-MM' -> [new, met, missed]
    # The year's investment plan (万元) and what the supervision reports say was completed.
    investment_planned: int = 0
    investment_completed: int = 0
    problems_open: int = 0  # coordination problems with departments ...
    problems_overdue: int = 0  # ... of which past their due date

    @property
    def plan_completion_pct(self) -> float | None:
        """年度计划完成率 (supervision.queries.completion_pct)."""
        return completion_pct(self.investment_planned, self.investment_completed)

    @property
    def finished(self) -> int:
        return self.met + self.missed

    @property
    def compliance_pct(self) -> float | None:
        return 100.0 * self.met / self.finished if self.finished else None

    def satisfaction_pct(self, dimension: str | None = None) -> float | None:
        """Ratings of 4 or 5 ÷ all, in one dimension or over the five."""
        if not self.ratings:
            return None
        if dimension is not None:
            return 100.0 * self.satisfied.get(dimension, 0) / self.ratings
        return 100.0 * sum(self.satisfied.values()) / (self.ratings * len(DIMENSIONS))

    @property
    def promise_margin_avg(self) -> float | None:
        """Average working days the forecasts run ahead of (> 0) or behind (< 0) the promises."""
        return self.promise_margin / self.promise_running if self.promise_running else None

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ParkFigures":
        values = dict(data)
        values["stage_days"] = {k: StageDays(**v) for k, v in data.get("stage_days", {}).items()}
        return cls(**values)

    def add(self, other: "ParkFigures") -> None:
        """Add another park's figures (the city's figures are the sum of its parks')."""
        for name in ("active_projects", "investment", "approved_projects", "new_this_month",
                     "overdue", "due_soon",
                     "on_track", "paused", "met", "missed", "extended", "workdays_saved",
                     "open_blockers", "unassigned", "promise_at_risk", "promise_overdue",
                     "promise_running", "promise_margin", "ratings", "cases_open",
                     "cases_late", "investment_planned", "investment_completed",
                     "problems_open", "problems_overdue"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for stage, (count, investment) in other.stages.items():
            mine = self.stages.setdefault(stage, [0, 0])
            mine[0] += count
            mine[1] += investment
        for dimension, count in other.satisfied.items():
            self.satisfied[dimension] = self.satisfied.get(dimension, 0) + count
        for stage, days in other.stage_days.items():
            mine = self.stage_days.setdefault(stage, StageDays())
            mine.finished += days.finished
            mine.used += days.used
            mine.committed += days.committed
        for month, values in other.months.items():
            mine = self.months.setdefault(month, [0, 0, 0])
            for i, value in enumerate(values):
                mine[i] += value


def trend_months(today: dt.date, count: int = TREND_MONTHS) -> list[str]:
    """'YYYY-MM' of the last ``count`` months, oldest first, this month last."""
    year, month = today.year, today.month
    months = []
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def compute(slice_: Slice, today: dt.date, calendar: WorkCalendar) -> dict[int, ParkFigures]:
    """Figures per park for the slice (one park, or all of them): twelve queries."""
    figures: dict[int, ParkFigures] = defaultdict(ParkFigures)
    _projects(figures, slice_, today)
    _running(figures, slice_, today, calendar)
    _finished(figures, slice_, today, calendar)
    _blockers_and_unassigned(figures, slice_)
    _promises(figures, slice_, today)
    _satisfaction(figures, slice_, today)
    _months(figures, slice_, today)
    _supervision(figures, slice_, today)
    return dict(figures)


def _projects(figures, slice_: Slice, today: dt.date) -> None:
    active = Project.status == ProjectStatus.ACTIVE.value
    in_service = in_service_condition()
    month_start = local_day_start(today.replace(day=1))
    query = (
        select(Project.park_id, Project.stage, func.count().filter(active),
               func.coalesce(func.sum(Project.investment).filter(active), 0),
               func.count().filter(in_service),
               func.coalesce(func.sum(Project.investment).filter(in_service), 0),
               func.count().filter(Project.created_at >= month_start))
        .where(*slice_.project_conditions())
        .group_by(Project.park_id, Project.stage)
    )
    if slice_.park_id is not None:
        query = query.where(Project.park_id == slice_.park_id)
    for park_id, stage, count, investment, serving, serving_investment, new in db.session.execute(query):
        f = figures[park_id]
        f.stages[stage] = [count, int(investment)]
        f.active_projects += serving
        f.investment += int(serving_investment)
        if stage == Stage.APPROVED.value:
            f.approved_projects += count
        f.new_this_month += new


def _running(figures, slice_: Slice, today: dt.date, calendar: WorkCalendar) -> None:
    def state(name):
        return state_condition(name, today, calendar)

    query = slice_.rows(
        select(Milestone.park_id,
               func.count().filter(state("overdue")),
               func.count().filter(state("due_soon")),
               func.count().filter(state("on_track")),
               func.count().filter(state("paused")))
        .where(Milestone.status.in_((RUNNING, PAUSED)))
        .group_by(Milestone.park_id),
        Milestone.park_id, Milestone.project_id)
    for park_id, overdue, due_soon, on_track, paused in db.session.execute(query):
        f = figures[park_id]
        f.overdue, f.due_soon, f.on_track, f.paused = overdue, due_soon, on_track, paused


def _finished(figures, slice_: Slice, today: dt.date, calendar: WorkCalendar) -> None:
    done = finished_condition(today, slice_.period_days)
    working = sla.WORKING
    measured = and_(Milestone.workdays_used.is_not(None), Milestone.accepted_on.is_not(None))
    query = slice_.rows(
        select(Milestone.park_id, Milestone.stage,
               func.count().filter(state_condition("met", today, calendar,
                                                   period_days=slice_.period_days)),
               func.count().filter(state_condition("missed", today, calendar,
                                                   period_days=slice_.period_days)),
               func.count().filter(measured),
               func.coalesce(func.sum(Milestone.workdays_used).filter(measured), 0),
               func.coalesce(func.sum(Milestone.limit_value).filter(
                   measured, Milestone.limit_unit == working), 0),
               func.coalesce(func.sum(Milestone.statutory_value - Milestone.workdays_used).filter(
                   measured, Milestone.statutory_unit == working,
                   Milestone.statutory_value.is_not(None)), 0),
               func.count().filter(Milestone.extension_workdays.is_not(None)))
        .where(done).group_by(Milestone.park_id, Milestone.stage),
        Milestone.park_id, Milestone.project_id)
    for (park_id, stage, met, missed, measured_count, used, committed, saved,
         extended) in db.session.execute(query):
        f = figures[park_id]
        f.met += met
        f.missed += missed
        f.extended += extended
        f.workdays_saved += int(saved)
        days = f.stage_days.setdefault(stage, StageDays())
        days.finished += measured_count
        days.used += int(used)
        days.committed += int(committed)
    _calendar_day_limits(figures, slice_, done, measured, calendar)


def _calendar_day_limits(figures, slice_: Slice, done, measured, calendar: WorkCalendar) -> None:
    """The committed and statutory limits counted in calendar days, converted into working
    days once per distinct (acceptance date, limit) pair."""
    unit = sla.CALENDAR
    query = slice_.rows(
        select(Milestone.park_id, Milestone.stage, Milestone.accepted_on,
               Milestone.limit_value, Milestone.limit_unit,
               Milestone.statutory_value, Milestone.statutory_unit,
               func.count(), func.sum(Milestone.workdays_used))
        .where(done, measured, (Milestone.limit_unit == unit) | (Milestone.statutory_unit == unit))
        .group_by(Milestone.park_id, Milestone.stage, Milestone.accepted_on,
                  Milestone.limit_value, Milestone.limit_unit,
                  Milestone.statutory_value, Milestone.statutory_unit),
        Milestone.park_id, Milestone.project_id)
    for (park_id, stage, accepted, limit, limit_unit, statutory, statutory_unit, count,
         used) in db.session.execute(query):
        f = figures[park_id]
        if limit_unit == unit:
            f.stage_days.setdefault(stage, StageDays()).committed += count * sla.limit_in_workdays(
                accepted, limit, unit, calendar)
        if statutory is not None and statutory_unit == unit:
            f.workdays_saved += (count * sla.limit_in_workdays(accepted, statutory, unit, calendar)
                                 - int(used))


def _blockers_and_unassigned(figures, slice_: Slice) -> None:
    query = slice_.rows(
        select(ProgressLog.park_id, func.count()).where(open_blocker_condition())
        .group_by(ProgressLog.park_id),
        ProgressLog.park_id, ProgressLog.project_id)
    for park_id, count in db.session.execute(query):
        figures[park_id].open_blockers = count
    park = Project.park_id == slice_.park_id if slice_.park_id is not None else true()
    for park_id, count in db.session.execute(
            select(Project.park_id, func.count())
            .where(park, unassigned_condition(), *slice_.project_conditions())
            .group_by(Project.park_id)):
        figures[park_id].unassigned = count


def _supervision(figures, slice_: Slice, today: dt.date) -> None:
    """The year's investment plan against the completed amounts reported in the rounds, and
    the open coordination problems: one statement (a union of the three, summed per park)."""
    zero = literal(0)
    planned = (select(Project.park_id.label("park_id"), InvestmentPlan.planned.label("planned"),
                      zero.label("completed"), zero.label("open"), zero.label("overdue"))
               .join(Project, Project.id == InvestmentPlan.project_id)
               .where(InvestmentPlan.year == today.year, *slice_.project_conditions()))
    if slice_.park_id is not None:
        planned = planned.where(Project.park_id == slice_.park_id)
    done = completed_in_year(today.year).subquery()
    completed = slice_.rows(select(done.c.park_id, zero, done.c.amount, zero, zero),
                            done.c.park_id, done.c.project_id)
    problems = slice_.rows(
        select(Problem.park_id, zero, zero, literal(1),
               case((overdue_condition(today), 1), else_=0))
        .where(Problem.status == ProblemStatus.OPEN.value), Problem.park_id, Problem.project_id)
    rows = union_all(planned, completed, problems).subquery()
    for park_id, plan, amount, count, overdue in db.session.execute(
            select(rows.c.park_id, func.sum(rows.c.planned), func.sum(rows.c.completed),
                   func.sum(rows.c.open), func.sum(rows.c.overdue)).group_by(rows.c.park_id)):
        f = figures[park_id]
        f.investment_planned, f.investment_completed = int(plan or 0), int(amount or 0)
        f.problems_open, f.problems_overdue = int(count or 0), int(overdue or 0)


def _promises(figures, slice_: Slice, today: dt.date) -> None:
    query = (select(Project.park_id,
                    func.count().filter(promise_condition("at_risk", today)),
                    func.count().filter(promise_condition("overdue", today)),
                    *promise_margin_totals())
             .join(ProjectForecast, ProjectForecast.project_id == Project.id)
             .where(*slice_.project_conditions()).group_by(Project.park_id))
    if slice_.park_id is not None:
        query = query.where(Project.park_id == slice_.park_id)
    for park_id, at_risk, overdue, running, margin in db.session.execute(query):
        figures[park_id].promise_at_risk = at_risk
        figures[park_id].promise_overdue = overdue
        figures[park_id].promise_running = running
        figures[park_id].promise_margin = int(margin)


def period_since(today: dt.date, period_days: int) -> dt.datetime:
    """The first instant of the period (its first local day), for timestamps."""
    return local_day_start(period_start(today, period_days) + dt.timedelta(days=1))


def _satisfaction(figures, slice_: Slice, today: dt.date) -> None:
    since = period_since(today, slice_.period_days)
    query = slice_.rows(
        select(Rating.park_id, *satisfaction_columns())
        .where(Rating.submitted_at >= since).group_by(Rating.park_id),
        Rating.park_id, Rating.project_id)
    for park_id, count, *satisfied in db.session.execute(query):
        figures[park_id].ratings = count
        figures[park_id].satisfied = dict(zip(DIMENSIONS, satisfied))
    query = slice_.rows(
        select(SatisfactionCase.park_id, func.count(),
               func.count().filter(case_late_condition(today)))
        .where(SatisfactionCase.status != "closed").group_by(SatisfactionCase.park_id),
        SatisfactionCase.park_id, SatisfactionCase.project_id)
    for park_id, open_, late in db.session.execute(query):
        figures[park_id].cases_open = open_
        figures[park_id].cases_late = late


def _month_bucket(column, months: list[str], to_bound):
    """CASE expression: the 'YYYY-MM' of ``column`` among ``months`` (local months, exact)."""
    return case(*[(column >= to_bound(dt.date.fromisoformat(m + "-01")), m)
                  for m in reversed(months)], else_=None)


def _months(figures, slice_: Slice, today: dt.date) -> None:
    months = trend_months(today)
    first = dt.date.fromisoformat(months[0] + "-01")
    month = _month_bucket(Project.created_at, months, local_day_start)
    query = (select(Project.park_id, month, func.count())
             .where(Project.created_at >= local_day_start(first), *slice_.project_conditions())
             .group_by(Project.park_id, month))
    if slice_.park_id is not None:
        query = query.where(Project.park_id == slice_.park_id)
    for park_id, key, count in db.session.execute(query):
        figures[park_id].months.setdefault(key, [0, 0, 0])[0] += count
    month = _month_bucket(Milestone.completed_on, months, lambda day: day)
    query = slice_.rows(
        select(Milestone.park_id, month,
               func.count().filter(Milestone.outcome == "met"),
               func.count().filter(Milestone.outcome == "missed"))
        .where(Milestone.status == DONE, Milestone.completed_on >= first,
               Milestone.completed_on <= today)
        .group_by(Milestone.park_id, month),
        Milestone.park_id, Milestone.project_id)
    for park_id, key, met, missed in db.session.execute(query):
        values = figures[park_id].months.setdefault(key, [0, 0, 0])
        values[1] += met
        values[2] += missed
