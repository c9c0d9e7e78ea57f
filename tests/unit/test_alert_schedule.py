"""When alerts may leave (crm/notifications/schedule.py): quiet hours, digests on working days
only (the 2026 National Day holiday skipped, its make-up Saturday kept), backoff, the ladder."""

import datetime as dt

from hypothesis import given, strategies as st

from crm.milestones.calendar import WorkCalendar
from crm.notifications import schedule

CAL = WorkCalendar()
T = dt.datetime
AT = dt.time(8, 30)


def test_inside_the_window_a_message_goes_at_once():
    assert schedule.send_at(T(2026, 9, 30, 9, 0), CAL) == T(2026, 9, 30, 9, 0)
    assert schedule.send_at(T(2026, 9, 30, 19, 59), CAL) == T(2026, 9, 30, 19, 59)


def test_evening_messages_wait_for_the_next_working_morning_past_the_national_day_holiday():
    # 2026-09-30 (Wednesday) evening: 10-01..10-07 are off, 10-08 is the next working day.
    assert schedule.send_at(T(2026, 9, 30, 20, 0), CAL) == T(2026, 10, 8, 8, 0)
    assert schedule.send_at(T(2026, 10, 3, 3, 0), CAL) == T(2026, 10, 8, 8, 0)
    # Friday night waits for Monday; before 08:00 on a working day, for that morning.
    assert schedule.send_at(T(2026, 11, 6, 22, 0), CAL) == T(2026, 11, 9, 8, 0)
    assert schedule.send_at(T(2026, 11, 9, 3, 0), CAL) == T(2026, 11, 9, 8, 0)
    # The make-up Saturday 2026-10-10 is a working morning.
    assert schedule.send_at(T(2026, 10, 9, 21, 0), CAL) == T(2026, 10, 10, 8, 0)


def test_urgent_messages_ignore_quiet_hours():
    assert schedule.send_at(T(2026, 10, 3, 3, 0), CAL, urgent=True) == T(2026, 10, 3, 3, 0)


def test_digests_only_on_working_days_from_their_time():
    assert not schedule.digest_due(T(2026, 10, 2, 9, 0), CAL, AT)  # National Day
    assert not schedule.digest_due(T(2026, 10, 4, 9, 0), CAL, AT)  # a Sunday in the holiday
    assert schedule.digest_due(T(2026, 10, 10, 8, 30), CAL, AT)  # the make-up Saturday
    assert not schedule.digest_due(T(2026, 10, 10, 8, 29), CAL, AT)
    assert not schedule.digest_due(T(2026, 10, 17, 9, 0), CAL, AT)  # an ordinary Saturday
    assert schedule.digest_due(T(2026, 9, 20, 10, 0), CAL, AT)  # the make-up Sunday


@given(st.datetimes(min_value=T(2025, 1, 1), max_value=T(2027, 12, 20)), st.booleans())
def test_a_release_time_is_never_earlier_and_always_inside_the_window(raised, urgent):
    at = schedule.send_at(raised, CAL, urgent=urgent)
    assert at >= raised
    if urgent:
        assert at == raised
    else:
        assert schedule.in_window(at, CAL)
        # It is the first allowed moment: the window's start, with no working day skipped.
        if at != raised:
            assert at.time() == dt.time(8, 0)
            day = raised.date() + dt.timedelta(days=1)
            while day < at.date():
                assert not CAL.is_workday(day)
                day += dt.timedelta(days=1)


@given(st.integers(min_value=1, max_value=200))
def test_backoff_doubles_up_to_its_cap(attempts):
    delay = schedule.retry_delay(attempts, base=60, cap=3600)
    assert dt.timedelta(seconds=60) <= delay <= dt.timedelta(seconds=3600)
    assert schedule.retry_delay(attempts + 1, base=60, cap=3600) >= delay
    if attempts <= 6:
        assert delay == dt.timedelta(seconds=60 * 2 ** (attempts - 1))


@given(st.one_of(st.none(), st.integers(min_value=-3, max_value=40)))
def test_ladder_steps_reached_are_exactly_those_at_or_below(workdays):
    ladder = [1, 3, 5]
    reached = schedule.steps_reached(workdays, ladder)
    expected = [] if workdays is None else [s for s in ladder if s <= workdays]
    assert reached == expected
