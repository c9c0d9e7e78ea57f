"""Parallel approvals as a graph: which items need which finished first, which can start now,
when each will finish, the project's forecast approval date, the critical path and the slack.

Pure rules: plain data in, plain data out, the WorkCalendar for dates; nothing here knows the
database.  Dates are compared as working-day ordinals (``WorkCalendar.ordinal``), so slack is
counted in working days.

The forecast of a milestone is the day it is expected to be issued:

- done: the day it was issued; waived: no date, and it holds nothing up;
- running: its due date, or today when that has passed (it cannot finish in the past);
- paused: its frozen working days left, counted from today (the clock restarts today at the
  earliest);
- pending: accepted on the last forecast of what it depends on (today at the earliest) and
  issued its committed limit later (``sla.due_date``, calendar-day limits included).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from crm.milestones.sla import due_date
from crm.milestones.calendar import WorkCalendar

DONE_STATES = ("done", "waived")  # a dependency in one of these no longer holds anything up
FIXED_STATES = ("running", "paused", "done")  # already started: the forecast cannot move earlier


class CycleError(ValueError):
    """The dependencies loop back on themselves; ``cycle`` names the items in order."""

    def __init__(self, cycle: Sequence):
        super().__init__("dependency cycle: " + " → ".join(map(str, cycle)))
        self.cycle = list(cycle)


class Node(NamedTuple):  # tuples: a city's refresh builds a million of them
    """One milestone of a plan, as the graph rules see it."""

    id: object
    status: str  # pending, running, paused, done, waived
    limit_value: int
    limit_unit: str  # working, calendar
    due_on: dt.date | None = None  # running
    completed_on: dt.date | None = None  # done
    remaining_workdays: int | None = None  # paused: frozen working days left


def nodes(rows) -> list[Node]:
    """Nodes of anything shaped like a milestone (a model or a result row)."""
    return [Node(r.id, r.status, r.limit_value, r.limit_unit, r.due_on, r.completed_on,
                 r.remaining_workdays) for r in rows]


class Forecast(NamedTuple):
    """A milestone's expected dates and its place on the critical path."""

    start: dt.date | None  # accepted (actual, or expected for a pending one)
    finish: dt.date | None  # issued (actual, or expected); None when waived
    slack: int | None  # working days it may slip without delaying the project
    critical: bool
    provisional: bool  # the finish relies on a year whose schedule is not published


@dataclass(frozen=True)
class PlanForecast:
    items: dict  # node id -> Forecast
    finish: dt.date | None  # the project's forecast approval date (the last finish)
    # The open milestones without slack, dependencies first: any day one of them slips moves
    # the project's date (parallel branches that finish together are all on it).
    critical_path: tuple
    provisional: bool


def find_cycle(edges: Mapping[object, Iterable[object]]) -> list | None:
    """A dependency cycle in ``edges`` (item -> the items it needs first), or None."""
    state: dict = {}  # 1: on the current path, 2: done
    for root in edges:
        if state.get(root):
            continue
        stack = [(root, iter(edges.get(root, ())))]
        path = [root]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                state[node] = 2
            elif state.get(child) == 1:
                return path[path.index(child):] + [child]
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(edges.get(child, ()))))
    return None


def check_acyclic(edges: Mapping[object, Iterable[object]]) -> None:
    cycle = find_cycle(edges)
    if cycle:
        raise CycleError(cycle)


def topological_order(ids: Iterable, needs: Mapping[object, Iterable[object]]) -> list:
    """``ids`` ordered so that every item comes after the items it needs (depth first, in the
    given order).  Dependencies outside ``ids`` are ignored."""
    ids = list(ids)
    known = set(ids)
    check_acyclic({i: [d for d in needs.get(i, ()) if d in known] for i in ids})
    placed: set = set()
    order: list = []

    def place(item):
        if item in placed:
            return
        placed.add(item)
        for dep in needs.get(item, ()):
            if dep in known:
                place(dep)
        order.append(item)

    for item in ids:
        place(item)
    return order


def levels(ids: Iterable, needs: Mapping[object, Iterable[object]]) -> dict:
    """The step of each item in the plan drawn as a graph: 1 for an item that needs nothing,
    else one more than the highest step it needs (items of one step can run side by side).
    Dependencies outside ``ids`` are ignored; raises CycleError on a cycle."""
    ids = list(ids)
    known = set(ids)
    step: dict = {}
    for item in topological_order(ids, needs):
        step[item] = 1 + max((step[d] for d in needs.get(item, ()) if d in known), default=0)
    return step


def is_ready(node_id, statuses: Mapping[object, str], needs: Mapping[object, Iterable[object]]) -> bool:
    """A pending milestone may start when everything it needs is done (met or missed) or
    waived."""
    return all(statuses.get(dep) in DONE_STATES for dep in needs.get(node_id, ()))


def waiting_on(node_id, statuses: Mapping[object, str], needs: Mapping[object, Iterable[object]]) -> list:
    """What a milestone still waits for (the ids of its unfinished dependencies)."""
    return [dep for dep in needs.get(node_id, ()) if statuses.get(dep) not in DONE_STATES]


def _finish(node: Node, start: dt.date, today: dt.date, calendar: WorkCalendar) -> dt.date | None:
    if node.status == "done":
        return node.completed_on
    if node.status == "waived":
        return None
    if node.status == "running" and node.due_on is not None:
        return max(node.due_on, today)
    if node.status == "paused" and node.remaining_workdays is not None:
        return calendar.add_workdays(today, max(node.remaining_workdays, 0))
    return due_date(start, node.limit_value, node.limit_unit, (), calendar)


