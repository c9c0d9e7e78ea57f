"""Dashboards (issue 8): a park's figures exact against a hand-built park (computed directly
and as rendered), filters, the city's per-park rollups and their freshness, access, drill-down
lists that count what the figures count, constant query counts, the project list's "since"
filter and escaping of user text."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from tests import factories
from tests.conftest import count_queries, login
from tests.integration.pdf_support import redis_db, run_burst_worker  # noqa: F401  (fixture)

SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"


# -- helpers ---------------------------------------------------------------------------------

def _today_and_calendar(app):
    from crm.i18n import today
    from crm.milestones.queries import work_calendar

    with app.app_context():
        return today(), work_calendar()


def workdays_back(calendar, end: dt.date, n: int) -> dt.date:
    """The latest day d with exactly n working days in (d, end]."""
    day = end
    while calendar.workdays_between(day, end) < n:
        day -= dt.timedelta(days=1)
    return day


def switch(client, username: str):
    client.post("/logout")
    login(client, username)


def figures_on(page: str) -> dict[str, str]:
    return {k: v.strip() for k, v in re.findall(r'data-testid="figure-([a-z_]+)">([^<]*)<', page)}


def figure_links(page: str) -> dict[str, str]:
    return {name: htmllib.unescape(href)
            for href, name in re.findall(r'href="([^"]+)" data-figure="([a-z_]+)"', page)}


def total_on(page: str) -> int:
    match = re.search(r'data-testid="total">(\d+)<', page)
    assert match, "no total on the page"
    return int(match.group(1))


def get_ok(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def listed_projects(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-project-id="(\d+)"', page)]


def done(project, stage, completed_on, used, limit=10, limit_unit="working", statutory=20,
         statutory_unit="working", outcome="met", calendar=None):
    """A finished milestone: accepted so that exactly ``used`` working days lie in
    (accepted, completed]."""
    accepted = workdays_back(calendar, completed_on, used)
    return factories.milestone(
        project, stage=stage, status="done", outcome=outcome, accepted_on=accepted,
        completed_on=completed_on, workdays_used=used, limit_value=limit, limit_unit=limit_unit,
        statutory_value=statutory, statutory_unit=statutory_unit,
        due_on=calendar.add_workdays(accepted, limit) if limit_unit == "working"
        else calendar.next_workday(accepted + dt.timedelta(days=limit)))


# -- the hand-built park ---------------------------------------------------------------------

@pytest.fixture
def hand(app, world):
    """Park C with projects, milestones, logs and assignments whose figures are known.

    Projects: p1 filing/active/5亿/new_energy (fully assigned), p2 land/active/12亿/new_materials
    (consultant only: unassigned), p3 filing/on_hold, p4 land/dropped created at local midnight
    of the 1st (UTC: the day before), p5 planning/active/2.5亿 created one second before this
    month (its lead agent's assignment ended: unassigned).
    """
    from crm.extensions import db
    from crm.i18n import local_day_start
    from crm.milestones import sla

    today, cal = _today_and_calendar(app)
    with app.app_context():
        c = factories.park(db.session.merge(world.park_a).district, "如皋高新技术产业开发区", "如皋高新区")
        consultant = factories.staff([c], "consultant", "孙顾问", capacity=10)
        agent = factories.staff([c], "agent", "周代办", capacity=10)
        p1 = factories.project(c, "如皋储能项目", stage="filing", investment=50000, industry="new_energy")
        p2 = factories.project(c, "如皋新材料项目", stage="land", investment=120000,
                               industry="new_materials")
        p3 = factories.project(c, "如皋暂缓项目", stage="filing", status="on_hold", investment=30000,
                               industry="new_energy")
        p4 = factories.project(c, "如皋终止项目", stage="land", status="dropped", investment=40000,
                               industry="new_energy",  # the first instant of the local month
                               created_at=local_day_start(today.replace(day=1)))
        p5 = factories.project(c, "如皋上月项目", stage="planning", investment=25000,
                               industry="new_energy",
                               created_at=local_day_start(today.replace(day=1)) - dt.timedelta(seconds=1))
        factories.assign(p1, consultant, "consultant")
        factories.assign(p1, agent, "lead_agent")
        factories.assign(p2, consultant, "consultant")
        factories.assign(p5, consultant, "consultant")
        ended = factories.assign(p5, agent, "lead_agent")
        ended.ended_at = dt.datetime.now(dt.timezone.utc)

        m = {}
        # Running: overdue (yesterday, 20 days ago), due soon (today, 2 working days ahead: the
        # SLA_WARNING_WORKDAYS window), on track (3 working days ahead); paused; pending and
        # waived count nowhere.
        m["over_recent"] = factories.milestone(p1, "项目备案", due_on=today - dt.timedelta(days=1))
        m["over_old"] = factories.milestone(p2, "用地预审", due_on=today - dt.timedelta(days=20))
        m["due_today"] = factories.milestone(p1, "节能审查", due_on=today)
        m["soon2"] = factories.milestone(p2, "建设用地规划许可证", due_on=cal.add_workdays(today, 2))
        m["track3"] = factories.milestone(p1, "施工图审查", due_on=cal.add_workdays(today, 3))
        m["paused"] = factories.milestone(p2, "消防设计审查", status="paused", remaining_workdays=3,
                                          accepted_on=today - dt.timedelta(days=10))
        factories.milestone(p1, "施工许可证")  # pending
        factories.milestone(p1, "项目核准", status="waived", waive_reason="不适用")
        # Finished, period 90: met today (8 of statutory 20 wd), missed 89 days ago
        # (25 of 20 wd), 环评 met 10 days ago (22 wd against statutory 30 calendar days),
        # a calendar-day committed limit without statutory limit 40 days ago; and one
        # completed exactly 90 days ago: outside the period.
        m["met_in"] = done(p1, "filing", today, 8, calendar=cal)
        m["missed_in"] = done(p2, "land", today - dt.timedelta(days=89), 25, limit=20,
                              outcome="missed", calendar=cal)
        m["eia"] = done(p1, "filing", today - dt.timedelta(days=10), 22, limit=30, statutory=30,
                        statutory_unit="calendar", calendar=cal)
        m["nostat"] = done(p2, "land", today - dt.timedelta(days=40), 4, limit=7,
                           limit_unit="calendar", statutory=None, calendar=cal)
        m["out"] = done(p1, "filing", today - dt.timedelta(days=90), 5, calendar=cal)
        # Blockers: two open, one resolved; a visit log.
        blocker_script = factories.log(p1, "blocker", SCRIPT, happened_on=today - dt.timedelta(days=3))
        blocker_land = factories.log(p2, "blocker", "土地指标未落实", happened_on=today - dt.timedelta(days=10))
        factories.log(p1, "blocker", "已解决的堵点", happened_on=today - dt.timedelta(days=30),
                      resolved_at=dt.datetime.now(dt.timezone.utc))
        factories.log(p1, "visit", "走访企业")
        # Another park's overdue milestone and blocker must not leak into park C.
        a1 = db.session.merge(world.projects["a1"])
        factories.milestone(a1, due_on=today - dt.timedelta(days=3))
        factories.log(a1, "blocker", "园区A的堵点")
        db.session.commit()

        eia = m["eia"]
        eia_saved = sla.time_saved(eia.accepted_on, 30, "calendar", 22, cal)
        # The same limit walked day by day: working days in (accepted, accepted + 30 days],
        # the end moved to the next working day.
        end = eia.accepted_on + dt.timedelta(days=30)
        while not cal.is_workday(end):
            end += dt.timedelta(days=1)
        walked = sum(cal.is_workday(eia.accepted_on + dt.timedelta(days=k))
                     for k in range(1, (end - eia.accepted_on).days + 1))
        nostat_committed = sla.limit_in_workdays(m["nostat"].accepted_on, 7, "calendar", cal)
        return {
            "park": c.id, "today": today, "calendar": cal,
            "projects": {k: v.id for k, v in dict(p1=p1, p2=p2, p3=p3, p4=p4, p5=p5).items()},
            "milestones": {k: v.id for k, v in m.items()},
            "completed": {k: v.completed_on for k, v in m.items() if v.completed_on},
            "blockers": [blocker_land.id, blocker_script.id],  # oldest first
            "eia_saved": eia_saved, "eia_statutory_walked": walked,
            "nostat_committed": nostat_committed,
        }


EXPECTED = {
    "active_projects": 3, "investment": 195000, "new_this_month": 4,
    "overdue": 2, "due_soon": 2, "on_track": 1, "paused": 1,
    "met": 3, "missed": 1, "open_blockers": 2, "unassigned": 2,
}


def _compute(app, park_id, today, calendar, **slice_args):
    from crm.dashboard.queries.figures import Slice, compute

    with app.app_context():
        return compute(Slice(park_id=park_id, **slice_args), today, calendar)


def test_park_figures_are_exact(app, hand):
    today, cal = hand["today"], hand["calendar"]
    result = _compute(app, hand["park"], today, cal)
    assert set(result) == {hand["park"]}
    f = result[hand["park"]]
    for name, value in EXPECTED.items():
        assert getattr(f, name) == value, name
    # 12 - 5 + the 环评's calendar-day statutory limit converted into working days
    assert hand["eia_saved"] == hand["eia_statutory_walked"] - 22
    assert f.workdays_saved == 12 - 5 + hand["eia_saved"]
    assert f.compliance_pct == 75.0
    # Only active projects count per stage; the on-hold and dropped ones nowhere.
    assert f.stages == {"filing": [1, 50000], "land": [1, 120000], "planning": [1, 25000]}
    # Working days used against committed, per stage of the milestones finished in the period.
    filing, land = f.stage_days["filing"], f.stage_days["land"]
    assert (filing.finished, filing.used, filing.committed) == (2, 8 + 22, 10 + 30)
    assert (land.finished, land.used, land.committed) == (2, 25 + 4, 20 + hand["nostat_committed"])
    # The trend: this month's new projects, each month's met and missed (the milestone
    # completed 90 days ago is outside the period but inside the 12 months).
    month = today.strftime("%Y-%m")
    expected_months: dict[str, list[int]] = {}
    for name, day in hand["completed"].items():
        values = expected_months.setdefault(day.strftime("%Y-%m"), [0, 0, 0])
        values[2 if name == "missed_in" else 1] += 1
    expected_months.setdefault(month, [0, 0, 0])[0] += 4
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    expected_months.setdefault(last_month, [0, 0, 0])[0] += 1  # p5
    assert f.months == expected_months


def test_park_page_shows_the_computed_figures(app, client, hand):
    login(client, "admin")
    page = get_ok(client, f"/dashboard/parks/{hand['park']}")
    shown = figures_on(page)
    f = _compute(app, hand["park"], hand["today"], hand["calendar"])[hand["park"]]
    assert shown == {
        "active_projects": "3", "investment": "19.5", "new_this_month": "4",
        "overdue": "2", "due_soon": "2", "on_track": "1", "compliance": "75.0%",
        "workdays_saved": str(f.workdays_saved), "open_blockers": "2", "unassigned": "2",
        "promise_at_risk": "0", "promise_overdue": "0", "promise_margin": "—",
        "satisfaction": "—", "cases_late": "0", "plan_completion": "—", "problems_open": "0",
    }
    assert "另有1项暂停计时" in page  # 1 paused
    assert "近90天办结4项，按期3项" in page  # 3 met of 4 finished, last 90 days
    # The lists: most overdue first, the other park's milestone absent.
    overdue = re.search(r'data-testid="overdue-list">(.*?)</ul>', page, re.S).group(1)
    assert overdue.index("如皋新材料项目") < overdue.index("如皋储能项目")
    assert overdue.count("<li") == 2
    blockers = re.search(r'data-testid="blocker-list">(.*?)</ul>', page, re.S).group(1)
    assert blockers.count("<li") == 2 and "园区A的堵点" not in blockers
    assert blockers.index("土地指标未落实") < blockers.index(ESCAPED_SCRIPT)  # oldest first
    due_soon = re.search(r'data-testid="due-soon-list">(.*?)</ul>', page, re.S).group(1)
    # The list is the card's figure: due today and in 2 working days; not the overdue one,
    # not the one 3 working days away.
    assert "节能审查" in due_soon and "建设用地规划许可证" in due_soon
    assert "项目备案" not in due_soon and "施工图审查" not in due_soon
    assert due_soon.count("<li") == int(shown["due_soon"]) == 2


def test_park_manager_lands_on_their_park(client, world):
    login(client, "manager_b")
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/dashboard/parks/{world.park_b.id}")
    switch(client, "leader")
    assert client.get("/dashboard/").headers["Location"].endswith("/dashboard/city")
    picked = client.get(f"/dashboard/?park={world.park_a.id}")
    assert picked.headers["Location"].endswith(f"/dashboard/parks/{world.park_a.id}")


# -- filters ---------------------------------------------------------------------------------

FILTERED = {
    # Only p2 (new materials): the new-energy projects vanish from every count.
    "industry=new_materials": {
        "active_projects": 1, "investment": 120000, "new_this_month": 1, "overdue": 1,
        "due_soon": 1, "on_track": 0, "paused": 1, "met": 1, "missed": 1, "workdays_saved": -5,
        "open_blockers": 1, "unassigned": 1},
    # p1 and the on-hold p3: p2's and p5's rows vanish.
    "stage=filing": {
        "active_projects": 1, "investment": 50000, "new_this_month": 2, "overdue": 1,
        "due_soon": 1, "on_track": 1, "paused": 0, "met": 2, "missed": 0, "open_blockers": 1,
        "unassigned": 0},
    "stage=filing&industry=new_materials": {
        "active_projects": 0, "investment": 0, "new_this_month": 0, "overdue": 0, "due_soon": 0,
        "on_track": 0, "paused": 0, "met": 0, "missed": 0, "workdays_saved": 0,
        "open_blockers": 0, "unassigned": 0},
    # The period moves only the finished figures: 30 days keeps today's and the 环评 (10 days
    # ago); 365 days adds the one completed exactly 90 days ago (+15 saved).
    "period=30": {"met": 2, "missed": 0, "overdue": 2, "active_projects": 3},
    "period=365": {"met": 4, "missed": 1, "overdue": 2, "active_projects": 3},
}


@pytest.mark.parametrize("query", sorted(FILTERED))
def test_filters_change_the_figures(app, client, hand, query):
    from crm.dashboard.queries.figures import DEFAULT_PERIOD
    from crm.dashboard.queries.boards import parse_filters

    args = dict(pair.split("=") for pair in query.split("&"))
    filters = parse_filters(args)
    assert not filters.cleared
    park = hand["park"]
    f = _compute(app, park, hand["today"], hand["calendar"], stage=filters.stage,
                 industry=filters.industry, period_days=filters.period).get(park)
    expected = dict(FILTERED[query])
    if query == "stage=filing":
        expected["workdays_saved"] = 12 + hand["eia_saved"]
    if query == "period=30":
        expected["workdays_saved"] = 12 + hand["eia_saved"]
    if query == "period=365":
        expected["workdays_saved"] = 12 - 5 + hand["eia_saved"] + 15
    if f is None:  # nothing in the slice
        assert all(v == 0 for v in expected.values())
    else:
        assert {k: getattr(f, k) for k in expected} == expected
    login(client, "admin")
    page = get_ok(client, f"/dashboard/parks/{park}?{query}")
    shown = figures_on(page)
    assert 'data-testid="filters-cleared"' not in page
    for name in ("active_projects", "overdue", "due_soon", "on_track", "open_blockers",
                 "unassigned", "workdays_saved"):
        if name in expected:
            assert shown[name] == str(expected[name]), name
    # Every link from a figure keeps the filters, so the list counts what the figure counts.
    links = figure_links(page)
    for name in ("overdue", "due_soon", "on_track", "open_blockers"):
        assert total_on(get_ok(client, links[name])) == int(shown[name]), name
    finished = total_on(get_ok(client, links["compliance"]))
    assert finished == expected["met"] + expected["missed"]
    if filters.period != DEFAULT_PERIOD:
        assert f"period={filters.period}" in links["compliance"]


# -- drill-down lists ------------------------------------------------------------------------

def test_every_figure_links_to_the_list_it_counts(app, client, hand):
    login(client, "manager_a")  # not park C's manager
    assert client.get(f"/dashboard/milestones?state=overdue&park={hand['park']}").status_code == 404
    switch(client, "admin")
    page = get_ok(client, f"/dashboard/parks/{hand['park']}")
    shown, links = figures_on(page), figure_links(page)
    for name in ("overdue", "due_soon", "on_track", "open_blockers"):
        assert f"park={hand['park']}" in links[name]
        assert total_on(get_ok(client, links[name])) == int(shown[name]), name
    assert total_on(get_ok(client, links["compliance"])) == 4
    assert links["workdays_saved"] == links["compliance"]
    for state, expected in {"paused": 1, "met": 3, "missed": 1, "finished": 4}.items():
        drill = get_ok(client, f"/dashboard/milestones?state={state}&park={hand['park']}")
        assert total_on(drill) == expected, state
    # Projects: the active figure lists the active projects, "new this month" those created
    # since the first of the month (on hold and dropped included, last month's p5 not).
    p = hand["projects"]
    assert sorted(listed_projects(get_ok(client, links["active_projects"]))) == sorted(
        [p["p1"], p["p2"], p["p5"]])
    assert sorted(listed_projects(get_ok(client, links["new_this_month"]))) == sorted(
        [p["p1"], p["p2"], p["p3"], p["p4"]])
    unassigned = get_ok(client, links["unassigned"])
    assert "如皋新材料项目" in unassigned and "如皋上月项目" in unassigned
    assert "如皋储能项目" not in unassigned


def test_overdue_list_holds_exactly_the_overdue_milestones_most_overdue_first(app, client, hand):
    login(client, "admin")
    page = get_ok(client, f"/dashboard/milestones?state=overdue&park={hand['park']}")
    assert total_on(page) == 2
    rows = re.search(r'data-testid="milestone-rows">.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    items = re.findall(r"<td>(\S+) <span", rows)
    assert items == ["用地预审", "项目备案"]  # due 20 days ago, then yesterday
    today, cal = hand["today"], hand["calendar"]
    days_old = cal.workdays_between(today - dt.timedelta(days=20), today)
    days_recent = cal.workdays_between(today - dt.timedelta(days=1), today)
    # Working days overdue; a deadline passed with no working day gone yet (a weekend) reads
    # just "已超期" rather than "0 working days".
    badges = re.findall(r'badge-state-overdue">([^<]*)<', rows)
    assert badges == [f"超期{days}个工作日" if days else "已超期"
                      for days in (days_old, days_recent)]
    assert "园区A" not in rows


def test_blockers_list_equals_the_open_blockers_figure(app, client, hand):
    login(client, "admin")
    page = get_ok(client, f"/dashboard/blockers?park={hand['park']}")
    assert total_on(page) == 2
    assert "已解决的堵点" not in page and "园区A的堵点" not in page
    assert page.index("土地指标未落实") < page.index(ESCAPED_SCRIPT)
    everywhere = get_ok(client, "/dashboard/blockers")  # every park (leadership)
    assert total_on(everywhere) == 3
    assert "园区A的堵点" in everywhere


# -- the city: per-park rollups --------------------------------------------------------------

def city_rows(page: str) -> dict[int, dict[str, int]]:
    """Per park row of the comparison table: active projects, overdue, open blockers."""
    rows = {}
    for park_id, body in re.findall(r'<tr data-park-id="(\d+)">(.*?)</tr>', page, re.S):
        active = re.search(r'data-figure="active">(\d+)<', body).group(1)
        overdue = re.search(r'state=overdue&amp;park=\d+">(\d+)<', body).group(1)
        blockers = re.search(r'blockers\?park=\d+">(\d+)<', body).group(1)
        rows[int(park_id)] = {"active": int(active), "overdue": int(overdue),
                              "blockers": int(blockers)}
    return rows


def _refresh(app, today=None):
    from crm.dashboard import services
    from crm.extensions import db
    from crm.i18n import today as local_today
    from crm.milestones.queries import work_calendar

    with app.app_context():
        services.refresh(today or local_today(), work_calendar())
        db.session.commit()


def _age_rollups(app, **values):
    from crm.dashboard.models import ParkRollup
    from crm.extensions import db

    with app.app_context():
        db.session.execute(update(ParkRollup).values(**values))
        db.session.commit()


def _add_active_project(app, park_id: int, name="新增项目"):
    from crm.extensions import db
    from crm.parks.models import Park

    with app.app_context():
        factories.project(db.session.get(Park, park_id), name)
        db.session.commit()


def test_city_rows_sum_to_the_city_figures(app, client, world, hand):
    _refresh(app)
    login(client, "leader")
    page = get_ok(client, "/dashboard/city")
    rows, shown = city_rows(page), figures_on(page)
    assert set(rows) == {world.park_a.id, world.park_b.id, hand["park"]}
    assert rows[hand["park"]] == {"active": 3, "overdue": 2, "blockers": 2}
    # world: park A has a1 and a2 active, a1 the overdue milestone and blocker added by `hand`
    assert rows[world.park_a.id] == {"active": 2, "overdue": 1, "blockers": 1}
    assert rows[world.park_b.id] == {"active": 1, "overdue": 0, "blockers": 0}
    assert int(shown["active_projects"]) == sum(r["active"] for r in rows.values()) == 6
    assert int(shown["overdue"]) == sum(r["overdue"] for r in rows.values()) == 3
    assert int(shown["open_blockers"]) == sum(r["blockers"] for r in rows.values()) == 3
    # The city's figures are the sum of the live per-park figures.
    all_parks = _compute(app, None, hand["today"], hand["calendar"])
    assert int(shown["due_soon"]) == sum(f.due_soon for f in all_parks.values()) == 2
    assert int(shown["unassigned"]) == sum(f.unassigned for f in all_parks.values()) == 3  # a2 too
    assert shown["workdays_saved"] == str(all_parks[hand["park"]].workdays_saved)
    assert shown["compliance"] == "75.0%"
    # Average working days used / committed per stage: filing (8 + 22) / 2 against (10 + 30) / 2.
    row = re.search(rf'<tr data-park-id="{hand["park"]}">(.*?)</tr>', page, re.S).group(1)
    assert re.search(r"15\.0</span> / 20\.0", row)
    land_committed = (20 + hand["nostat_committed"]) / 2
    assert re.search(rf"14\.5</span> / {land_committed:.1f}", row)


def test_old_city_rollups_are_served_while_a_worker_recomputes_them(app, client, world,
                                                                      redis_db):
    """Stale-while-revalidate: rollups older than the maximum age are shown with their age and
    a note while one refresh job (however many pages ask) recomputes them."""
    from crm.dashboard.services import QUEUED_KEY

    _refresh(app)
    login(client, "leader")
    assert figures_on(get_ok(client, "/dashboard/city"))["active_projects"] == "3"
    _add_active_project(app, world.park_a.id)
    _age_rollups(app, computed_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=10))
    page = get_ok(client, "/dashboard/city")
    assert figures_on(page)["active_projects"] == "3" and 'data-testid="rollup-refreshing"' in page
    get_ok(client, "/dashboard/city")
    assert redis_db.exists(QUEUED_KEY) and redis_db.llen("rq:queue:default") == 1  # once
    run_burst_worker(app)
    page = get_ok(client, "/dashboard/city")
    assert figures_on(page)["active_projects"] == "4" and "rollup-refreshing" not in page
    assert city_rows(page)[world.park_a.id]["active"] == 3
    assert not redis_db.exists(QUEUED_KEY)  # the next stale page may queue again


def test_rollups_of_another_day_are_recomputed_too(app, client, world, redis_db):
    today, _ = _today_and_calendar(app)
    _refresh(app)
    _add_active_project(app, world.park_b.id)
    _age_rollups(app, as_of=today - dt.timedelta(days=1))
    login(client, "leader")
    assert 'data-testid="rollup-refreshing"' in get_ok(client, "/dashboard/city")
    run_burst_worker(app)
    assert figures_on(get_ok(client, "/dashboard/city"))["active_projects"] == "4"


def test_without_a_queue_old_rollups_are_recomputed_in_the_request(app, client, world):
    _refresh(app)
    _add_active_project(app, world.park_b.id)
    _age_rollups(app, computed_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=10))
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    login(client, "leader")
    page = get_ok(client, "/dashboard/city")
    assert figures_on(page)["active_projects"] == "4" and "rollup-refreshing" not in page


def test_city_reads_fresh_rollups_until_recomputed(app, client, world):
    _refresh(app)
    _add_active_project(app, world.park_a.id)
    login(client, "leader")
    page = get_ok(client, "/dashboard/city")
    assert figures_on(page)["active_projects"] == "3"  # the rollup, not a live count
    response = client.post("/dashboard/city/refresh")
    assert response.status_code == 303 and response.headers["Location"].endswith("/dashboard/city")
    assert figures_on(get_ok(client, "/dashboard/city"))["active_projects"] == "4"


def test_city_shows_a_park_created_after_the_last_rollup(app, client, world):
    from crm.extensions import db
    from crm.parks.models import Park

    _refresh(app)
    with app.app_context():
        new = factories.park(db.session.get(Park, world.park_a.id).district, "启东经济开发区", "启东经开区")
        factories.project(new, "启东新项目")
        db.session.commit()
        new_id = new.id
    login(client, "leader")
    page = get_ok(client, "/dashboard/city")
    assert city_rows(page)[new_id]["active"] == 1
    assert figures_on(page)["active_projects"] == "4"


def test_rollups_are_kept_fresh_by_a_periodic_job(app, world):
    from crm.dashboard import jobs
    from crm.dashboard.models import ParkRollup
    from crm.extensions import db

    intervals = dict(app.extensions["periodic_jobs"])
    assert "crm.dashboard.jobs.refresh_rollups" in intervals
    assert intervals["crm.dashboard.jobs.refresh_rollups"] <= app.config["ROLLUP_MAX_AGE_SECONDS"]
    today, _ = _today_and_calendar(app)
    with app.app_context():
        assert jobs.refresh_rollups() == {"parks": 2}
        stored = {r.park_id: r for r in db.session.scalars(select(ParkRollup))}
        assert set(stored) == {world.park_a.id, world.park_b.id}
        assert all(r.as_of == today for r in stored.values())
        assert stored[world.park_a.id].figures["active_projects"] == 2


# -- access and bad input --------------------------------------------------------------------

# username -> (park A's dashboard, the city dashboard)
ACCESS = {
    "admin": (200, 200), "leader": (200, 200), "manager_a": (200, 403),
    "manager_b": (404, 403),  # another park: as if it did not exist
    "consultant_a": (403, 403), "agent_a": (403, 403),  # their park, not their job
    "agent_b": (404, 403),
}


@pytest.mark.parametrize("username", sorted(ACCESS))
def test_dashboards_follow_scope_and_role(client, world, username):
    park_status, city_status = ACCESS[username]
    login(client, username)
    a = world.park_a.id
    assert client.get(f"/dashboard/parks/{a}").status_code == park_status
    assert client.get("/dashboard/city").status_code == city_status
    assert client.post("/dashboard/city/refresh").status_code in (
        (303,) if city_status == 200 else (403,))
    if username == "agent_b":
        return  # see test_a_park_outside_an_agents_scope_is_404_on_drill_downs too
    for drill in (f"/dashboard/milestones?state=overdue&park={a}", f"/dashboard/blockers?park={a}"):
        assert client.get(drill).status_code == park_status, drill


def test_a_park_outside_an_agents_scope_is_404_on_drill_downs(client, world):
    login(client, "agent_b")  # serves park B only: park A does not exist for them
    a = world.park_a.id
    assert client.get(f"/dashboard/parks/{a}").status_code == 404
    for drill in (f"/dashboard/milestones?state=overdue&park={a}", f"/dashboard/blockers?park={a}"):
        assert client.get(drill).status_code == 404, drill


@pytest.mark.parametrize("path", [
    "/dashboard/parks/99999", "/dashboard/parks/99999999999", "/dashboard/parks/0",
    "/dashboard/milestones?park=99999", "/dashboard/milestones?park=99999999999",
    "/dashboard/milestones?park=abc", "/dashboard/blockers?park=-1",
])
def test_unknown_parks_answer_404(client, world, path):
    login(client, "admin")
    assert client.get(path).status_code == 404


def test_a_manager_cannot_drill_into_another_park_or_every_park(client, world):
    login(client, "manager_a")
    b = world.park_b.id
    for path in (f"/dashboard/parks/{b}", f"/dashboard/milestones?state=overdue&park={b}",
                 f"/dashboard/blockers?park={b}", "/dashboard/milestones?state=overdue",
                 "/dashboard/blockers"):
        assert client.get(path).status_code == 404, path
    assert client.get(f"/dashboard/blockers?park={world.park_a.id}").status_code == 200


@pytest.mark.parametrize("query", [
    "period=7", "period=abc", "period=-90", "period=90.0", "stage=foo",
    "industry=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "stage=land&period=99999999999999999999",
])
def test_nonsense_filters_are_cleared_not_fatal(app, client, world, query):
    login(client, "manager_a")
    a = world.park_a.id
    for path in (f"/dashboard/parks/{a}?{query}", f"/dashboard/milestones?park={a}&{query}",
                 f"/dashboard/blockers?park={a}&{query}"):
        page = get_ok(client, path)
        assert 'data-testid="filters-cleared"' in page, path
        assert SCRIPT not in page
    # The cleared filter does not narrow the figures: the page shows the park's whole count.
    page = get_ok(client, f"/dashboard/parks/{a}?{query}")
    assert figures_on(page)["active_projects"] == ("1" if "stage=land" in query else "2")


@pytest.mark.parametrize("query", [
    "state=bogus", "state=bogus&page=-1", "state=overdue&page=-1", "state=overdue&page=abc",
    "state=overdue&page=2147483647", "state=overdue&page=99999999999",
])
def test_nonsense_drill_down_values_never_fail(client, world, query):
    login(client, "leader")
    page = get_ok(client, f"/dashboard/milestones?park={world.park_a.id}&{query}")
    assert ('data-testid="filters-cleared"' in page) == ("bogus" in query)
    assert get_ok(client, f"/dashboard/blockers?{query.replace('state=', 'x=')}")


# -- constant query counts -------------------------------------------------------------------

def _grow(app, world, count: int) -> None:
    """``count`` more projects in park A, each with milestones in every state, logs and an
    open blocker, served by agent_a (so they are on agent_a's home page too)."""
    from crm.extensions import db

    today, cal = _today_and_calendar(app)
    with app.app_context():
        a = db.session.merge(world.park_a)
        agent = db.session.merge(world.staff["agent_a"])
        consultant = db.session.merge(world.staff["consultant_a"])
        for n in range(count):
            p = factories.project(a, f"批量项目{n}", stage=("filing", "land", "planning")[n % 3],
                                  investment=10000 + n)
            factories.assign(p, agent, "lead_agent")
            factories.assign(p, consultant, "consultant")
            factories.milestone(p, due_on=today - dt.timedelta(days=n % 7 + 1))
            factories.milestone(p, due_on=cal.add_workdays(today, n % 9))
            factories.milestone(p, status="paused", remaining_workdays=2)
            done(p, p.stage, today - dt.timedelta(days=n % 60), 5 + n % 4,
                 outcome="met" if n % 2 else "missed", statutory=30,
                 statutory_unit="calendar" if n % 3 else "working", calendar=cal)
            factories.log(p, "visit", f"走访{n}")
            factories.log(p, "blocker", f"堵点{n}")
        db.session.commit()


QUERY_PAGES = [
    ("manager_a", "/dashboard/parks/{a}"),
    ("manager_a", "/dashboard/parks/{a}?stage=land&industry=new_energy&period=365"),
    ("manager_a", "/dashboard/milestones?state=overdue&park={a}"),
    ("manager_a", "/dashboard/milestones?state=finished&park={a}&stage=land"),
    ("manager_a", "/dashboard/blockers?park={a}"),
    ("leader", "/dashboard/city"),
    ("leader", "/dashboard/milestones?state=due_soon"),
    ("agent_a", "/"),
]


@pytest.mark.parametrize("username,path", QUERY_PAGES)
def test_dashboards_run_a_constant_number_of_queries(app, client, world, username, path):
    url = path.format(a=world.park_a.id)
    login(client, username)
    _grow(app, world, 3)
    _refresh(app)
    get_ok(client, url)  # warm caches (calendar)
    with count_queries(app) as small:
        get_ok(client, url)
    _grow(app, world, 27)
    _refresh(app)  # the city reads fresh rollups
    with count_queries(app) as large:
        page = get_ok(client, url)
    assert "批量项目" in page or "city" in url
    assert large.count == small.count, (small.statements, large.statements)
    assert small.count <= 25, small.count


def test_missing_city_rollups_cost_a_constant_number_of_queries(app, client, world):
    """Rollups missing altogether (a new install) are computed in the request, in a constant
    number of statements whatever the data."""
    from crm.dashboard.models import ParkRollup
    from crm.extensions import db

    login(client, "leader")
    _grow(app, world, 3)
    get_ok(client, "/dashboard/city")
    counts = []
    for more in (0, 27):
        _grow(app, world, more)
        with app.app_context():
            db.session.execute(ParkRollup.__table__.delete())
            db.session.commit()
        with count_queries(app) as counter:
            page = get_ok(client, "/dashboard/city")
        counts.append(counter.count)
    assert figures_on(page)["active_projects"] == str(3 + 30)
    assert counts[0] == counts[1] and counts[0] <= 30, counts


# -- the project list's "since" filter (the "new this month" link) ---------------------------

def test_since_filter_keeps_projects_created_on_or_after_the_local_day(app, client, world):
    from crm.extensions import db
    from crm.i18n import local_day_start

    today, _ = _today_and_calendar(app)
    with app.app_context():
        a = db.session.merge(world.park_a)
        midnight = factories.project(a, "零点项目", created_at=local_day_start(today))
        before = factories.project(a, "前一秒项目",
                                   created_at=local_day_start(today) - dt.timedelta(seconds=1))
        old = factories.project(a, "上月项目", created_at=local_day_start(today) - dt.timedelta(days=40))
        db.session.commit()
        ids = {"midnight": midnight.id, "before": before.id, "old": old.id}
    login(client, "admin")
    everything = set(listed_projects(get_ok(client, "/projects/?view=all")))
    assert set(ids.values()) <= everything
    page = get_ok(client, f"/projects/?view=all&since={today.isoformat()}")
    since_today = set(listed_projects(page))
    assert ids["midnight"] in since_today
    assert ids["before"] not in since_today and ids["old"] not in since_today
    assert since_today == everything - {ids["before"], ids["old"]}  # world's, created now
    assert 'data-testid="since-filter"' in page
    month_ago = (today - dt.timedelta(days=41)).isoformat()
    assert set(listed_projects(get_ok(client, f"/projects/?view=all&since={month_ago}"))) == everything
    for bad in ("2024-02-30", "yesterday", "2024-1-1x", "99999-01-01"):
        page = get_ok(client, f"/projects/?view=all&since={bad}")
        assert 'data-testid="filters-cleared"' in page, bad
        assert set(listed_projects(page)) == everything, bad


# -- escaping --------------------------------------------------------------------------------

def test_user_text_is_escaped_on_every_dashboard(app, client, hand):
    from crm.extensions import db
    from crm.projects.models import Project

    evil_name = '<img src=x onerror="alert(2)">'
    with app.app_context():
        db.session.get(Project, hand["projects"]["p1"]).name = evil_name
        db.session.commit()
    _refresh(app)
    login(client, "admin")
    park = hand["park"]
    pages = {
        "park": get_ok(client, f"/dashboard/parks/{park}"),
        "city": get_ok(client, "/dashboard/city"),
        "blockers": get_ok(client, f"/dashboard/blockers?park={park}"),
        "overdue": get_ok(client, f"/dashboard/milestones?state=overdue&park={park}"),
    }
    for name, page in pages.items():
        assert SCRIPT not in page and "<img src=x" not in page, name
        assert "&lt;img src=x onerror=" in page, name
    for name in ("park", "city", "blockers"):
        assert ESCAPED_SCRIPT in pages[name], name


# -- property: every running milestone is in exactly one state --------------------------------

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(today=st.dates(dt.date(2024, 1, 1), dt.date(2026, 12, 31)),
       due=st.lists(st.integers(-30, 30), min_size=1, max_size=12),
       completed=st.lists(st.tuples(st.integers(-400, 0), st.booleans()), max_size=8),
       paused=st.integers(0, 2), period=st.sampled_from((30, 90, 180, 365)))
def test_states_partition_the_milestones_like_the_sla_rule(app, world, today, due, completed,
                                                           paused, period):
    """For any day (holidays and 调休 included) and due dates around it: overdue + due soon +
    on track is every running milestone, each classified as crm.milestones.sla.state with the
    SLA_WARNING_WORKDAYS warning; met/missed count completions in (today - period, today]; the
    drill-down conditions count the same."""
    from collections import Counter

    from sqlalchemy import delete

    from crm.dashboard.queries import lists
    from crm.dashboard.queries.figures import Slice, compute
    from crm.extensions import db
    from crm.milestones import sla
    from crm.milestones.models import Milestone
    from crm.milestones.queries import warning_workdays, work_calendar

    with app.app_context():
        cal = work_calendar()
        a_id = world.park_a.id
        project = db.session.merge(world.projects["a1"])
        db.session.execute(delete(Milestone))
        for offset in due:
            factories.milestone(project, due_on=today + dt.timedelta(days=offset))
        for _ in range(paused):
            factories.milestone(project, status="paused", remaining_workdays=3)
        for offset, met in completed:
            day = today + dt.timedelta(days=offset)
            factories.milestone(project, status="done", outcome="met" if met else "missed",
                                completed_on=day, due_on=day)
        db.session.flush()
        f = compute(Slice(park_id=a_id, period_days=period), today, cal)[a_id]
        states = Counter(sla.state(sla.MilestoneFacts("running", today + dt.timedelta(days=o)),
                                   today, cal, warning_workdays=warning_workdays()) for o in due)
        assert (f.overdue, f.due_soon, f.on_track, f.paused) == (
            states["overdue"], states["due_soon"], states["on_track"], paused)
        assert f.overdue + f.due_soon + f.on_track == len(due)
        inside = [met for offset, met in completed if offset > -period]
        assert (f.met, f.missed) == (sum(inside), len(inside) - sum(inside))
        shown = {"overdue": f.overdue, "due_soon": f.due_soon, "on_track": f.on_track,
                 "paused": f.paused, "met": f.met, "missed": f.missed, "finished": f.finished}
        for state, figure in shown.items():
            condition = lists.milestone_state_condition(state, today, cal, period)
            assert lists.count(Milestone, condition & (Milestone.park_id == a_id)) == figure, state
        db.session.rollback()


@pytest.mark.parametrize("query,order", [
    ("sort=active", ["c", "a", "b"]), ("sort=active&dir=asc", ["b", "a", "c"]),
    ("sort=overdue", ["c", "a", "b"]), ("sort=blockers", ["c", "a", "b"]),
    ("sort=bogus&dir=sideways", None), ("sort=%00&dir=", None),
])
def test_city_comparison_sorts_by_the_figures(app, client, world, hand, query, order):
    _refresh(app)
    login(client, "leader")
    response = client.get(f"/dashboard/city?{query}")
    if "%00" in query:  # NUL characters are refused before any view
        assert response.status_code == 400
        return
    assert response.status_code == 200
    ids = {"a": world.park_a.id, "b": world.park_b.id, "c": hand["park"]}
    shown = list(city_rows(response.get_data(as_text=True)))
    assert sorted(shown) == sorted(ids.values())
    if order:
        assert shown == [ids[k] for k in order]


def test_workload_list_ranks_people_by_load_ratio_with_their_overdue(app, client, world):
    """Park A: 李代办 serves a1 (1 of 6), 张顾问 serves a1 (1 of 10), 王代办 nothing; a1 has a
    milestone past due, which counts for both people serving it."""
    from crm.extensions import db

    with app.app_context():
        a1 = db.session.merge(world.projects["a1"])
        factories.milestone(a1, "用地预审", due_on=dt.date(2020, 1, 6))
        db.session.commit()
    login(client, "manager_a")
    page = get_ok(client, f"/dashboard/parks/{world.park_a.id}")
    table = re.search(r'data-testid="workload-list">.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    rows = [re.findall(r"<td[^>]*>([^<]*)", row) for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)]
    assert [(r[0].strip(), r[1], r[2], r[3]) for r in rows] == [
        ("李代办", "1", "6", "1"), ("张顾问", "1", "10", "1"), ("王代办", "0", "6", "0")]
