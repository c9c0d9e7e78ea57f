"""The agent's day and the manager's edit, in Chromium against the served app (demo data)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.conftest import ARTIFACTS
from tests.e2e.conftest import log_in

VISIT = "走访企业，确认环评报告表编制进度和补正材料清单"
BLOCKER = '<img src=x onerror="window.__xss=1">规划条件中的容积率与设计方案不一致'


def _projects_of(app, username: str, **where):
    """(id, name) of active projects the demo user sees, oldest first."""
    from crm.auth.models import User
    from crm.auth.scope import project_condition
    from crm.extensions import db
    from crm.projects.models import Project

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        query = select(Project.id, Project.name).where(project_condition(user),
                                                       Project.status == "active")
        for column, value in where.items():
            query = query.where(getattr(Project, column) == value)
        return [tuple(row) for row in db.session.execute(query.order_by(Project.id))]


def _feed_items(page):
    return page.get_by_test_id("log-feed").locator(":scope > li")


def _log(page, kind: str, text: str, hours: str | None = None) -> None:
    form = page.get_by_test_id("log-form")
    form.get_by_label("类别").select_option(kind)
    if hours is not None:
        form.get_by_label("用时（小时）").fill(hours)
    form.get_by_label("代办内容").fill(text)
    form.get_by_test_id("log-submit").click()
    expect(page.get_by_test_id("log-saved")).to_be_visible()


def _shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_agent_finds_a_project_and_logs_a_visit_and_a_blocker(live_server, page):
    url = live_server.url
    project_id, name = _projects_of(live_server.app, "agent")[0]
    log_in(page, url, "agent")
    page.get_by_role("link", name="项目", exact=True).click()
    page.wait_for_url(f"{url}/projects/")
    expect(page.get_by_role("link", name="我的项目", exact=True)).to_have_attribute("aria-current", "page")

    page.get_by_role("searchbox").fill(name[-8:])
    page.get_by_role("button", name="筛选").click()
    page.get_by_role("link", name=name, exact=True).click()
    page.wait_for_url(f"{url}/projects/{project_id}")
    blockers = int(page.get_by_test_id("open-blockers-count").inner_text())

    _log(page, "visit", VISIT, hours="1.5")
    expect(_feed_items(page).first).to_contain_text(VISIT)
    expect(_feed_items(page).first).to_contain_text("1.5小时")
    _log(page, "blocker", BLOCKER)
    expect(_feed_items(page).first).to_contain_text(BLOCKER)  # shown as text, not markup
    expect(page.get_by_test_id("open-blockers-count")).to_have_text(str(blockers + 1))
    expect(page.get_by_test_id("open-blockers")).to_contain_text(BLOCKER)
    assert page.evaluate("window.__xss") is None
    # The form is blank again for the next entry.
    expect(page.get_by_test_id("log-form").get_by_label("代办内容")).to_have_value("")

    page.reload()
    expect(_feed_items(page).nth(0)).to_contain_text(BLOCKER)
    expect(_feed_items(page).nth(1)).to_contain_text(VISIT)
    expect(page.get_by_test_id("audit-trail")).to_contain_text("代办记录")
    _shoot(page, "project-page-after-logging-desktop")


def test_agent_logs_from_my_projects_on_a_phone(live_server, phone_page):
    page, url = phone_page, live_server.url
    project_id, name = _projects_of(live_server.app, "agent")[-1]
    log_in(page, url, "agent")
    page.goto(f"{url}/projects/")
    form = page.get_by_test_id("log-form")
    with page.expect_response(lambda r: "/projects/logs/form" in r.url):
        form.get_by_label("项目").select_option(str(project_id))
    page.locator(f'#log-form-box[data-project="{project_id}"]').wait_for()
    _log(page, "visit", VISIT)
    expect(page.get_by_test_id("log-saved")).to_contain_text(name)
    # The fresh form was just swapped in: htmx binds its select's change handler once the
    # swap settles; a user is never that quick, a test is.
    page.wait_for_function(
        "() => !document.querySelector('.htmx-added, .htmx-settling, .htmx-swapping')")
    with page.expect_response(lambda r: "/projects/logs/form" in r.url):
        page.locator('#log-form-box select[name="project"]').select_option(str(project_id))
    page.locator(f'#log-form-box[data-project="{project_id}"]').wait_for()
    _log(page, "blocker", BLOCKER)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.get_by_test_id("project-cards").get_by_role("link").filter(has_text=name).click()
    page.wait_for_url(f"{url}/projects/{project_id}")
    expect(_feed_items(page).nth(0)).to_contain_text(BLOCKER)
    expect(_feed_items(page).nth(1)).to_contain_text(VISIT)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate("window.__xss") is None


def test_agent_logs_without_javascript(live_server, browser):
    url = live_server.url
    project_id, _name = _projects_of(live_server.app, "agent")[0]
    context = browser.new_context(java_script_enabled=False, locale="zh-CN",
                                  viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        log_in(page, url, "agent")
        page.goto(f"{url}/projects/{project_id}")
        form = page.get_by_test_id("log-form")
        form.get_by_label("代办内容").fill("   ")
        form.get_by_test_id("log-submit").click()
        expect(page.get_by_test_id("log-form")).to_contain_text("该字段是必填字段")
        page.get_by_test_id("log-form").get_by_label("代办内容").fill(VISIT)
        page.get_by_test_id("log-form").get_by_test_id("log-submit").click()
        page.wait_for_url(f"{url}/projects/{project_id}#log-*")
        expect(page.get_by_role("alert")).to_contain_text("已记录到")
        expect(_feed_items(page).first).to_contain_text(VISIT)
    finally:
        _shoot(page, "project-page-without-javascript-phone")
        context.close()


def test_manager_edit_meets_the_conflict_message(live_server, page):
    from crm.extensions import db
    from crm.projects.models import Project

    url, app = live_server.url, live_server.app
    project_id, name = _projects_of(app, "manager")[0]
    log_in(page, url, "manager")
    page.goto(f"{url}/projects/{project_id}")
    page.get_by_test_id("edit-project").click()
    page.wait_for_url(f"{url}/projects/{project_id}/edit")
    page.get_by_label("总投资（万元）").fill("123000")

    with app.app_context():  # someone else saves the project in the meantime
        project = db.session.get(Project, project_id)
        project.contact_name = "周建华"
        db.session.commit()

    page.get_by_test_id("save-project").click()
    conflict = page.get_by_test_id("conflict")
    expect(conflict).to_contain_text("已被他人修改")
    expect(conflict).to_contain_text("123000")
    expect(page.get_by_label("企业联系人")).to_have_value("周建华")
    _shoot(page, "project-edit-conflict-desktop")

    page.get_by_label("总投资（万元）").fill("123000")
    page.get_by_test_id("save-project").click()
    page.wait_for_url(f"{url}/projects/{project_id}")
    expect(page.get_by_test_id("project-header")).to_contain_text("12.3 亿元")
    expect(page.get_by_test_id("project-header")).to_contain_text("周建华")
    with app.app_context():
        assert db.session.get(Project, project_id).investment == 123000


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_main_pages_render_cleanly(live_server, browser, size):
    """Screenshots of the main pages for both sizes; no console errors, no sideways scroll."""
    viewport = {"width": 1280, "height": 900} if size == "desktop" else {"width": 390, "height": 844}
    url = live_server.url
    manager_project = _projects_of(live_server.app, "manager")[0][0]
    agent_project = _projects_of(live_server.app, "agent")[0][0]
    pages = {
        "manager": [("projects-list", "/projects/"), ("project-page", f"/projects/{manager_project}"),
                    ("project-new", "/projects/new"), ("project-edit", f"/projects/{manager_project}/edit"),
                    ("projects-overdue", "/projects/?sla=overdue&sort=due&dir=asc")],
        "agent": [("my-projects", "/projects/"), ("agent-project-page", f"/projects/{agent_project}")],
    }
    for username, visits in pages.items():
        context = browser.new_context(viewport=viewport, locale="zh-CN")
        page = context.new_page()
        errors = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            log_in(page, url, username)
            for name, path in visits:
                page.goto(url + path)
                expect(page.locator("h1")).to_be_visible()
                _shoot(page, f"{name}-{size}")
                assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
        finally:
            context.close()
        assert errors == [], errors
