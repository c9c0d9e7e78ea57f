"""The working-day calendar against real State Council schedules."""

import datetime as dt

import chinese_calendar
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


# -- provisional years: the statutory holidays are known in advance -------------------------

@pytest.mark.parametrize("day,what", [
    (D(2027, 1, 1), "元旦"),
    (D(2027, 2, 5), "除夕"), (D(2027, 2, 6), "初一"), (D(2027, 2, 7), "初二"),
    (D(2027, 2, 8), "初三"),
    (D(2027, 4, 5), "清明"),
    (D(2027, 5, 1), "劳动节"), (D(2027, 5, 2), "劳动节"),
    (D(2027, 6, 9), "端午"),
    (D(2027, 9, 15), "中秋"),
    (D(2027, 10, 1), "国庆"), (D(2027, 10, 2), "国庆"), (D(2027, 10, 3), "国庆"),
])
def test_a_provisional_year_keeps_the_statutory_holidays(day, what):
    assert 2027 not in official_years(), "2027's notice is bundled now: pick a later year"
    assert not CAL.is_workday(day), what
    assert CAL.is_provisional(day)


def test_the_prediction_agrees_with_the_published_notices():
    """For years whose notice is bundled, every predicted holiday is a day off in it."""
    from crm.milestones.calendar import statutory_holidays

    for year in (2025, 2026):  # the years under the law as amended in 2024
        published = {d for d in chinese_calendar.holidays if d.year == year}
        assert statutory_holidays(year) <= published, year


@given(st.integers(max(official_years()) + 1, 2099))
def test_every_provisional_year_has_its_thirteen_holidays(year):
    from crm.milestones.calendar import statutory_holidays

    days = statutory_holidays(year)
    # 13 days: 1 + 4 + 1 + 2 + 1 + 1 + 3 (12 when 中秋 falls on a day of 国庆)
    assert len(days) in (12, 13) and all(d.year == year for d in days)
    assert all(not CAL.is_workday(d) for d in days if d.year == year)
    # Weekdays that are no holiday stay working days (no make-up days are invented).
    monday = next(D(year, 3, 1) + dt.timedelta(days=i) for i in range(7)
                  if (D(year, 3, 1) + dt.timedelta(days=i)).weekday() == 0)
    assert CAL.is_workday(monday)


def test_a_provisional_deadline_skips_new_years_day():
    start = D(2026, 12, 30)  # Wednesday
    assert CAL.add_workdays(start, 1) == D(2026, 12, 31)
    assert CAL.add_workdays(start, 2) == D(2027, 1, 4)  # not Friday 2027-01-01 (元旦)
