"""Deadline rules (DESIGN §4) against real State Council schedules, and their invariants."""

import datetime as dt

import pytest
from hypothesis import assume, given, settings, strategies as st

from crm.milestones import sla
from crm.milestones.calendar import WorkCalendar, official_years

D = dt.date
CAL = WorkCalendar()
W, C = sla.WORKING, sla.CALENDAR


# -- working-day limits over real holidays ------------------------------------------------------

def test_2025_national_day_and_mid_autumn():
    # 2025-09-28 (Sunday) is a working day; 10-01..10-08 are not; 10-11 (Saturday) is.
    assert sla.due_date(D(2025, 9, 26), 1, W, [], CAL) == D(2025, 9, 28)
    assert sla.due_date(D(2025, 9, 26), 3, W, [], CAL) == D(2025, 9, 30)
    assert sla.due_date(D(2025, 9, 26), 4, W, [], CAL) == D(2025, 10, 9)
    assert sla.due_date(D(2025, 9, 30), 1, W, [], CAL) == D(2025, 10, 9)
    assert sla.due_date(D(2025, 9, 30), 3, W, [], CAL) == D(2025, 10, 11)  # the working Saturday
    assert sla.due_date(D(2025, 9, 30), 4, W, [], CAL) == D(2025, 10, 13)


def test_acceptance_on_a_holiday_counts_from_the_next_working_day():
    assert sla.due_date(D(2025, 10, 3), 1, W, [], CAL) == D(2025, 10, 9)
    # 10-09, 10-10, Saturday 10-11, then 17 more ordinary working days.
    assert sla.due_date(D(2025, 10, 3), 20, W, [], CAL) == D(2025, 11, 4)


def test_2026_spring_festival():
    # 2026-02-14 (Saturday) works; 02-15..02-23 off; 02-28 (Saturday) works.
    assert sla.due_date(D(2026, 2, 13), 1, W, [], CAL) == D(2026, 2, 14)
    assert sla.due_date(D(2026, 2, 13), 2, W, [], CAL) == D(2026, 2, 24)
    assert sla.due_date(D(2026, 2, 24), 4, W, [], CAL) == D(2026, 2, 28)
    # 02-11..02-14 (4), 02-24..02-28 (5), then March: 03-16 is the 20th.
    assert sla.due_date(D(2026, 2, 10), 20, W, [], CAL) == D(2026, 3, 16)


def test_deadline_crossing_2026_into_unpublished_2027_is_provisional_then_settles():
    assert max(official_years()) == 2026, "chinesecalendar now covers 2027: update this test"
    # 2026-12-20 (Sunday) + 20 working days: Dec 21-31 (9), then 2027 counted Monday-Friday
    # without the statutory holidays (2027-01-01, 元旦, is not counted).
    due = sla.due_date(D(2026, 12, 20), 20, W, [], CAL)
    assert due == D(2027, 1, 18)
    facts = sla.schedule(D(2026, 12, 20), 20, W, [], CAL)
    assert facts.due_on == due and facts.provisional
    # Once 2027's notice is loaded, the same date, no longer provisional.
    loaded = WorkCalendar({D(2027, 1, 1): False}, published_years=[2027])
    facts = sla.schedule(D(2026, 12, 20), 20, W, [], loaded)
    assert facts.due_on == D(2027, 1, 18) and not facts.provisional
    # A make-up Saturday (调休) is only known from the notice: then the date comes earlier.
    makeup = WorkCalendar({D(2027, 1, 9): True}, published_years=[2027])
    assert sla.due_date(D(2026, 12, 20), 20, W, [], makeup) == D(2027, 1, 15)
    # A deadline wholly inside 2026 is not provisional.
    assert not sla.schedule(D(2026, 3, 2), 20, W, [], CAL).provisional


# -- pauses -------------------------------------------------------------------------------------

