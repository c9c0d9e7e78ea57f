"""The park manager's staff journey on a phone: roster, workload, unassigned queue, and a
reassignment with reason and handover note that shows in the project's history."""

from sqlalchemy import select

from tests.e2e.conftest import log_in


def _reassignment_case(app):
    """A project of the demo manager's park with a lead agent, another available agent, and
    whether that agent is at capacity (then the manager must tick "assign anyway")."""
    from crm.agents.models import Assignment, Staff
    from crm.agents.services.staffing import loads, roster_ids
    from crm.auth.models import User
    from crm.extensions import db
    from crm.i18n import today

    with app.test_request_context():
        manager = db.session.scalar(select(User).where(User.username == "manager"))
        park = manager.parks[0]
        lead = db.session.scalars(
            select(Assignment).join(Assignment.project)
            .where(Assignment.role == "lead_agent", Assignment.ended_at.is_(None),
                   Assignment.project.has(park_id=park.id, status="active"))
            .order_by(Assignment.id)).first()
        load = loads(roster_ids(park.id))
        successor = next(
            s for s in db.session.scalars(select(Staff).where(Staff.id.in_(roster_ids(park.id)),
                                                              Staff.kind == "agent").order_by(Staff.id))
            if s.active and not s.on_leave(today()) and s.id != lead.staff_id)
        full = load.get(successor.id, 0) >= successor.capacity
        return park.id, lead.project_id, lead.staff.name, successor.id, successor.name, full


def test_manager_reassigns_a_lead_agent_on_a_phone(live_server, phone_page):
    page, url = phone_page, live_server.url
    park_id, project_id, old_name, successor_id, successor_name, full = \
        _reassignment_case(live_server.app)
    log_in(page, url, "manager")

    page.locator(".navbar-toggler").click()
    page.get_by_role("link", name="服务人员", exact=True).click()
    page.wait_for_url(f"{url}/parks/{park_id}/roster")
    assert page.locator('[data-testid="roster"] li').count() >= 3
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling

    page.get_by_role("link", name="工作量", exact=True).click()
    page.wait_for_url(f"{url}/parks/{park_id}/workload")
    page.locator('[data-sort="overdue"]').click()
    page.wait_for_url("**sort=overdue**")
    assert page.locator('[data-testid="workload"] tbody tr').count() >= 3

    page.locator('[data-testid="unassigned-tab"]').click()
    page.wait_for_url(f"{url}/parks/{park_id}/unassigned")
    assert page.locator('[data-testid="unassigned"]').is_visible()

    page.goto(f"{url}/projects/{project_id}")
    page.locator('[data-testid="assign-details"] summary').click()
    form = page.locator('[data-testid="assign-form"]')
    form.locator("#assign-role").select_option("lead_agent")
    form.locator("#assign-staff_id").select_option(str(successor_id))
    form.locator("#assign-reason").fill("原代办员调岗")
    form.get_by_role("button", name="确定分配").click()
    # Replacing someone needs a handover note: the error shows next to that field.
    error = page.locator("#assign-handover_note-errors")
    assert "调整人员须填写交接说明" in error.inner_text()
    page.locator("#assign-handover_note").fill("环评报告已送审，专家评审会下周二")
    if full:
        assert "承接上限" in page.locator("#assign-staff_id-errors").inner_text()
        page.locator("#assign-force").check()
    page.get_by_role("button", name="确定分配").click()
    page.wait_for_url(f"{url}/projects/{project_id}#team")
    assert f"{successor_name}现任专职代办员。" in page.locator(".alert-success").inner_text()
    history = page.locator('[data-testid="team-history"]')
    first = history.locator("li").first
    assert successor_name in first.inner_text() and "环评报告已送审" in first.inner_text()
    assert old_name in history.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