def forecast(nodes: Sequence[Node], needs: Mapping[object, Iterable[object]], today: dt.date,
             calendar: WorkCalendar) -> PlanForecast:
    """Expected dates of a plan, the project's approval date, its critical path and slack.

    ``needs``: node id -> the ids it needs finished first (ids outside ``nodes`` ignored).
    Raises CycleError on a cycle.
    """
    by_id = {n.id: n for n in nodes}
    deps = {n.id: [d for d in needs.get(n.id, ()) if d in by_id] for n in nodes}
    order = topological_order([n.id for n in nodes], deps)
    ordinal = calendar.ordinal
    start: dict = {}
    finish: dict = {}
    for node_id in order:
        node = by_id[node_id]
        before = [finish[d] for d in deps[node_id] if finish[d] is not None]
        earliest = max([today, *before])
        start[node_id] = earliest if node.status == "pending" else None
        finish[node_id] = _finish(node, earliest, today, calendar)

    dated = [f for f in finish.values() if f is not None]
    end = max(dated) if dated else None
    # Backward pass in working-day ordinals: the latest finish that keeps the project's date.
    successors: dict = {i: [] for i in by_id}
    for node_id, ds in deps.items():
        for d in ds:
            successors[d].append(node_id)
    latest: dict = {}
    for node_id in reversed(order):
        if finish[node_id] is None:
            continue
        bounds = [ordinal(end)]
        for s in successors[node_id]:
            # Only a milestone yet to start waits for this one; a started one no longer does.
            if by_id[s].status == "pending" and s in latest:
                duration = ordinal(finish[s]) - ordinal(start[s])
                bounds.append(latest[s] - duration)
        latest[node_id] = min(bounds)
    items = {}
    for node_id in order:
        f = finish[node_id]
        if f is None:
            items[node_id] = Forecast(start[node_id], None, None, False, False)
            continue
        slack = latest[node_id] - ordinal(f)
        open_item = by_id[node_id].status != "done"
        items[node_id] = Forecast(
            start[node_id], f, max(slack, 0), open_item and slack <= 0,
            open_item and calendar.range_provisional(today, f))
    return PlanForecast(items, end, tuple(i for i in order if items[i].critical),
                        any(items[i].provisional for i in items))


# -- the project's promise ----------------------------------------------------------------------

PROMISE_STATES = ("not_started", "on_track", "at_risk", "overdue", "met", "missed")


def promise_state(due_on: dt.date | None, end_on: dt.date | None,
                  end_forecast_on: dt.date | None, today: dt.date) -> str:
    """The state of a project's promise (N working days from a start item's issue to an end
    item's): not started until the start item is issued; met or missed once the end item is;
    overdue past the promised day; at risk when the end item's forecast is later; else on
    track.  (``queries.promise_condition`` is the same rule in SQL.)"""
    if due_on is None:
        return "not_started"
    if end_on is not None:
        return "met" if end_on <= due_on else "missed"
    if today > due_on:
        return "overdue"
    if end_forecast_on is not None and end_forecast_on > due_on:
        return "at_risk"
    return "on_track"


def promise_margin(due_on: dt.date | None, end_forecast_on: dt.date | None,
                   calendar: WorkCalendar) -> int | None:
    """Working days from the end item's forecast to the promised day while the promise runs
    (negative: the forecast is that much late); None before the start item is issued or
    without a forecast."""
    if due_on is None or end_forecast_on is None:
        return None
    return calendar.ordinal(due_on) - calendar.ordinal(end_forecast_on)


# -- joint handling (联合办理) -------------------------------------------------------------------

# 行政许可法 Art. 42: items handled jointly are decided within 45 days (working days, Art. 82)
# of the first acceptance; the government's head may extend that once by 15.
JOINT_LIMIT = 45
JOINT_EXTENSION = 15
JOINT_STATES = PROMISE_STATES  # the same states, the same words


class JointMember(NamedTuple):
    status: str
    accepted_on: dt.date | None
    completed_on: dt.date | None
    forecast_on: dt.date | None  # open members: the expected issue date


def joint_start(members: Iterable[JointMember]) -> dt.date | None:
    """The group's clock starts at its first member's acceptance."""
    return min((m.accepted_on for m in members if m.accepted_on is not None), default=None)


def joint_due(started_on: dt.date, extension: int | None, calendar: WorkCalendar) -> dt.date:
    """The day all members must be decided by: 45 working days from the first acceptance,
    plus the extension granted (counted as a committed limit is, ``sla.due_date``)."""
    return due_date(started_on, JOINT_LIMIT + (extension or 0), "working", (), calendar)


def joint_state(members: Sequence[JointMember], due_on: dt.date | None, today: dt.date) -> str:
    """The cap's state: not started until a member is accepted; met or missed once every
    member is decided (waived members count as decided); overdue past the day with one still
    open; at risk when an open member's forecast is later; else on track."""
    if due_on is None:
        return "not_started"
    open_members = [m for m in members if m.status not in DONE_STATES]
    if not open_members:
        last = max((m.completed_on for m in members if m.completed_on is not None), default=None)
        return "met" if last is None or last <= due_on else "missed"
    if today > due_on:
        return "overdue"
    if any(m.forecast_on is not None and m.forecast_on > due_on for m in open_members):
        return "at_risk"
    return "on_track"
