"""The enterprise's side in Chromium: the park manager finds the project's enterprise link and
its QR code on the project page; a phone opens the link without an account and reads the plan,
who serves it and what waits on it, with nothing to scroll sideways; a rotated link is dead."""

from tests.conftest import ARTIFACTS
from tests.e2e.conftest import log_in


def test_the_enterprise_opens_its_progress_page_on_a_phone(live_server, page, browser):
    url = live_server.url
    log_in(page, url, "manager")
    page.goto(f"{url}/projects/1")
    panel = page.locator("[data-testid=enterprise-link]")
    link = panel.locator("[data-testid=link-url]").input_value()
    assert "/e/" in link
    qr = panel.locator("[data-testid=link-qr]")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    token = link.rsplit("/e/", 1)[1]

    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    try:
        enterprise = phone.new_page()
        errors = []
        enterprise.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        enterprise.goto(f"{url}/e/{token}")
        assert "/login" not in enterprise.url
        assert enterprise.locator("[data-testid=plan] li").count() >= 3
        assert enterprise.locator("[data-testid=staff] li").count() >= 1
        assert "审批计划" in enterprise.locator("main").inner_text()
        assert enterprise.evaluate("document.documentElement.scrollWidth") <= 390
        ARTIFACTS.mkdir(exist_ok=True)
        enterprise.screenshot(path=str(ARTIFACTS / "enterprise-page-phone.png"), full_page=True)
        assert errors == []

        # The manager issues a new link: the old address no longer opens.
        page.locator("[data-testid=issue-link]").click()
        assert page.locator("[data-testid=rotation-warning]").is_visible()
        page.get_by_role("button", name="生成链接").click()
        page.wait_for_url(f"{url}/projects/1#enterprise-link")
        assert page.locator("[data-testid=link-url]").input_value() != link
        response = enterprise.goto(f"{url}/e/{token}")
        assert response.status == 404
    finally:
        phone.close()