def test_pause_spanning_the_national_day_holiday_excludes_only_its_working_days():
    # Accepted Monday 2025-09-22, 10 working days: due 10-11 without a pause.
    assert sla.due_date(D(2025, 9, 22), 10, W, [], CAL) == D(2025, 10, 11)
    # Stopped 09-29 (paused) .. 10-08 (resumed 10-09): only 09-29 and 09-30 were working days.
    pauses = [(D(2025, 9, 29), D(2025, 10, 9))]
    assert sla.due_date(D(2025, 9, 22), 10, W, pauses, CAL) == D(2025, 10, 14)
    assert sla.workdays_used(D(2025, 9, 22), D(2025, 10, 14), pauses, CAL) == 10


def test_pause_and_resume_on_the_same_day_stop_nothing():
    plain = sla.due_date(D(2025, 9, 22), 10, W, [], CAL)
    assert sla.due_date(D(2025, 9, 22), 10, W, [(D(2025, 9, 25), D(2025, 9, 25))], CAL) == plain
    assert sla.due_date(D(2025, 9, 22), 10, C, [(D(2025, 9, 25), D(2025, 9, 25))], CAL) == \
        sla.due_date(D(2025, 9, 22), 10, C, [], CAL)


def test_an_open_pause_has_no_due_date_only_frozen_days():
    accepted, pauses = D(2025, 9, 22), [(D(2025, 9, 29), None)]
    assert sla.due_date(accepted, 10, W, pauses, CAL) is None
    # Used 09-23..09-28 (5 working days incl. Sunday 09-28): 5 left, frozen.
    assert sla.frozen_remaining(accepted, 10, W, pauses, CAL) == 5
    facts = sla.schedule(accepted, 10, W, pauses, CAL)
    assert facts == sla.Schedule(None, False, 5)
    # Resumed on 10-09: exactly 5 working days from 10-09 on.
    resumed = sla.due_date(accepted, 10, W, [(D(2025, 9, 29), D(2025, 10, 9))], CAL)
    assert CAL.workdays_between(D(2025, 10, 8), resumed) == 5


def test_a_pause_on_the_acceptance_day_freezes_the_whole_limit():
    accepted = D(2025, 9, 22)
    assert sla.frozen_remaining(accepted, 10, W, [(accepted, None)], CAL) == 10


def test_pauses_before_acceptance_or_overlapping_are_counted_once():
    accepted = D(2025, 9, 22)
    overlapping = [(D(2025, 9, 23), D(2025, 9, 26)), (D(2025, 9, 24), D(2025, 9, 29))]
    merged = [(D(2025, 9, 23), D(2025, 9, 29))]
    assert sla.due_date(accepted, 10, W, overlapping, CAL) == sla.due_date(accepted, 10, W, merged, CAL)
    before = [(D(2025, 9, 1), D(2025, 9, 23))]  # only 09-23.. is after acceptance: stops nothing
    assert sla.due_date(accepted, 10, W, before, CAL) == sla.due_date(accepted, 10, W, [], CAL)


# -- calendar-day limits ------------------------------------------------------------------------

def test_calendar_day_limit_ending_on_a_holiday_moves_to_the_next_working_day():
    assert sla.due_date(D(2025, 9, 24), 7, C, [], CAL) == D(2025, 10, 9)  # 10-01 is a holiday
    assert sla.due_date(D(2026, 2, 10), 7, C, [], CAL) == D(2026, 2, 24)  # 02-17: Spring Festival
    assert sla.due_date(D(2025, 9, 21), 7, C, [], CAL) == D(2025, 9, 28)  # a working Sunday
    assert sla.due_date(D(2025, 9, 1), 7, C, [], CAL) == D(2025, 9, 8)  # an ordinary Monday


def test_calendar_day_limit_with_a_pause_adds_the_stopped_days():
    # 30 days from 2025-06-02 = 07-02; stopped 06-10..06-14 (5 days) -> 07-07 (Monday).
    assert sla.due_date(D(2025, 6, 2), 30, C, [(D(2025, 6, 10), D(2025, 6, 15))], CAL) == D(2025, 7, 7)


