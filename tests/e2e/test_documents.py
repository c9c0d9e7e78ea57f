"""A manager generates a service order and downloads it; a leader downloads a city summary.
The PDFs are made by a real worker process; the page updates in place (htmx polling)."""

from __future__ import annotations

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tests.e2e.conftest import log_in
from tests.integration.pdf_support import redis_db, running_worker  # noqa: F401  (fixture)


@pytest.fixture
def worker(live_server, redis_db):
    with running_worker(live_server.app) as process:
        yield process


def a_project_of_the_manager(app) -> tuple[int, str]:
    from crm.auth.models import User
    from crm.auth.scope import visible_projects
    from crm.extensions import db
    from crm.projects.models import Project

    with app.app_context():
        manager = db.session.scalar(select(User).where(User.username == "manager"))
        project = db.session.scalars(visible_projects(manager).where(Project.stage == "planning")
                                     .order_by(Project.id).limit(1)).one()
        return project.id, project.name


def test_manager_generates_and_downloads_a_service_order(live_server, page, worker, tmp_path):
    project_id, name = a_project_of_the_manager(live_server.app)
    log_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/projects/{project_id}")
    panel = page.locator("#service-orders")
    assert "尚未生成服务单" in panel.inner_text()
    page.get_by_test_id("generate-service-order").click()
    # The panel is swapped in place, then the status polls until the link appears.
    page.get_by_test_id("service-order-message").wait_for()
    link = page.get_by_test_id("doc-download")
    link.wait_for(timeout=60_000)
    assert page.url.endswith(f"/projects/{project_id}")  # no page load: htmx did it
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename.startswith("服务单-")
    path = tmp_path / "order.pdf"
    download.save_as(path)
    text = "".join(p.extract_text() for p in PdfReader(path).pages).replace("\n", "")
    assert "重大项目代办服务单" in text
    assert name[:6] in text


def test_leader_downloads_a_city_summary(live_server, page, worker, tmp_path):
    """The summaries page (the dashboards include the same form)."""
    log_in(page, live_server.url, "leader")
    page.get_by_role("link", name="报告", exact=True).click()
    form = page.get_by_test_id("summary-form")
    assert form.locator("select").input_value() == "city"
    form.get_by_test_id("request-summary").click()
    page.wait_for_url(f"{live_server.url}/documents/*")
    link = page.get_by_test_id("doc-download")
    link.wait_for(timeout=60_000)
    with page.expect_download() as info:
        link.click()
    path = tmp_path / "summary.pdf"
    info.value.save_as(path)
    reader = PdfReader(path)
    assert len(reader.pages) >= 2
    text = "".join(p.extract_text() for p in reader.pages).replace("\n", "")
    assert "重大项目代办服务汇总报告" in text and "全市" in text and "按时办结率" in text
    # The overdue column says its unit, the dashboards' working days (not calendar days).
    assert "逾期（工作日）" in text and "逾期天数" not in text


def test_the_service_order_panel_fits_a_phone(live_server, phone_page, redis_db):
    project_id, _ = a_project_of_the_manager(live_server.app)
    log_in(phone_page, live_server.url, "manager")
    phone_page.goto(f"{live_server.url}/projects/{project_id}")
    button = phone_page.get_by_test_id("generate-service-order")
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
    button.click()
    status = phone_page.get_by_test_id("doc-status").first
    status.wait_for()
    assert status.get_attribute("data-status") == "queued"  # no worker: it waits, visibly
    box = status.bounding_box()
    assert box["x"] + box["width"] <= 390  # the status is on screen, not scrolled away
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
