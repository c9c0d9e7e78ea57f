"""A park manager brings the park's ledger in: downloads the template, uploads a filled one
(five bad rows among the good), checks it, imports it while the progress bar polls a real
worker, downloads the failed rows, reverts the batch and finds the park as before."""

from __future__ import annotations

from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.e2e.conftest import log_in
from tests.integration.imports_support import BAD_ROWS, ledger, read_back
from tests.integration.pdf_support import redis_db, running_worker  # noqa: F401  (fixture)


def _park_state(app, park_name: str):
    from crm.extensions import db
    from crm.milestones.models import Milestone
    from crm.parks.models import Park
    from crm.projects.models import Project

    with app.app_context():
        park = db.session.scalar(select(Park).where(Park.name == park_name))
        projects = db.session.scalar(select(func.count()).select_from(Project)
                                     .where(Project.park_id == park.id))
        milestones = db.session.scalar(select(func.count()).select_from(Milestone)
                                       .where(Milestone.park_id == park.id))
        return projects, milestones


def _manager_park(app) -> tuple[str, str]:
    from crm.auth.models import User
    from crm.extensions import db
    from crm.parks.models import Park

    with app.app_context():
        manager = db.session.scalar(select(User).where(User.username == "manager"))
        other = db.session.scalar(select(Park).where(Park.id.not_in([p.id for p in manager.parks]))
                                  .order_by(Park.id))
        return manager.parks[0].name, other.name


def test_manager_imports_a_ledger_and_reverts_it(live_server, page, redis_db, tmp_path):  # noqa: F811
    app = live_server.app
    park, other = _manager_park(app)
    before = _park_state(app, park)
    log_in(page, live_server.url, "manager")
    page.get_by_role("link", name="导入", exact=True).click()
    with page.expect_download() as info:
        page.get_by_test_id("template-projects").click()
    template = tmp_path / "template.xlsx"
    info.value.save_as(template)
    assert load_workbook(template)["项目"]["B1"].value == "项目名称"

    filled = tmp_path / "台账.xlsx"
    filled.write_bytes(ledger(park, other))
    page.set_input_files("input[type=file]", str(filled))
    page.get_by_role("button", name="上传并对应列").click()
    page.get_by_test_id("mapping-form").wait_for()
    page.get_by_test_id("check").click()
    # No worker yet: the check waits, visibly; then a worker takes it and the page reloads.
    page.get_by_test_id("import-progress").wait_for()
    with running_worker(app):
        page.get_by_test_id("counts").wait_for(timeout=60_000)
        assert page.get_by_test_id("count-error").inner_text() == str(BAD_ROWS)
        assert page.get_by_test_id("count-new").inner_text() == "8"
        assert "这不是您负责的园区" in page.get_by_test_id("errors").inner_text()
        assert _park_state(app, park) == before  # the check wrote nothing
        page.get_by_test_id("commit").click()
        page.get_by_test_id("revert").wait_for(timeout=60_000)
    assert page.get_by_test_id("batch-summary").inner_text().startswith("已导入")
    projects, _ = _park_state(app, park)
    assert projects == before[0] + 6

    with page.expect_download() as info:
        page.get_by_test_id("failed-rows").click()
    failed = tmp_path / "failed.xlsx"
    info.value.save_as(failed)
    rows = read_back(failed.read_bytes())["项目"]
    assert len(rows) == 1 + BAD_ROWS and rows[0][-1] == "错误说明"

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("revert").click()
    page.get_by_text("已撤销导入").wait_for()
    assert _park_state(app, park) == before


def test_the_import_page_fits_a_phone(live_server, phone_page):
    log_in(phone_page, live_server.url, "manager")
    phone_page.goto(f"{live_server.url}/imports")
    form = phone_page.get_by_test_id("upload-form")
    form.wait_for()
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