# -- states, used, saved ------------------------------------------------------------------------

def test_states():
    facts = sla.MilestoneFacts
    today = D(2025, 9, 26)  # Friday; 09-28 (Sunday) works
    assert sla.state(facts("pending"), today, CAL) == "pending"
    assert sla.state(facts("paused"), today, CAL) == "paused"
    assert sla.state(facts("waived"), today, CAL) == "waived"
    assert sla.state(facts("running", D(2025, 10, 9)), today, CAL) == "on_track"  # 4 left
    assert sla.state(facts("running", D(2025, 9, 30)), today, CAL) == "on_track"  # 3 left
    assert sla.state(facts("running", D(2025, 9, 29)), today, CAL) == "due_soon"  # 2 left
    assert sla.state(facts("running", D(2025, 9, 26)), today, CAL) == "due_soon"  # due today
    assert sla.state(facts("running", D(2025, 9, 25)), today, CAL) == "overdue"
    assert sla.state(facts("running", D(2025, 9, 30)), today, CAL, warning_workdays=3) == "due_soon"
    assert sla.state(facts("done", D(2025, 9, 30), D(2025, 9, 30)), today, CAL) == "met"
    assert sla.state(facts("done", D(2025, 9, 30), D(2025, 10, 9)), today, CAL) == "missed"
    with pytest.raises(ValueError):
        sla.state(facts("lost"), today, CAL)


def test_workdays_used_and_time_saved_against_the_statutory_limit():
    accepted = D(2025, 9, 22)
    used = sla.workdays_used(accepted, D(2025, 9, 30), [], CAL)
    assert used == 7  # 23, 24, 25, 26, 28 (Sunday), 29, 30
    assert sla.time_saved(accepted, 20, W, used, CAL) == 13
    # 30 calendar days from 09-22 = 10-22: 18 working days (09-28 and 10-11 work).
    assert sla.limit_in_workdays(accepted, 30, C, CAL) == 18
    assert sla.time_saved(accepted, 30, C, used, CAL) == 11
    assert sla.workdays_used(accepted, accepted, [], CAL) == 0


def test_limits_must_be_positive_and_units_known():
    for limit, unit in ((0, W), (-3, C), (5, "hours")):
        with pytest.raises(ValueError):
            sla.due_date(D(2025, 9, 22), limit, unit, [], CAL)


def test_outcome():
    assert sla.outcome(D(2025, 9, 30), D(2025, 9, 30)) == "met"
    assert sla.outcome(D(2025, 10, 9), D(2025, 9, 30)) == "missed"


# -- invariants ---------------------------------------------------------------------------------

dates = st.dates(D(2004, 1, 1), D(2028, 12, 31))
limits = st.integers(1, 120)
units = st.sampled_from([W, C])


@st.composite
def closed_pauses(draw, after):
    spans = []
    for _ in range(draw(st.integers(0, 3))):
        start = after + dt.timedelta(days=draw(st.integers(0, 90)))
        spans.append((start, start + dt.timedelta(days=draw(st.integers(0, 40)))))
    return spans


@st.composite
def milestones(draw):
    accepted = draw(dates)
    return accepted, draw(limits), draw(units), draw(closed_pauses(accepted))


@given(milestones())
def test_the_due_date_is_a_working_day(m):
    assert CAL.is_workday(sla.due_date(*m, CAL))


@given(milestones(), st.data())
def test_adding_a_pause_never_makes_a_deadline_earlier(m, data):
    accepted, limit, unit, pauses = m
    extra = data.draw(closed_pauses(accepted))
    assert sla.due_date(accepted, limit, unit, pauses + extra, CAL) >= sla.due_date(*m, CAL)


@given(dates, limits)
def test_n_working_days_after_s_has_exactly_n_in_between(accepted, limit):
    due = sla.due_date(accepted, limit, W, [], CAL)
    assert CAL.workdays_between(accepted, due) == limit
    assert CAL.workdays_between(accepted, due - dt.timedelta(days=1)) == limit - 1


