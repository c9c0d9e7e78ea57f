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

        # The park issues the order; the enterprise confirms it on the phone.
        _ready_order(live_server.app, project_id=1)
        enterprise.reload()
        enterprise.fill("#signer_name", "周经理")
        enterprise.fill("#signer_title", "项目总监")
        enterprise.fill("#signer_phone", "电话")
        enterprise.get_by_role("button", name="确认服务单").click()
        assert "请输入电话号码" in enterprise.locator("#signer_phone-errors").inner_text()
        assert "请勾选" in enterprise.locator("[data-testid=confirm-form]").inner_text()
        errors[:] = [e for e in errors if "422" not in e]  # the refused form's status
        enterprise.fill("#signer_phone", "139 1234 5678")
        enterprise.check("#understood")
        enterprise.get_by_role("button", name="确认服务单").click()
        assert "周经理" in enterprise.locator("[data-testid=order-confirmed]").inner_text()
        assert enterprise.evaluate("document.documentElement.scrollWidth") <= 390
        enterprise.screenshot(path=str(ARTIFACTS / "enterprise-confirmed-phone.png"), full_page=True)
        assert errors == []
        page.reload()
        assert "周经理" in page.locator("[data-testid=confirmation]").first.inner_text()

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


def _ready_order(app, project_id: int) -> None:
    from crm.documents.models import GeneratedDocument
    from crm.extensions import db
    from crm.projects.models import Project

    with app.app_context():
        project = db.session.get(Project, project_id)
        db.session.add(GeneratedDocument(
            kind="service_order", status="done", project_id=project.id, park_id=project.park_id,
            order_number=f"FW-2026-{project.id:06d}", doc_version=1, content=b"%PDF-1.4",
            filename="服务单.pdf"))
        db.session.commit()
