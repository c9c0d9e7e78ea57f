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
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import and_, func, select
from sqlalchemy.orm import joinedload, selectinload

from crm.agents.models import Assignment, AssignmentRole, Staff
from crm.auth.permissions import Action, can
from crm.extensions import db
from crm.i18n import today as local_today
from crm.milestones import sla
from crm.milestones.calendar import WorkCalendar
from crm.milestones.models import (
    ApprovalItem, CalendarOverride, CalendarYear, Milestone, MilestonePause, MilestoneStatus,
)
from crm.projects.models import Project, Stage

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


def work_calendar() -> WorkCalendar:
    """The calendar with the database's overrides; rebuilt when overrides change.

    One small aggregate query per call detects changes made by any process.
    """
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
    RUNNING: ("pause", "complete", "waive"),
    PAUSED: ("resume", "waive"),
    DONE: ("reopen",),
    WAIVED: ("reopen",),
}
ACTION_PERMISSION = {"reopen": Action.MILESTONE_REOPEN}  # every other action: MILESTONE_UPDATE


def allowed_actions(milestone: Milestone, user) -> list[str]:
    """The actions this user may take on the milestone now (empty for read-only roles)."""
    return [a for a in ACTIONS_BY_STATUS.get(milestone.status, ())
            if can(user, ACTION_PERMISSION.get(a, Action.MILESTONE_UPDATE))]


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


def timeline(project, user, today: dt.date | None = None) -> dict:
    """The project page's milestone panel: each milestone in plan order with its SLA state,
    due date (and whether it is provisional), working days left, owner, pause history and
    the actions the viewer may take.  A constant number of queries whatever the plan's size."""
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
    if m.status != DONE or m.workdays_used is None or not m.statutory_value or not m.accepted_on:
        return None
    return sla.time_saved(m.accepted_on, m.statutory_value, m.statutory_unit, m.workdays_used,
                          calendar)
