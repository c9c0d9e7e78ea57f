"""The three dashboards in headless Chromium: charts drawn from the server's JSON, figures
that lead to the lists they count, no console errors (the page fixture fails on any)."""

import re

from tests.e2e.conftest import log_in


def _charts_rendered(page, names):
    for name in names:
        chart = page.locator(f'[data-testid="chart-{name}"] .chart')
        chart.wait_for(state="visible")
        page.wait_for_function(
            "el => el.getAttribute('data-rendered') === 'true' && el.querySelector('svg')",
            arg=chart.element_handle())
        assert chart.locator("svg").count() == 1


def test_park_manager_dashboard_draws_charts_and_drills_down(live_server, page):
    log_in(page, live_server.url, "manager")
    page.get_by_role("link", name="看板", exact=True).click()
    page.wait_for_url(re.compile(r"/dashboard/parks/\d+$"))
    assert page.locator("h1").inner_text() == "南通经济技术开发区"
    _charts_rendered(page, ["stages", "milestones", "trend"])
    overdue = int(page.get_by_test_id("figure-overdue").inner_text())
    assert overdue > 0  # the demo city always has late milestones
    page.locator('a[data-figure="overdue"]').click()
    page.wait_for_url(re.compile(r"/dashboard/milestones\?"))
    assert int(page.get_by_test_id("total").inner_text()) == overdue
    assert page.locator('[data-testid="milestone-rows"] tbody tr').count() == min(overdue, 50)


def test_finished_milestones_carry_no_overdue_badge(live_server, page):
    """按期办结 lists met milestones without a red badge; 超期办结 says how many working days
    late each was, counted to its completion."""
    log_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/dashboard/")
    page.locator('a[data-figure="compliance"]').click()
    page.wait_for_url(re.compile(r"/dashboard/milestones\?"))
    page.get_by_role("link", name="按期办结", exact=True).click()
    page.wait_for_url(re.compile(r"state=met"))
    rows = page.locator('[data-testid="milestone-rows"] tbody tr')
    assert rows.count() > 0 and rows.locator(".badge-state-met").count() == rows.count()
    assert rows.locator(".badge-state-overdue").count() == 0
    assert "超期" not in page.get_by_test_id("milestone-rows").inner_text()
    page.get_by_role("link", name="超期办结", exact=True).click()
    page.wait_for_url(re.compile(r"state=missed"))
    rows = page.locator('[data-testid="milestone-rows"] tbody tr')
    assert rows.count() > 0
    for badge in rows.locator(".badge-state-overdue").all_inner_texts():
        assert re.fullmatch(r"超期\d+个工作日|已超期", badge), badge


def test_park_dashboard_filters_by_stage(live_server, page):
    log_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/dashboard/")
    everything = int(page.get_by_test_id("figure-active_projects").inner_text())
    page.locator('[data-testid="dashboard-filters"] select[name="stage"]').select_option("land")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url(re.compile(r"stage=land"))
    land = int(page.get_by_test_id("figure-active_projects").inner_text())
    assert 0 < land < everything
    _charts_rendered(page, ["stages"])


def test_leader_city_dashboard_compares_parks(live_server, page):
    log_in(page, live_server.url, "leader")
    page.goto(f"{live_server.url}/dashboard/")
    page.wait_for_url(re.compile(r"/dashboard/city$"))
    _charts_rendered(page, ["stages", "compliance", "trend"])
    rows = page.locator('[data-testid="park-comparison"] tbody tr')
    assert rows.count() >= 3
    total = int(page.get_by_test_id("figure-active_projects").inner_text())
    per_park = [int(t) for t in page.locator('[data-testid="park-comparison"] td[data-figure="active"]').all_inner_texts()]
    assert sum(per_park) == total
    # Sort by active projects, most first.
    page.locator('a[data-sort="active"]').click()
    page.wait_for_url(re.compile(r"sort=active"))
    sorted_values = [int(t) for t in page.locator('td[data-figure="active"]').all_inner_texts()]
    assert sorted_values == sorted(sorted_values, reverse=True)
    assert "数据截至" in page.get_by_test_id("rollup-age").inner_text()
    page.get_by_test_id("download-summary").click()
    page.wait_for_url(re.compile(r"/documents/summaries"))


def test_agent_home_on_a_phone(live_server, phone_page):
    log_in(phone_page, live_server.url, "agent")
    assert phone_page.locator("h1").inner_text() == "我的工作"
    assert phone_page.get_by_test_id("log-form").is_visible()
    assert int(phone_page.get_by_test_id("figure-my-projects").inner_text()) > 0
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= phone_page.viewport_size["width"] + 1  # no sideways scrolling
