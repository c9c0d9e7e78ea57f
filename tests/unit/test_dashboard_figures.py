"""The pure parts of the dashboard figures: the "due soon" window over holidays, the trend's
months, the period, and how park figures add up to the city's (what the rollups store)."""

from __future__ import annotations

import datetime as dt

import pytest

from crm.dashboard.queries.figures import ParkFigures, StageDays, trend_months
from crm.milestones import sla
from crm.milestones.calendar import WorkCalendar
from crm.milestones.queries import due_soon_before, period_start


@pytest.fixture(scope="module")
def calendar():
    return WorkCalendar()


def test_due_soon_window_skips_the_national_day_holiday(calendar):
    # 2025: 1-8 October off, Saturday 11 October an adjusted working day (调休上班).
    today = dt.date(2025, 9, 30)
    end = due_soon_before(today, calendar, 5)
    assert end == dt.date(2025, 10, 15)
    # Due 14 October: 5 working days left (9, 10, 11, 13, 14): due soon; the 15th: on track.
    assert sla.remaining_workdays(dt.date(2025, 10, 14), today, calendar) == 5
    assert sla.state(sla.MilestoneFacts("running", dt.date(2025, 10, 14)), today, calendar,
                     warning_workdays=5) == "due_soon"
    assert sla.state(sla.MilestoneFacts("running", end), today, calendar,
                     warning_workdays=5) == "on_track"
    # The default window (2 working days): due 10 October is due soon, the 11th is not.
    assert due_soon_before(today, calendar, sla.DEFAULT_WARNING_WORKDAYS) == dt.date(2025, 10, 11)


def test_due_soon_window_from_a_weekend_day(calendar):
    saturday = dt.date(2024, 6, 1)
    assert due_soon_before(saturday, calendar, 5) == dt.date(2024, 6, 11)  # 10 June: 端午


def test_trend_covers_twelve_months_across_the_new_year():
    assert trend_months(dt.date(2026, 2, 15)) == [
        "2025-03", "2025-04", "2025-05", "2025-06", "2025-07", "2025-08", "2025-09", "2025-10",
        "2025-11", "2025-12", "2026-01", "2026-02"]
    assert trend_months(dt.date(2026, 12, 31), 2) == ["2026-11", "2026-12"]


def test_period_start_is_excluded_from_the_period():
    assert period_start(dt.date(2025, 3, 31), 30) == dt.date(2025, 3, 1)


def test_city_figures_are_the_sum_of_the_parks_and_survive_storage():
    a = ParkFigures(active_projects=3, investment=195000, overdue=2, met=3, missed=1, workdays_saved=7,
              stages={"filing": [1, 50000]}, stage_days={"filing": StageDays(2, 30, 40)},
              months={"2025-03": [1, 2, 0]})
    b = ParkFigures(active_projects=1, investment=20000, met=1, workdays_saved=-2,
              stages={"filing": [1, 20000], "land": [0, 0]},
              stage_days={"filing": StageDays(1, 9, 5)}, months={"2025-03": [0, 0, 1]})
    stored_a = ParkFigures.from_dict(a.as_dict())  # what a rollup row holds
    assert stored_a == a
    city = ParkFigures()
    city.add(stored_a)
    city.add(ParkFigures.from_dict(b.as_dict()))
    assert (city.active_projects, city.investment, city.overdue) == (4, 215000, 2)
    assert (city.met, city.missed, city.workdays_saved) == (4, 1, 5)
    assert city.compliance_pct == 80.0
    assert city.stages == {"filing": [2, 70000], "land": [0, 0]}
    assert city.stage_days["filing"] == StageDays(3, 39, 45)
    assert city.stage_days["filing"].average_used == 13.0
    assert city.stage_days["filing"].average_committed == 15.0
    assert city.months == {"2025-03": [1, 2, 1]}
    # Adding did not touch the parks' own figures.
    assert stored_a.stages == {"filing": [1, 50000]} and a.stage_days["filing"].finished == 2


def test_no_finished_milestones_means_no_compliance_rather_than_zero():
    f = ParkFigures()
    assert f.compliance_pct is None and f.finished == 0
    assert StageDays().average_used is None
