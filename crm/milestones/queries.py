"""Reads of milestones shared by pages, PDFs, exports, jobs and the API.

- the app's working-day calendar (the pure WorkCalendar with the database's overrides,
  cached per process and rebuilt when an override changes), and the due-soon setting;
- a project's approval plan and the project page's timeline;
- the SLA states as SQL conditions: the one definition of "overdue", "due soon", "on track",
  "paused", "met", "missed" that lists, counts and filters use (the Python side of the same
  rule is ``sla.state``).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable
from contextlib import contextmanager

from flask import current_app
from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from crm.auth.permissions import Action, can
from crm.auth.scope import project_condition
from crm.extensions import db
from crm.milestones import graph, sla
from crm.milestones.calendar import WorkCalendar
from crm.milestones.models import (
    ApprovalItem, CalendarOverride, CalendarYear, JointHandling, Milestone, MilestoneDependency,
    MilestoneStatus, ProjectForecast,
)
from crm.parks.models import Park
from crm.projects.models import Project

PENDING, RUNNING, PAUSED, DONE, WAIVED = (s.value for s in MilestoneStatus)
FINISHED = (DONE, WAIVED)
_DAY = dt.timedelta(days=1)


# -- the calendar ------------------------------------------------------------------------------

_cache_lock = threading.Lock()
_cache: dict[str, tuple[tuple, WorkCalendar]] = {}


def _calendar_fingerprint() -> tuple:
    """Changes whenever an override or a published year is added, edited or removed."""
    row = db.session.execute(select(
        select(func.count()).select_from(CalendarOverride).scalar_subquery(),
        select(func.max(CalendarOverride.created_at)).scalar_subquery(),
        select(func.max(CalendarOverride.updated_at)).scalar_subquery(),
        select(func.count()).select_from(CalendarYear).scalar_subquery(),
        select(func.max(CalendarYear.loaded_at)).scalar_subquery(),
    )).one()
    return tuple(row)


def build_calendar(exclude_days: Iterable[dt.date] = ()) -> WorkCalendar:
    """A calendar from the session's current overrides (uncommitted changes included), without
    the cache; ``exclude_days`` leaves out overrides about to be deleted."""
    excluded = set(exclude_days)
    overrides = {day: working for day, working in db.session.execute(
        select(CalendarOverride.day, CalendarOverride.is_workday)) if day not in excluded}
    years = db.session.scalars(select(CalendarYear.year)).all()
    return WorkCalendar(overrides, years)


_PINNED = "work_calendar_pinned"


@contextmanager
def pinned_calendar():
    """Within the block, ``work_calendar()`` answers the calendar as it was at its start,
    without asking the database each time (bulk work in one transaction: an import)."""
    outer = _PINNED in db.session.info
    if not outer:
        db.session.info[_PINNED] = work_calendar()
    try:
        yield db.session.info[_PINNED]
    finally:
        if not outer:
            db.session.info.pop(_PINNED, None)


def work_calendar() -> WorkCalendar:
    """The calendar with the database's overrides; rebuilt when overrides change.

    One small aggregate query per call detects changes made by any process.
    """
    pinned = db.session.info.get(_PINNED)
    if pinned is not None:
        return pinned
    key = current_app.config["SQLALCHEMY_DATABASE_URI"]
    fingerprint = _calendar_fingerprint()
    cached = _cache.get(key)
    if cached and cached[0] == fingerprint:
        return cached[1]
    with _cache_lock:
        calendar = build_calendar()
        _cache[key] = (fingerprint, calendar)
        return calendar


def published_years() -> list[CalendarYear]:
    """The years whose official schedule an admin loaded, newest first."""
    return list(db.session.scalars(select(CalendarYear).order_by(CalendarYear.year.desc())))


def warning_workdays() -> int:
    """Working days left at which a running milestone counts as due soon (configurable)."""
    return int(current_app.config.get("SLA_WARNING_WORKDAYS", sla.DEFAULT_WARNING_WORKDAYS))


def active_catalogue() -> list[ApprovalItem]:
    """The approval-item catalogue in use (city-wide rows and per-district variants)."""
    return list(db.session.scalars(
        select(ApprovalItem).where(ApprovalItem.active.is_(True))
        .order_by(ApprovalItem.sort_order, ApprovalItem.id)))


# -- SLA states in SQL -------------------------------------------------------------------------

def due_soon_before(today: dt.date, calendar: WorkCalendar, warning: int | None = None) -> dt.date:
    """A running milestone due in [today, this date) has at most ``warning`` working days left
    (the setting when None), i.e. is "due soon" (``sla.state``); before today it is overdue."""
    warning = warning_workdays() if warning is None else warning
    return calendar.add_workdays(today, warning + 1)


def deadline_state(due_on: dt.date, today: dt.date, calendar: WorkCalendar,
                   warning: int | None = None) -> str:
    """The state of a running milestone due on ``due_on`` (``sla.state``): a project list's
    "next deadline" badge."""
    warning = warning_workdays() if warning is None else warning
    return sla.state(sla.MilestoneFacts(RUNNING, due_on, None), today, calendar, warning)


def period_start(today: dt.date, period_days: int) -> dt.date:
    """The day before the period of ``period_days`` days that ends today (not in it)."""
    return today - dt.timedelta(days=period_days)


def finished_condition(today: dt.date, period_days: int):
    """Milestones completed in the ``period_days`` days up to today."""
    return and_(Milestone.status == DONE,
                Milestone.completed_on > period_start(today, period_days),
                Milestone.completed_on <= today)


# The states a list of milestones can show, by the figure they count.
STATES = ("overdue", "due_soon", "on_track", "paused", "met", "missed", "finished")


def overdue_condition(today: dt.date):
    """SQL condition on Milestone: running and past its due date (``sla.state`` "overdue")."""
    return (Milestone.status == RUNNING) & (Milestone.due_on < today)


def state_condition(state: str, today: dt.date, calendar: WorkCalendar, *,
                    period_days: int = 90, warning: int | None = None):
    """SQL condition on Milestone: the milestones in ``state`` today.  Running milestones are
    overdue, due soon or on track exactly as ``sla.state`` says; met, missed and finished
    count completions in the period."""
    running = Milestone.status == RUNNING

    def soon_end():
        return due_soon_before(today, calendar, warning)

    conditions = {
        "overdue": lambda: overdue_condition(today),
        "due_soon": lambda: running & (Milestone.due_on >= today) & (Milestone.due_on < soon_end()),
        "on_track": lambda: running & (Milestone.due_on >= soon_end()),
        "paused": lambda: Milestone.status == PAUSED,
        "met": lambda: finished_condition(today, period_days) & (Milestone.outcome == "met"),
        "missed": lambda: finished_condition(today, period_days) & (Milestone.outcome == "missed"),
        "finished": lambda: finished_condition(today, period_days),
    }
    return conditions[state]()


def projects_with_milestones(state: str, today: dt.date, calendar: WorkCalendar):
    """SQL condition on Project: it has a milestone in ``state`` (the project list's filter)."""
    return select(Milestone.id).where(
        Milestone.project_id == Project.id,
        state_condition(state, today, calendar)).correlate(Project).exists()


# -- one project -------------------------------------------------------------------------------

def plan(project_id: int, *, with_pauses: bool = False) -> list[Milestone]:
    """The project's milestones in plan order."""
    query = (select(Milestone).where(Milestone.project_id == project_id)
             .order_by(Milestone.sequence, Milestone.id))
    if with_pauses:
        query = query.options(selectinload(Milestone.pauses))
    return list(db.session.scalars(query))


def project_milestone(project_id: int, milestone_id: int) -> Milestone | None:
    """One milestone of the project, with its pauses (None: not in this project)."""
    return db.session.scalar(
        select(Milestone).where(Milestone.id == milestone_id, Milestone.project_id == project_id)
        .options(selectinload(Milestone.pauses)))


def sla_state(milestone: Milestone, today: dt.date, calendar, threshold: int) -> str:
    """The SLA state shown to users; a finished milestone keeps its stored outcome."""
    if milestone.status == DONE and milestone.outcome:
        return milestone.outcome
    return sla.state(sla.MilestoneFacts(milestone.status, milestone.due_on, milestone.completed_on),
                     today, calendar, threshold)


# What may happen to a milestone in each stored status.
ACTIONS_BY_STATUS: dict[str, tuple[str, ...]] = {
    PENDING: ("start", "waive"),
    RUNNING: ("pause", "complete", "extend", "waive"),
    PAUSED: ("resume", "waive"),
    DONE: ("reopen",),
    WAIVED: ("reopen",),
}
ACTION_PERMISSION = {"reopen": Action.MILESTONE_REOPEN}  # every other action: MILESTONE_UPDATE


def allowed_actions(milestone: Milestone, user) -> list[str]:
    """The actions this user may take on the milestone now (empty for read-only roles); a
    milestone is extended once at most."""
    return [a for a in ACTIONS_BY_STATUS.get(milestone.status, ())
            if can(user, ACTION_PERMISSION.get(a, Action.MILESTONE_UPDATE))
            and not (a == "extend" and milestone.extension_workdays is not None)]


# -- dependencies, forecasts and promises ---------------------------------------------------

def dependency_map(project_id: int) -> dict[int, list[int]]:
    """milestone id -> the ids of the milestones it needs issued first."""
    needs: dict[int, list[int]] = {}
    for milestone_id, requires_id in db.session.execute(
            select(MilestoneDependency.milestone_id, MilestoneDependency.requires_id)
            .where(MilestoneDependency.project_id == project_id)
            .order_by(MilestoneDependency.id)):
        needs.setdefault(milestone_id, []).append(requires_id)
    return needs


def waiting_for(milestone: Milestone) -> list[Milestone]:
    """The milestones this one needs that are neither issued nor waived (``graph.is_ready``
    is the same rule over plain data)."""
    return list(db.session.scalars(
        select(Milestone).join(MilestoneDependency, MilestoneDependency.requires_id == Milestone.id)
        .where(MilestoneDependency.milestone_id == milestone.id,
               Milestone.status.not_in(graph.DONE_STATES))
        .order_by(Milestone.sequence, Milestone.id)))


def dependency_rows(project_id: int) -> list:
    """The project's dependencies for its plan page: (dependency, approval, waits for)."""
    waiting, needed = aliased(Milestone), aliased(Milestone)
    return list(db.session.execute(
        select(MilestoneDependency, waiting.name, needed.name, needed.status)
        .join(waiting, waiting.id == MilestoneDependency.milestone_id)
        .join(needed, needed.id == MilestoneDependency.requires_id)
        .where(MilestoneDependency.project_id == project_id)
        .order_by(waiting.sequence, waiting.id, needed.sequence, needed.id)))


def project_dependency(project_id: int, dependency_id: int) -> MilestoneDependency | None:
    return db.session.scalar(select(MilestoneDependency).where(
        MilestoneDependency.id == dependency_id, MilestoneDependency.project_id == project_id))


def project_joints(project_id: int) -> list[JointHandling]:
    """The project's joint handlings (their members are the plan's milestones with their id)."""
    return list(db.session.scalars(
        select(JointHandling).where(JointHandling.project_id == project_id)
        .order_by(JointHandling.id)))


def project_joint(project_id: int, joint_id: int) -> JointHandling | None:
    return db.session.scalar(select(JointHandling).where(
        JointHandling.id == joint_id, JointHandling.project_id == project_id))


def joint_facts(members: Iterable[Milestone]) -> list[graph.JointMember]:
    """The joint cap's view of its members (``graph.joint_state``)."""
    return [graph.JointMember(m.status, m.accepted_on, m.completed_on, m.forecast_on)
            for m in members]


def project_forecast(project_id: int) -> ProjectForecast | None:
    """The project's stored forecast with its promise rule (one query)."""
    return db.session.get(ProjectForecast, project_id, options=[joinedload(ProjectForecast.rule)])


def promise_condition(state: str, today: dt.date):
    """SQL condition on ProjectForecast: the projects whose promise is in ``state``
    (``graph.promise_state``, the same rule)."""
    due, end, forecast = (ProjectForecast.promise_due_on, ProjectForecast.promise_end_on,
                          ProjectForecast.end_forecast_on)
    promised = ProjectForecast.rule_id.is_not(None)
    conditions = {
        "not_started": lambda: promised & due.is_(None),
        "met": lambda: due.is_not(None) & end.is_not(None) & (end <= due),
        "missed": lambda: due.is_not(None) & end.is_not(None) & (end > due),
        "overdue": lambda: due.is_not(None) & end.is_(None) & (due < today),
        "at_risk": lambda: due.is_not(None) & end.is_(None) & (due >= today)
        & forecast.is_not(None) & (forecast > due),
        "on_track": lambda: due.is_not(None) & end.is_(None) & (due >= today)
        & (forecast.is_(None) | (forecast <= due)),
    }
    return conditions[state]()


def promise_margin_totals():
    """SQL aggregates over ProjectForecast: (running promises with a forecast, the sum of their
    margins in working days); the average "forecast vs promise" is their ratio.  Sums, so a
    city's figure adds its parks'."""
    margin = ProjectForecast.promise_margin_workdays
    return func.count(margin), func.coalesce(func.sum(margin), 0)


def projects_with_promise(state: str, today: dt.date):
    """SQL condition on Project: its whole-chain promise is in ``state`` (the project list's
    filter behind the dashboards' promise figures)."""
    return select(ProjectForecast.project_id).where(
        ProjectForecast.project_id == Project.id,
        promise_condition(state, today)).correlate(Project).exists()


# Badge colour of each SLA state.
STATE_COLOURS = {"on_track": "success", "met": "success", "due_soon": "warning",
                 "overdue": "danger", "missed": "danger", "pending": "secondary",
                 "paused": "secondary", "waived": "secondary"}


# -- the deadline calendar feed --------------------------------------------------------------

FEED_PAST_DAYS = 30
FEED_DAYS_AHEAD = 366
FEED_LIMIT = 2000


def feed_rows(user, today: dt.date) -> list:
    """The running and paused approvals (with a due date from a month ago to a year ahead) of
    the projects ``user`` may see, soonest first: the rows of the calendar feed."""
    return list(db.session.execute(
        select(Milestone.id, Milestone.name, Milestone.due_on, Milestone.due_provisional,
               Milestone.status, Project.id.label("project_id"),
               Project.name.label("project_name"), Park.name.label("park_name"))
        .join(Project, Project.id == Milestone.project_id)
        .join(Park, Park.id == Project.park_id)
        .where(Milestone.status.in_(("running", "paused")), Milestone.due_on.is_not(None),
               Milestone.due_on >= today - dt.timedelta(days=FEED_PAST_DAYS),
               Milestone.due_on <= today + dt.timedelta(days=FEED_DAYS_AHEAD),
               project_condition(user))
        .order_by(Milestone.due_on, Milestone.id).limit(FEED_LIMIT)))
