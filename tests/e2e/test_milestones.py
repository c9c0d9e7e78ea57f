"""The milestone timeline in Chromium on a phone: a demo agent sees the right due date and badge
of a running milestone, stops its clock through the form, and the page fits the screen."""

from sqlalchemy import select

from tests.e2e.conftest import log_in


def _running_milestone_of_the_demo_agent(app):
    from crm.agents.models import Assignment
    from crm.auth.models import User
    from crm.extensions import db
    from crm.i18n import today
    from crm.milestones import sla
    from crm.milestones.models import Milestone
    from crm.milestones.queries import warning_workdays, work_calendar

    with app.test_request_context():
        staff_id = db.session.scalar(select(User.staff_id).where(User.username == "agent"))
        m = db.session.scalars(
            select(Milestone).join(Assignment, Assignment.project_id == Milestone.project_id)
            .where(Assignment.staff_id == staff_id, Assignment.ended_at.is_(None),
                   Milestone.status == "running").order_by(Milestone.id)).first()
        assert m is not None, "the demo agent has no running milestone"
        calendar = work_calendar()
        due = sla.due_date(m.accepted_on, m.limit_value, m.limit_unit,
                           [(p.paused_on, p.resumed_on) for p in m.pauses], calendar)
        state = sla.state(sla.MilestoneFacts("running", due), today(), calendar, warning_workdays())
        return m.project_id, m.id, due, state


def test_agent_sees_the_deadline_and_stops_the_clock_on_a_phone(live_server, phone_page):
    project_id, milestone_id, due, state = _running_milestone_of_the_demo_agent(live_server.app)
    page = phone_page
    log_in(page, live_server.url, "agent")
    page.goto(f"{live_server.url}/projects/{project_id}")
    item = page.locator(f"#milestone-{milestone_id}")
    assert item.get_attribute("data-state") == state
    assert due.isoformat() in item.locator("[data-testid=due]").inner_text()
    badge = item.locator("[data-testid=state]")
    colour = badge.evaluate("el => getComputedStyle(el).backgroundColor")
    expected = {"on_track": "rgb(25, 135, 84)", "due_soon": "rgb(255, 193, 7)",
                "overdue": "rgb(220, 53, 69)"}[state]
    assert colour == expected
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling

    item.locator("[data-action=pause]").click()
    page.select_option("#reason_code", "supplement")
    page.fill("#document_ref", "补正通知〔2026〕7号")
    page.get_by_role("button", name="暂停计时").click()
    page.wait_for_url(f"{live_server.url}/projects/{project_id}#milestone-{milestone_id}")
    item = page.locator(f"#milestone-{milestone_id}")
    assert item.get_attribute("data-state") == "paused"
    assert "（已冻结）" in item.inner_text()
    assert page.locator(".alert-success").inner_text().strip() == "已暂停计时。"
