"""When an alert may leave: quiet hours, the daily digest, retry backoff and the escalation
ladder.  Pure functions of local times and a working-day calendar (anything with
``is_workday(date)``), so the rules are tested exhaustively without a clock or a database.

Times here are *local* (the service's time zone, Asia/Shanghai) and naive or aware alike: the
caller converts; only the wall clock and the date matter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

DEFAULT_WINDOW = (dt.time(8, 0), dt.time(20, 0))


def in_window(local: dt.datetime, calendar, window=DEFAULT_WINDOW) -> bool:
    """Whether a message may go out at ``local``: a working day, between the window's start
    (inclusive) and end (exclusive)."""
    start, end = window
    return calendar.is_workday(local.date()) and start <= local.time() < end


def next_working_morning(day: dt.date, calendar, start: dt.time) -> dt.datetime:
    """The window's start on the first working day after ``day``."""
    day += dt.timedelta(days=1)
    while not calendar.is_workday(day):
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, start)


def send_at(local: dt.datetime, calendar, *, urgent: bool = False,
            window=DEFAULT_WINDOW) -> dt.datetime:
    """The local time an immediate message raised at ``local`` may be sent: at once inside the
    window (or when urgent), else at the start of the next working morning (the same day's
    morning when raised before the window opens on a working day).  Naive result."""
    naive = local.replace(tzinfo=None)
    if urgent or in_window(naive, calendar, window):
        return naive
    start, _end = window
    if calendar.is_workday(naive.date()) and naive.time() < start:
        return dt.datetime.combine(naive.date(), start)
    return next_working_morning(naive.date(), calendar, start)


def digest_due(local: dt.datetime, calendar, at: dt.time) -> bool:
    """Whether today's digest may go out at ``local``: a working day, at or after its time.
    (Once a day: the caller keys each digest by user and date.)"""
    return calendar.is_workday(local.date()) and local.time() >= at


def retry_delay(attempts: int, *, base: int = 60, cap: int = 3600) -> dt.timedelta:
    """The wait before the next try after ``attempts`` failed ones (1, 2, ...): doubling from
    ``base`` seconds, never more than ``cap``."""
    if attempts < 1:
        return dt.timedelta(0)
    return dt.timedelta(seconds=min(cap, base * 2 ** min(attempts - 1, 30)))


def steps_reached(workdays: int | None, ladder: Sequence[int]) -> list[int]:
    """The steps of ``ladder`` (working days, ascending) that ``workdays`` late or open has
    reached: every step at or below it; none when not late (None)."""
    if workdays is None:
        return []
    return [step for step in ladder if workdays >= step]
