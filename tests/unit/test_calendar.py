"""The working-day calendar against real State Council schedules."""

import datetime as dt

import pytest
from hypothesis import given, strategies as st

from crm.milestones.calendar import WorkCalendar, official_years

D = dt.date
CAL = WorkCalendar()


def test_2025_national_day_and_mid_autumn():
    # 2025-09-28 (Sunday) and 2025-10-11 (Saturday) are adjusted working days.
    assert CAL.is_workday(D(2025, 9, 28))
    assert CAL.is_workday(D(2025, 10, 11))
    for day in range(1, 9):
        assert not CAL.is_workday(D(2025, 10, day)), f"2025-10-{day:02d} is a holiday"
    assert CAL.is_workday(D(2025, 10, 9))


def test_2026_spring_festival():
    # 2026 Spring Festival: 02-15 .. 02-23 off; Saturdays 02-14 and 02-28 are working days.
    assert CAL.is_workday(D(2026, 2, 14))
    assert not CAL.is_workday(D(2026, 2, 16))
    assert not CAL.is_workday(D(2026, 2, 23))
    assert CAL.is_workday(D(2026, 2, 24))
    assert CAL.is_workday(D(2026, 2, 28))


def test_nth_working_day_skips_the_holiday():
    assert CAL.add_workdays(D(2025, 9, 30), 1) == D(2025, 10, 9)
    assert CAL.add_workdays(D(2025, 9, 26), 1) == D(2025, 9, 28)  # the working Sunday


def test_overrides_beat_the_official_schedule():
    cal = WorkCalendar({D(2025, 10, 8): True, D(2025, 10, 9): False})
    assert cal.is_workday(D(2025, 10, 8))
    assert not cal.is_workday(D(2025, 10, 9))
    assert cal.add_workdays(D(2025, 9, 30), 1) == D(2025, 10, 8)


def test_unpublished_year_falls_back_to_weekdays_and_is_provisional():
    last = max(official_years())
    year = last + 1
    monday = D(year, 1, 4) - dt.timedelta(days=D(year, 1, 4).weekday())
    assert CAL.is_workday(monday)
    assert not CAL.is_workday(monday + dt.timedelta(days=5))
    assert CAL.is_provisional(monday)
    assert not CAL.is_provisional(D(last, 6, 1))
    # Loading the year's schedule (as overrides, with the year marked published) settles it.
    cal = WorkCalendar({D(year, 1, 1): False}, published_years=[year])
    assert not cal.is_provisional(monday)


def test_deadline_crossing_into_an_unpublished_year_does_not_crash():
    start = D(max(official_years()), 12, 20)
    due = CAL.add_workdays(start, 20)
    assert due.year == start.year + 1
    assert CAL.range_provisional(start, due)


@given(st.dates(D(2004, 1, 1), D(2040, 12, 31)), st.integers(1, 400))
def test_add_then_count_round_trips(start, n):
    due = CAL.add_workdays(start, n)
    assert CAL.is_workday(due)
    assert CAL.workdays_between(start, due) == n
    assert CAL.workdays_between(start, due - dt.timedelta(days=1)) == n - 1


@given(st.dates(D(2004, 1, 1), D(2040, 12, 31)), st.dates(D(2004, 1, 1), D(2040, 12, 31)))
def test_count_matches_a_day_by_day_walk(a, b):
    lo, hi = min(a, b), max(a, b)
    if (hi - lo).days > 800:
        hi = lo + dt.timedelta(days=800)
    walked = sum(CAL.is_workday(lo + dt.timedelta(days=i)) for i in range(1, (hi - lo).days + 1))
    assert CAL.workdays_between(lo, hi) == walked
    assert CAL.workdays_between(hi, lo) == -walked


def test_out_of_window_dates_are_refused_clearly():
    from crm.milestones.calendar import OutOfRange

    with pytest.raises(OutOfRange):
        CAL.is_workday(D(1999, 12, 31))
