"""Every demo role logs in through the real login form and sees its own home page."""

import pytest

from tests.e2e.conftest import log_in


@pytest.mark.parametrize("username,heading", [
    ("agent", "我的工作"), ("manager", "我的园区"), ("leader", "全市概览"), ("admin", "全市概览"),
])
def test_each_role_logs_in_and_sees_a_chinese_home(live_server, page, username, heading):
    log_in(page, live_server.url, username)
    assert page.locator("h1").first.inner_text() == heading
    back_office = page.get_by_role("link", name="后台管理", exact=True)
    assert back_office.count() == (1 if username == "admin" else 0)


def test_phone_navigation_collapses_and_opens(live_server, phone_page):
    log_in(phone_page, live_server.url, "agent")
    toggler = phone_page.locator(".navbar-toggler")
    assert toggler.is_visible()
    toggler.click()
    phone_page.get_by_role("link", name="项目", exact=True).click()
    phone_page.wait_for_url(f"{live_server.url}/projects/")
    assert phone_page.locator("h1").inner_text() == "项目"


def test_admin_opens_the_back_office(live_server, page):
    log_in(page, live_server.url, "admin")
    page.goto(f"{live_server.url}/admin/admin_users/")
    assert page.locator("table").count() >= 1


def test_the_api_reference_loads_nothing_from_outside(live_server, page):
    """Parks' networks often cannot reach CDNs: every request of the page stays on the app."""
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{live_server.url}/api/v1/docs")
    page.wait_for_selector("text=Daiban API")
    outside = [url for url in requested
               if not url.startswith((live_server.url, "data:", "blob:"))]
    assert outside == []


def test_a_cookie_copied_before_logout_no_longer_works(live_server, page, browser):
    log_in(page, live_server.url, "manager")
    cookies = page.context.cookies()
    page.locator("[data-testid=logout]").evaluate("button => button.form.requestSubmit(button)")
    page.wait_for_url(f"{live_server.url}/login")
    thief = browser.new_context()
    try:
        thief.add_cookies(cookies)
        other = thief.new_page()
        other.goto(f"{live_server.url}/projects/")
        assert other.url.startswith(f"{live_server.url}/login")
    finally:
        thief.close()
