"""The working-day calendar (pure: no Flask, no database).

A day's answer comes from, strongest first:

1. calendar overrides entered by admins (``True`` = working, ``False`` = day off);
2. the official schedule bundled in ``chinesecalendar`` (the State Council's yearly notice:
   public holidays and the adjusted working weekend days, 调休上班), for the years it covers;
3. for later years, Monday to Friday minus the public holidays fixed by law (全国年节及纪念日
   放假办法, as amended 2024): 元旦 (Jan 1), 春节 (除夕 to 初三), 清明, 劳动节 (May 1-2),
   端午, 中秋, 国庆 (Oct 1-3) -- lunar dates from ``lunar_python``, the 清明 solar term from
   ``chinesecalendar``.  The make-up working days (调休) are unknown until the notice is out.

An answer that needed the last source for a year nobody has published yet is *provisional*.
A year counts as published when ``chinesecalendar`` covers it or when it is in
``published_years`` (years whose notice admins loaded as overrides).

All lookups are O(1) over precomputed arrays: ``cum[i]`` is the number of working days from
the window start up to and including day ``i``, and ``workday_offsets[k]`` is the offset of
the k-th working day, so "the n-th working day after d" is one array index.
"""

from __future__ import annotations

import datetime as dt
from array import array
from collections.abc import Iterable, Mapping
from functools import lru_cache

import chinese_calendar
from lunar_python import Lunar

WINDOW_START = dt.date(2000, 1, 1)
WINDOW_END = dt.date(2100, 12, 31)
_START_ORD = WINDOW_START.toordinal()
_SIZE = WINDOW_END.toordinal() - _START_ORD + 1


class OutOfRange(ValueError):
    """A date outside the calendar's window (2000-01-01 .. 2100-12-31)."""


def official_years() -> range:
    """The years the bundled official schedule covers (e.g. 2004..2026)."""
    return _official()[2]


@lru_cache(maxsize=1)
def _official() -> tuple[frozenset[dt.date], frozenset[dt.date], range]:
    holidays = frozenset(chinese_calendar.holidays)
    workdays = frozenset(chinese_calendar.workdays)
    years = range(min(d.year for d in holidays), max(d.year for d in holidays | workdays) + 1)
    return holidays, workdays, years


def _solar(lunar) -> dt.date:
    solar = lunar.getSolar()
    return dt.date(solar.getYear(), solar.getMonth(), solar.getDay())


def statutory_holidays(year: int) -> frozenset[dt.date]:
    """The public holidays the law fixes in ``year`` (without the yearly notice's make-up
    days and bridging): what a provisional calendar can know in advance."""
    new_year = _solar(Lunar.fromYmd(year, 1, 1))  # 正月初一
    days = {dt.date(year, 1, 1), dt.date(year, 5, 1), dt.date(year, 5, 2),
            dt.date(year, 10, 1), dt.date(year, 10, 2), dt.date(year, 10, 3),
            _solar(Lunar.fromYmd(year, 5, 5)),  # 端午
            _solar(Lunar.fromYmd(year, 8, 15))}  # 中秋
    days.update(new_year + dt.timedelta(days=n) for n in (-1, 0, 1, 2))  # 除夕 .. 初三
    days.update(day for day, name in chinese_calendar.get_solar_terms(
        dt.date(year, 4, 1), dt.date(year, 4, 10)) if name == "清明")
    return frozenset(days)


@lru_cache(maxsize=1)
def _base_flags() -> bytes:
    """Working-day flags for the whole window: the official schedule, and for the years after
    it Monday-Friday minus the statutory holidays."""
    holidays, workdays, years = _official()
    flags = bytearray(_SIZE)
    for i in range(_SIZE):
        flags[i] = 1 if (i + _START_ORD) % 7 not in (0, 6) else 0  # ordinal%7: 0=Sun, 6=Sat
    for year in range(years.stop, WINDOW_END.year + 1):
        for day in statutory_holidays(year):
            if day <= WINDOW_END:
                flags[day.toordinal() - _START_ORD] = 0
    for day in holidays:
        flags[day.toordinal() - _START_ORD] = 0
    for day in workdays:
        flags[day.toordinal() - _START_ORD] = 1
    return bytes(flags)


class WorkCalendar:
    """Answers working-day questions for 2000-01-01 .. 2100-12-31."""

    def __init__(self, overrides: Mapping[dt.date, bool] | None = None,
                 published_years: Iterable[int] = ()):
        self.overrides = dict(overrides or {})
        flags = bytearray(_base_flags())
        for day, working in self.overrides.items():
            flags[self._offset(day)] = 1 if working else 0
        self._flags = bytes(flags)
        cum = array("i", bytes(4 * _SIZE))
        offsets = array("i")
        count = 0
        for i, flag in enumerate(flags):
            if flag:
                count += 1
                offsets.append(i)
            cum[i] = count
        self._cum = cum
        self._offsets = offsets
        self.published_years = frozenset(official_years()) | frozenset(published_years)

    # -- basic questions -----------------------------------------------------------------

    @staticmethod
    def _offset(day: dt.date) -> int:
        offset = day.toordinal() - _START_ORD
        if not 0 <= offset < _SIZE:
            raise OutOfRange(f"{day} is outside {WINDOW_START}..{WINDOW_END}")
        return offset

    def is_workday(self, d: dt.date) -> bool:
        return self._flags[self._offset(d)] == 1

    def is_provisional(self, d: dt.date) -> bool:
        """True when d's answer came from the Monday-Friday fallback of an unpublished year."""
        return d not in self.overrides and d.year not in self.published_years

    def range_provisional(self, start: dt.date, end: dt.date) -> bool:
        """Whether any day in (start, end] is in an unpublished year."""
        if end < start:
            start, end = end, start
        return any(y not in self.published_years for y in range(start.year, end.year + 1))

    def add_workdays(self, start: dt.date, n: int) -> dt.date:
        """The n-th working day strictly after ``start`` (n >= 1); ``start`` itself for n = 0."""
        if n < 0:
            raise ValueError("n must be >= 0")
        if n == 0:
            return start
        index = self._cum[self._offset(start)] + n - 1
        if index >= len(self._offsets):
            raise OutOfRange(f"{n} working days after {start} is past {WINDOW_END}")
        return dt.date.fromordinal(self._offsets[index] + _START_ORD)

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]; negative (the count in (end, start]) when end < start."""
        return self._cum[self._offset(end)] - self._cum[self._offset(start)]

    def next_workday(self, d: dt.date) -> dt.date:
        """d itself when it is a working day, otherwise the next working day."""
        return d if self.is_workday(d) else self.add_workdays(d, 1)

    def ordinal(self, d: dt.date) -> int:
        """Working-day ordinal: the count of working days up to and including d.

        ``ordinal(b) - ordinal(a) == workdays_between(a, b)``, so SQL can compare ordinals
        stored or computed once per query instead of walking dates row by row.
        """
        return self._cum[self._offset(d)]
