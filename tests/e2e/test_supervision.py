"""A supervision round (调度) in the browser: the park manager opens a monthly round, the agent
fills a report on a phone and takes a problem to 自然资源和规划局 at district level, the
manager sees it under the department, closes the round and downloads its PDF and workbook
(made by a real worker); an approval document uploaded on a finished milestone shows to the
park's manager and is not found by another park's manager."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from tests.e2e.conftest import log_in
from tests.integration.pdf_support import redis_db, running_worker  # noqa: F401  (fixture)

DEPARTMENT = "自然资源和规划局"


@pytest.fixture
def worker(live_server, redis_db):
    with running_worker(live_server.app) as process:
        yield process


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_a_monthly_round_from_opening_to_its_report(live_server, browser, phone_page, worker,
                                                    tmp_path):
    url = live_server.url
    manager = phone_page
    log_in(manager, url, "manager")
    manager.goto(f"{url}/rounds")
    manager.get_by_test_id("new-round").click()
    form = manager.get_by_test_id("round-form")
    form.locator("#title").fill("十二月专项调度")
    form.get_by_role("button", name="发起本轮调度").click()
    manager.wait_for_url(f"{url}/rounds/*")
    round_url = manager.url
    total = int(manager.get_by_test_id("round-total").inner_text())
    assert total > 0 and manager.get_by_test_id("round-missing").inner_text() == str(total)
    _no_sideways_scroll(manager)

    # The agent, on a phone: the report they owe, filled with a problem for the department.
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    agent = context.new_page()
    log_in(agent, url, "agent")
    agent.goto(f"{url}/rounds")
    owed = agent.get_by_test_id("owed-reports").locator("li", has_text="十二月专项调度").first
    owed.locator("a").click()
    report = agent.get_by_test_id("report-form")
    report.locator("#progress").fill("完成规划方案联审，等待用地手续。")
    report.locator("#investment_completed").fill("800")
    report.locator("#problem_text").fill("用地指标尚未落实，需调剂<b>年度</b>指标。")
    report.locator("#problem_department").select_option(DEPARTMENT)
    report.locator("#problem_level").select_option("district")
    _no_sideways_scroll(agent)
    report.get_by_test_id("save-report").click()
    agent.wait_for_url(round_url)
    assert agent.locator(".alert-success").first.is_visible()
    context.close()

    # The manager: the department holds up a project; the problem is at district level.
    manager.goto(f"{url}/problems")
    table = manager.get_by_test_id("by-department")
    assert DEPARTMENT in table.inner_text()
    manager.get_by_test_id("problem-list").locator("li", has_text="需调剂<b>年度").first \
        .locator("a").first.click()
    assert manager.get_by_test_id("problem-level").inner_text() == "县（市、区）级"
    assert "<b>" in manager.locator("dd.log-text").first.inner_text()  # shown as text

    # Close: the report and the workbook are made by the worker.
    manager.goto(round_url)
    assert manager.get_by_test_id("round-filled").inner_text() == "1"
    manager.once("dialog", lambda dialog: dialog.accept())
    manager.get_by_test_id("close-round").click()
    manager.wait_for_url(round_url)
    assert manager.get_by_test_id("round-status").inner_text() == "已结束"  # round closed
    documents = manager.get_by_test_id("round-document")
    assert documents.count() == 2
    for index, check in ((0, "pdf"), (1, "xlsx")):
        manager.goto(round_url)
        manager.get_by_test_id("round-document").nth(index).click()
        link = manager.get_by_test_id("doc-download")
        link.wait_for(timeout=60_000)
        with manager.expect_download() as info:
            link.click()
        path = tmp_path / f"round.{info.value.suggested_filename.rsplit('.', 1)[-1]}"
        info.value.save_as(path)
        if path.suffix == ".pdf":
            text = "".join(p.extract_text() for p in PdfReader(path).pages).replace("\n", "")
            assert "重大项目调度报告" in text and DEPARTMENT in text
        else:
            book = load_workbook(io.BytesIO(path.read_bytes()), read_only=True)
            rows = list(book["项目填报"].iter_rows(values_only=True))
            assert len(rows) == total + 1
            assert any(r[9] == "完成规划方案联审，等待用地手续。" for r in rows[1:])


def _finished_milestone(app) -> tuple[int, int]:
    from crm.auth.models import User
    from crm.auth.scope import project_condition
    from crm.extensions import db
    from crm.milestones.models import Milestone

    with app.app_context():
        manager = db.session.scalar(select(User).where(User.username == "manager"))
        row = db.session.execute(
            select(Milestone.project_id, Milestone.id)
            .where(Milestone.status == "done",
                   project_condition(manager, Milestone.project_id, Milestone.park_id))
            .order_by(Milestone.completed_on.desc(), Milestone.id)).first()
        return row[0], row[1]


def test_an_approval_document_on_a_finished_milestone_stays_in_its_park(live_server, page,
                                                                         browser, tmp_path):
    from tests.integration.attachments_support import pdf

    url = live_server.url
    project_id, milestone_id = _finished_milestone(live_server.app)
    log_in(page, url, "manager")
    page.goto(f"{url}/attachments/milestone/{milestone_id}")
    document = tmp_path / "建设用地规划许可证.pdf"
    document.write_bytes(pdf("建设用地规划许可证"))
    page.locator('input[type="file"]').first.set_input_files(str(document))
    page.locator('form:has(input[type="file"]) button[type="submit"]').first.click()
    page.goto(f"{url}/projects/{project_id}")
    files = page.locator(f'[data-owner="milestone-{milestone_id}"]')
    assert "建设用地规划许可证.pdf" in files.inner_text()
    href = files.locator('a[href*="/download"]').first.get_attribute("href")

    from crm.auth.services import create_user  # another park's manager, for this test
    from crm.extensions import db
    from crm.parks.models import Park

    with live_server.app.app_context():
        other = db.session.scalars(select(Park).where(Park.name != "南通经济技术开发区")
                                   .order_by(Park.id)).first()
        user = create_user("othermanager", "邻园主任", "park_manager", "daiban-demo-2026")
        user.parks.append(other)
        db.session.commit()
    stranger = browser.new_context().new_page()
    log_in(stranger, url, "othermanager")
    response = stranger.goto(f"{url}{href}")
    assert response.status == 404
    stranger.context.close()


def _open_round_report(app) -> tuple[int, int]:
    """(round id, project id) of a report not yet filled, of the manager's park, in an open
    round."""
    from crm.auth.models import User
    from crm.auth.scope import project_condition
    from crm.extensions import db
    from crm.supervision.models import Round, RoundReport

    with app.app_context():
        manager = db.session.scalar(select(User).where(User.username == "manager"))
        row = db.session.execute(
            select(RoundReport.round_id, RoundReport.project_id)
            .join(Round, Round.id == RoundReport.round_id)
            .where(Round.status == "open", Round.reports_ready.is_(True),
                   RoundReport.status == "missing",
                   project_condition(manager, RoundReport.project_id, RoundReport.park_id))
            .order_by(Round.id, RoundReport.project_id)).first()
        return row[0], row[1]


def test_the_enterprise_sends_its_part_from_its_phone_and_the_agent_sees_it(live_server, page,
                                                                           browser):
    url = live_server.url
    round_id, project_id = _open_round_report(live_server.app)
    log_in(page, url, "manager")
    page.goto(f"{url}/projects/{project_id}")
    link = page.locator("[data-testid=enterprise-link] [data-testid=link-url]").input_value()

    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    try:
        enterprise = phone.new_page()
        enterprise.goto(f"{url}/e/{link.rsplit('/e/', 1)[1]}")
        rounds = enterprise.get_by_test_id("enterprise-rounds")
        rounds.locator(f'a[href$="/rounds/{round_id}"]').click()
        form = enterprise.get_by_test_id("enterprise-part-form")
        form.locator("#investment_completed").fill("-3")
        form.get_by_test_id("enterprise-part-send").click()
        assert enterprise.locator("#progress-errors").is_visible()  # required, next to it
        assert enterprise.locator("#investment_completed-errors").is_visible()
        form = enterprise.get_by_test_id("enterprise-part-form")
        form.locator("#progress").fill("厂房主体<b>封顶</b>，设备下月进场。")
        form.locator("#investment_completed").fill("1200")
        form.locator("#needs").fill("临时用电需供电公司协调。")
        form.locator("#contact_name").fill("王经理")
        _no_sideways_scroll(enterprise)
        form.get_by_test_id("enterprise-part-send").click()
        enterprise.get_by_test_id("enterprise-reported").wait_for()
        assert "王经理" in enterprise.get_by_test_id("enterprise-part-sent").first.inner_text()
    finally:
        phone.close()

    page.goto(f"{url}/rounds/{round_id}/projects/{project_id}")
    part = page.get_by_test_id("enterprise-part")
    assert "厂房主体<b>封顶</b>" in part.inner_text() and "临时用电" in part.inner_text()
    assert page.locator("#investment_completed").input_value() == "1200"  # offered
