"""The project page's milestone panel: each milestone in plan order with its SLA state, due
date (provisional or not), working days left, owner, pauses, what it waits for, its forecast
and slack, and the actions the viewer may take; above it the project's forecast approval date
and its promise.  A constant number of queries whatever the plan's size."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from crm.agents.models import Assignment, AssignmentRole, Staff
from crm.auth.permissions import Action, can
from crm.extensions import db
from crm.i18n import today as local_today
from crm.milestones import graph, sla
from crm.milestones.calendar import OutOfRange
from crm.milestones.models import CommitmentRule, JointHandling, Milestone, MilestonePause
from crm.milestones.queries import (
    DONE, PAUSED, RUNNING, STATE_COLOURS, allowed_actions, dependency_map, joint_facts,
    project_forecast, sla_state, warning_workdays, work_calendar,
)
from crm.projects.models import Stage

_DAY = dt.timedelta(days=1)


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
    needs: list[str]  # the names of the milestones it needs issued first
    waiting_on: list[str]  # those of them still open (a pending one is not ready)


@dataclass(frozen=True)
class GanttBar:
    """One milestone on the working-day timeline: from acceptance (actual or expected) to
    issue (actual, or forecast)."""

    id: int
    name: str
    step: int  # the plan drawn as a graph: items of one step may run side by side
    start: dt.date
    finish: dt.date
    kind: str  # done, running, paused, planned (not yet accepted)
    state: str  # the SLA state (its badge colour)
    critical: bool
    workdays: int  # working days from start to finish


@dataclass(frozen=True)
class Gantt:
    bars: list[GanttBar]
    first: dt.date
    last: dt.date
    today: dt.date

    def chart(self, calendar) -> dict:
        """The chart's JSON for crm/static/js/charts.js: bars as working-day offsets from
        ``first`` (weekends and holidays take no room), the date of each offset for labels."""
        days, day = [], self.first
        while day <= self.last:
            if calendar.is_workday(day) or day == self.first:
                days.append(day.isoformat())
            day += _DAY
        base = calendar.ordinal(self.first)

        def at(d):
            return calendar.ordinal(d) - base
        return {
            "kind": "gantt", "days": days,
            "today": at(self.today) if self.first <= self.today <= self.last else None,
            "rows": [{"name": b.name, "from": at(b.start), "to": max(at(b.finish), at(b.start)),
                      "kind": b.kind, "state": b.state, "critical": b.critical,
                      "start": b.start.isoformat(), "finish": b.finish.isoformat(),
                      "workdays": b.workdays} for b in self.bars],
        }


@dataclass(frozen=True)
class Promise:
    rule: CommitmentRule
    state: str  # graph.PROMISE_STATES
    start_on: dt.date | None
    due_on: dt.date | None
    end_on: dt.date | None
    end_forecast_on: dt.date | None


@dataclass(frozen=True)
class JointRow:
    """Approvals handled jointly (联合办理) and their shared cap."""

    joint: JointHandling
    members: list[Milestone]
    limit: int  # working days: 45, plus the extension granted
    started_on: dt.date | None  # the first member's acceptance
    due_on: dt.date | None
    state: str  # graph.JOINT_STATES


def joint_rows(joints, milestones: list[Milestone], today: dt.date, calendar) -> list[JointRow]:
    """The joint handlings of a plan from its loaded milestones (no query)."""
    rows = []
    for joint in joints:
        members = [m for m in milestones if m.joint_id == joint.id]
        facts = joint_facts(members)
        started_on = graph.joint_start(facts)
        try:
            due_on = (graph.joint_due(started_on, joint.extension_workdays, calendar)
                      if started_on else None)
        except OutOfRange:
            due_on = None
        rows.append(JointRow(joint, members, graph.JOINT_LIMIT + (joint.extension_workdays or 0),
                             started_on, due_on, graph.joint_state(facts, due_on, today)))
    return rows


def timeline(project, user, today: dt.date | None = None) -> dict:
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
    needs = dependency_map(project.id)
    by_id = {m.id: m for m in milestones}
    statuses = {m.id: m.status for m in milestones}
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
        required = [i for i in needs.get(m.id, ()) if i in by_id]
        rows.append(TimelineRow(
            milestone=m, state=state, colour=STATE_COLOURS.get(state, "secondary"),
            remaining=remaining, owner_name=m.owner.name if m.owner else lead,
            owner_is_lead=m.owner is None and lead is not None, pauses=pauses,
            actions=allowed_actions(m, user), saved=_saved(m, calendar),
            needs=[by_id[i].name for i in required],
            waiting_on=[by_id[i].name for i in graph.waiting_on(m.id, statuses, needs)
                        if i in by_id],
        ))
    unpublished = sorted({
        year for m in milestones if m.due_provisional and m.accepted_on
        for year in range(m.accepted_on.year, (m.due_on.year if m.due_on else today.year + 1) + 1)
        if year not in calendar.published_years})
    forecast = project_forecast(project.id)
    joints = (db.session.scalars(select(JointHandling).where(JointHandling.project_id == project.id)
                                 .order_by(JointHandling.id)).all()
              if any(m.joint_id for m in milestones) else [])
    chart = gantt(milestones, needs, {row.milestone.id: row.state for row in rows}, today,
                  calendar)
    return {
        "project_id": project.id,
        "rows": rows,
        "today": today,
        "threshold": threshold,
        "can_add": can(user, Action.MILESTONE_UPDATE)
        and Stage(project.stage).order >= Stage.SIGNED.order,
        "can_plan": can(user, Action.MILESTONE_REOPEN),
        "provisional": any(m.due_provisional for m in milestones),
        "unpublished_years": unpublished,
        "forecast": forecast,
        "promise": promise(forecast, today),
        "joints": joint_rows(joints, milestones, today, calendar),
        "joint_names": {j.id: j.name for j in joints},
        "gantt": chart,
        "gantt_chart": chart.chart(calendar) if chart else None,
    }


def gantt(milestones: list[Milestone], needs: dict, states: dict, today: dt.date,
          calendar) -> Gantt | None:
    """The plan on a working-day timeline, computed from the loaded milestones (no query):
    in the graph's order, parallel items side by side.  None when there is nothing to draw
    or the dependencies loop (the plan page says so)."""
    try:
        plan = graph.forecast(graph.nodes(milestones), needs, today, calendar)
        steps = graph.levels([m.id for m in milestones], needs)
    except (graph.CycleError, OutOfRange):
        return None
    bars = []
    for m in milestones:
        item = plan.items[m.id]
        if m.status == "waived" or item.finish is None:
            continue
        start = m.accepted_on or item.start or item.finish
        kind = {"done": "done", "pending": "planned", "paused": "paused"}.get(m.status, "running")
        bars.append(GanttBar(m.id, m.name, steps[m.id], start, item.finish, kind, states[m.id],
                             item.critical, max(calendar.workdays_between(start, item.finish), 0)))
    if not bars:
        return None
    order = {m.id: i for i, m in enumerate(milestones)}
    bars.sort(key=lambda b: (b.step, b.start, order[b.id]))
    return Gantt(bars, min(b.start for b in bars), max(max(b.finish for b in bars), today),
                 today)


def promise(forecast, today: dt.date) -> Promise | None:
    """The project's promise as of today (None when no rule applies to it)."""
    if forecast is None or forecast.rule_id is None:
        return None
    return Promise(forecast.rule, graph.promise_state(forecast.promise_due_on, forecast.promise_end_on,
                                             forecast.end_forecast_on, today),
                   forecast.promise_start_on, forecast.promise_due_on, forecast.promise_end_on,
                   forecast.end_forecast_on)


def _saved(m: Milestone, calendar) -> int | None:
    if m.status != DONE or m.workdays_used is None or not m.statutory_value or not m.accepted_on:
        return None
    return sla.time_saved(m.accepted_on, m.statutory_value, m.statutory_unit, m.workdays_used,
                          calendar)
