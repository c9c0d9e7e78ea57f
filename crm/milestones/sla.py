"""Deadline rules (pure: no Flask, no database).  DESIGN §4 "Deadlines" and "Milestone states".

- A milestone accepted on day S with a limit of N working days is due on the N-th working day
  strictly after S (S is not counted).
- A limit of N calendar days is due on S + N; when that is not a working day, on the next
  working day.
- A pause from day P to resume day R stops the clock on P … R-1: those working days do not
  count (for calendar-day limits, those calendar days do not count).  P == R stops nothing.
- While a pause is open there is no due date; the remaining working days are frozen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from crm.milestones.calendar import WorkCalendar

WORKING = "working"
CALENDAR = "calendar"
UNITS = (WORKING, CALENDAR)

DEFAULT_WARNING_WORKDAYS = 2

Pause = tuple[dt.date, dt.date | None]  # (paused_on, resumed_on or None while open)
_DAY = dt.timedelta(days=1)


def _closed_intervals(pauses: Iterable[Pause], after: dt.date) -> list[tuple[dt.date, dt.date]] | None:
    """Merged inclusive intervals [P, R-1] of stopped days, clipped to days after ``after``.

    None when a pause is still open.
    """
    spans = []
    for paused_on, resumed_on in pauses:
        if resumed_on is None:
            return None
        first = max(paused_on, after + _DAY)
        last = resumed_on - _DAY
        if first <= last:
            spans.append((first, last))
    spans.sort()
    merged: list[tuple[dt.date, dt.date]] = []
    for first, last in spans:
        if merged and first <= merged[-1][1] + _DAY:
            if last > merged[-1][1]:
                merged[-1] = (merged[-1][0], last)
        else:
            merged.append((first, last))
    return merged


def _stopped_workdays(spans, start: dt.date, end: dt.date, calendar: WorkCalendar) -> int:
    """Working days in (start, end] that fall inside the stopped spans."""
    total = 0
    for first, last in spans:
        lo = max(first - _DAY, start)
        hi = min(last, end)
        if hi > lo:
            total += calendar.workdays_between(lo, hi)
    return total


def check_limit(limit: int, unit: str) -> None:
    if unit not in UNITS:
        raise ValueError(f"unknown limit unit {unit!r}")
    if limit <= 0:
        raise ValueError("the limit must be a positive number of days")


def due_date(accepted_on: dt.date, limit: int, unit: str, pauses: Sequence[Pause],
             calendar: WorkCalendar) -> dt.date | None:
    """The due date, or None while a pause is open.

    Walks the stopped spans in order, spending the limit on the days counted between them:
    O(number of pauses), each step one array lookup.
    """
    check_limit(limit, unit)
    spans = _closed_intervals(pauses, accepted_on)
    if spans is None:
        return None
    day, left = accepted_on, limit  # days up to ``day`` are spent; ``left`` still to count
    for first, last in spans:
        if unit == WORKING:
            available = calendar.workdays_between(day, first - _DAY)
        else:
            available = (first - _DAY - day).days
        if left <= available:
            break
        left -= available
        day = last
    if unit == WORKING:
        return calendar.add_workdays(day, left)
    return calendar.next_workday(day + dt.timedelta(days=left))


def workdays_used(accepted_on: dt.date, until: dt.date, pauses: Sequence[Pause],
                  calendar: WorkCalendar) -> int:
    """Working days counted against the limit in (accepted_on, until]; stopped days excluded.

    An open pause counts as stopped up to ``until``.
    """
    closed = [(p, r if r is not None else until + _DAY) for p, r in pauses]
    spans = _closed_intervals(closed, accepted_on) or []
    if until <= accepted_on:
        return 0
    return calendar.workdays_between(accepted_on, until) - _stopped_workdays(
        spans, accepted_on, until, calendar)


def remaining_workdays(due: dt.date, today: dt.date, calendar: WorkCalendar) -> int:
    """Working days left: those in (today, due].  0 on the due date; negative when overdue."""
    return calendar.workdays_between(today, due)


def _frozen(accepted_on: dt.date, limit: int, unit: str, pauses: Sequence[Pause],
            calendar: WorkCalendar) -> tuple[int, dt.date]:
    """(working days left when the open pause began, the due date had it not begun).

    The days left are the working days in [paused_on, due had it not paused], never counting
    the acceptance day; after resuming on R the new due date has exactly that many working
    days in [R, due].
    """
    check_limit(limit, unit)
    open_pauses = [p for p, r in pauses if r is None]
    if not open_pauses:
        raise ValueError("no open pause")
    paused_on = max(open_pauses)
    closed = [(p, r) for p, r in pauses if r is not None]
    due = due_date(accepted_on, limit, unit, closed + [(paused_on, paused_on)], calendar)
    return calendar.workdays_between(max(paused_on - _DAY, accepted_on), due), due


def frozen_remaining(accepted_on: dt.date, limit: int, unit: str, pauses: Sequence[Pause],
                     calendar: WorkCalendar) -> int:
    """For a paused milestone: the working days left when the open pause began."""
    return _frozen(accepted_on, limit, unit, pauses, calendar)[0]


@dataclass(frozen=True)
class Schedule:
    """What a running or paused milestone stores about its deadline."""

    due_on: dt.date | None  # None while paused
    provisional: bool  # the answer used the Monday-Friday fallback of an unpublished year
    remaining_frozen: int | None  # paused only: working days left, frozen


def extended(due: dt.date, extension: int | None, calendar: WorkCalendar) -> dt.date:
    """A due date moved by a statutory extension of ``extension`` working days (行政许可法
    Art. 42: the decision may take 10 more working days with the authority head's approval)."""
    return calendar.add_workdays(due, extension) if extension else due


def schedule(accepted_on: dt.date, limit: int, unit: str, pauses: Sequence[Pause],
             calendar: WorkCalendar, extension: int | None = None) -> Schedule:
    """The stored deadline facts of a started milestone (running, or paused by an open pause),
    an extension included."""
    due = due_date(accepted_on, limit, unit, pauses, calendar)
    if due is not None:
        due = extended(due, extension, calendar)
        return Schedule(due, calendar.range_provisional(accepted_on, due), None)
    remaining, due_if_resumed = _frozen(accepted_on, limit, unit, pauses, calendar)
    due_if_resumed = extended(due_if_resumed, extension, calendar)
    return Schedule(None, calendar.range_provisional(accepted_on, due_if_resumed),
                    remaining + (extension or 0))


def outcome(completed_on: dt.date, due_on: dt.date) -> str:
    """The outcome of a finished milestone: met on or before the due date, else missed."""
    return "met" if completed_on <= due_on else "missed"


@dataclass(frozen=True)
class MilestoneFacts:
    """What the state rule needs to know about a milestone (plain values)."""

    status: str  # pending | running | paused | done | waived
    due_on: dt.date | None = None
    completed_on: dt.date | None = None


def state(facts: MilestoneFacts, today: dt.date, calendar: WorkCalendar,
          warning_workdays: int = DEFAULT_WARNING_WORKDAYS) -> str:
    """pending, on_track, due_soon, overdue, paused, met, missed or waived."""
    if facts.status in ("pending", "paused", "waived"):
        return facts.status
    if facts.status == "done":
        if facts.due_on is None or facts.completed_on is None:
            return "met"
        return outcome(facts.completed_on, facts.due_on)
    if facts.status != "running":
        raise ValueError(f"unknown milestone status {facts.status!r}")
    if facts.due_on is None:
        return "on_track"
    if today > facts.due_on:
        return "overdue"
    if remaining_workdays(facts.due_on, today, calendar) <= warning_workdays:
        return "due_soon"
    return "on_track"


def workdays_late(status: str, outcome: str | None, due_on: dt.date | None,
                  completed_on: dt.date | None, today: dt.date, calendar: WorkCalendar) -> int | None:
    """Working days past the due date, for the milestones that are late: a running one counted
    to today, a missed one to its completion.  None for every other milestone (met, waived,
    pending, paused, or not yet due).  0 is late all the same: a Friday deadline is missed on
    Saturday, though no working day has gone by yet."""
    if status == "running" and due_on is not None and today > due_on:
        return calendar.workdays_between(due_on, today)
    if status == "done" and outcome == "missed" and due_on is not None \
            and completed_on is not None and completed_on > due_on:
        return calendar.workdays_between(due_on, completed_on)
    return None


def limit_in_workdays(accepted_on: dt.date, limit: int, unit: str, calendar: WorkCalendar) -> int:
    """A limit expressed in working days from ``accepted_on`` (calendar limits converted)."""
    check_limit(limit, unit)
    if unit == WORKING:
        return limit
    return calendar.workdays_between(accepted_on, calendar.next_workday(accepted_on + dt.timedelta(days=limit)))


def time_saved(accepted_on: dt.date, statutory_limit: int, statutory_unit: str, used: int,
               calendar: WorkCalendar) -> int:
    """Working days saved against the statutory limit (negative when it took longer)."""
    return limit_in_workdays(accepted_on, statutory_limit, statutory_unit, calendar) - used


def due_dates_bulk(rows: Iterable[tuple[dt.date, int, str, Sequence[Pause]]],
                   calendar: WorkCalendar) -> list[dt.date | None]:
    """due_date over many milestones with one calendar (for recomputation after a change).

    The common case (no pauses) is one array lookup; everything else goes through
    ``due_date``.  Results are identical to calling ``due_date`` row by row.
    """
    add, following = calendar.add_workdays, calendar.next_workday
    days = dt.timedelta
    out: list[dt.date | None] = []
    append = out.append
    for accepted_on, limit, unit, pauses in rows:
        if pauses or limit <= 0:
            append(due_date(accepted_on, limit, unit, pauses, calendar))
        elif unit == WORKING:
            append(add(accepted_on, limit))
        elif unit == CALENDAR:
            append(following(accepted_on + days(days=limit)))
        else:
            append(due_date(accepted_on, limit, unit, pauses, calendar))
    return out