@given(milestones())
def test_paused_days_excluded_the_limit_is_used_exactly_on_the_due_date(m):
    accepted, limit, _, pauses = m
    due = sla.due_date(accepted, limit, W, pauses, CAL)
    assert sla.workdays_used(accepted, due, pauses, CAL) == limit


@given(milestones(), st.data())
def test_resuming_after_a_frozen_pause_leaves_exactly_the_frozen_days(m, data):
    accepted, limit, _, pauses = m
    due = sla.due_date(accepted, limit, W, pauses, CAL)
    last = max([accepted] + [r for _, r in pauses])
    assume(last < due)
    paused_on = last + dt.timedelta(days=data.draw(st.integers(0, (due - last).days)))
    frozen = sla.frozen_remaining(accepted, limit, W, pauses + [(paused_on, None)], CAL)
    resumed_on = paused_on + dt.timedelta(days=data.draw(st.integers(0, 60)))
    new_due = sla.due_date(accepted, limit, W, pauses + [(paused_on, resumed_on)], CAL)
    # The acceptance day itself never counts (a pause may start and end on it).
    assert CAL.workdays_between(max(resumed_on - dt.timedelta(days=1), accepted), new_due) == frozen


@settings(max_examples=50)
@given(st.lists(milestones(), max_size=40))
def test_bulk_and_one_by_one_agree(rows):
    assert sla.due_dates_bulk(rows, CAL) == [sla.due_date(*row, CAL) for row in rows]


@given(milestones(), st.dictionaries(dates, st.booleans(), max_size=30))
def test_overrides_keep_the_invariants(m, overrides):
    cal = WorkCalendar(overrides)
    accepted, limit, unit, pauses = m
    due = sla.due_date(accepted, limit, unit, pauses, cal)
    assert cal.is_workday(due)
    assert sla.due_dates_bulk([m], cal) == [due]


def _walked(accepted, limit, unit, pauses, cal):
    """The rule read literally: count the days after acceptance one by one, skipping stopped
    days (P .. R-1 of every pause) and, for working-day limits, non-working days."""
    stopped = {p + dt.timedelta(days=i) for p, r in pauses for i in range((r - p).days)}
    day, counted = accepted, 0
    while counted < limit:
        day += dt.timedelta(days=1)
        if day not in stopped and (unit == C or cal.is_workday(day)):
            counted += 1
    return day if unit == W else cal.next_workday(day)


@given(milestones(), st.dictionaries(dates, st.booleans(), max_size=10))
def test_due_date_matches_a_day_by_day_walk(m, overrides):
    cal = WorkCalendar(overrides)
    assert sla.due_date(*m, cal) == _walked(*m, cal)


# -- how late -----------------------------------------------------------------------------------

@given(st.sampled_from(["pending", "running", "paused", "done", "waived"]),
       st.sampled_from([None, "met", "missed"]),
       st.dates(D(2025, 1, 1), D(2026, 12, 31)), st.integers(-30, 30), st.integers(-30, 30))
def test_only_running_overdue_and_missed_milestones_are_late(status, outcome, due, done_after, today_after):
    completed = due + dt.timedelta(days=done_after) if status == "done" else None
    today = due + dt.timedelta(days=today_after)
    if status == "done":
        outcome = sla.outcome(completed, due)
    late = sla.workdays_late(status, outcome, due, completed, today, CAL)
    state = sla.state(sla.MilestoneFacts(status, due, completed), today, CAL)
    assert (late is not None) == (state in ("overdue", "missed"))
    if state == "overdue":
        assert late == CAL.workdays_between(due, today)  # to today
    if state == "missed":
        assert late == CAL.workdays_between(due, completed)  # to the completion, not today


def test_a_met_milestone_is_never_late_however_long_ago_it_was_due():
    assert sla.workdays_late("done", "met", D(2025, 11, 13), D(2025, 11, 11), D(2026, 12, 4), CAL) is None
