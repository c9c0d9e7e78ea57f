"""A parallel approval plan in Chromium: the manager of a demo project sees its plan drawn on
working days (one bar per dated milestone, the same rows as the table fallback, the critical
path marked), on a phone without sideways scrolling; accepting an approval that still waits
for others asks for the 容缺受理 reason and records it."""

from sqlalchemy import select

from tests.conftest import ARTIFACTS
from tests.e2e.conftest import log_in


def _waiting_milestone(app):
    """A pending milestone of a demo project of the manager's park that waits for another."""
    from crm.extensions import db
    from crm.milestones import graph
    from crm.milestones.models import Milestone
    from crm.milestones.queries import dependency_map
    from crm.projects.models import Project

    with app.test_request_context():
        for project in db.session.scalars(select(Project).where(Project.park_id == 1)
                                          .order_by(Project.id)):
            plan = db.session.scalars(select(Milestone).where(Milestone.project_id == project.id)
                                      .order_by(Milestone.sequence, Milestone.id)).all()
            needs = dependency_map(project.id)
            statuses = {m.id: m.status for m in plan}
            for m in plan:
                if m.status == "pending" and graph.waiting_on(m.id, statuses, needs):
                    dated = [x for x in plan if x.status != "waived"]
                    return project.id, m.id, len(dated)
    raise AssertionError("no demo project of park 1 has a milestone waiting for another")


def test_manager_sees_the_plan_on_working_days_and_accepts_in_parallel(live_server, page):
    project_id, milestone_id, dated = _waiting_milestone(live_server.app)
    url = live_server.url
    log_in(page, url, "manager")
    page.goto(f"{url}/projects/{project_id}")
    chart = page.locator("[data-testid=gantt] [data-chart]")
    chart.wait_for()
    assert chart.get_attribute("data-rendered") == "true"
    assert chart.locator("svg").count() == 1
    rows = page.locator("[data-testid=gantt-table] tbody tr")
    assert rows.count() == dated  # every milestone not waived has a bar
    assert page.locator("[data-testid=gantt-table] tr[data-critical=true]").count() >= 1
    page.locator("[data-testid=gantt-table] summary").click()
    assert rows.first.is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("[data-testid=gantt]").screenshot(path=str(ARTIFACTS / "gantt-desktop.png"))

    item = page.locator(f"#milestone-{milestone_id}")
    assert "等待" in item.locator("[data-testid=waiting]").inner_text()
    page.goto(f"{url}/projects/{project_id}/milestones/{milestone_id}/start")
    assert "容缺受理" in page.locator("main").inner_text()
    page.get_by_role("button", name="登记受理").click()
    error = page.locator("#parallel_reason ~ .invalid-feedback, #parallel_reason + .invalid-feedback")
    assert error.first.is_visible()
    # The form answered 422 (the browser logs it as a failed resource): expected here.
    page.console_errors[:] = [e for e in page.console_errors if "422" not in e]
    page.fill("#parallel_reason", "企业承诺补齐材料<script>alert(1)</script>")
    page.get_by_role("button", name="登记受理").click()
    page.wait_for_url(f"{url}/projects/{project_id}#milestone-{milestone_id}")
    item = page.locator(f"#milestone-{milestone_id}")
    assert item.get_attribute("data-state") in ("on_track", "due_soon")
    assert "企业承诺补齐材料<script>alert(1)</script>" in item.inner_text()


def test_the_plan_fits_a_phone(live_server, phone_page):
    project_id, _milestone_id, _dated = _waiting_milestone(live_server.app)
    page = phone_page
    log_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/projects/{project_id}")
    page.locator("[data-testid=gantt] [data-rendered=true]").wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("[data-testid=gantt]").screenshot(path=str(ARTIFACTS / "gantt-phone.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_park_dashboard_shows_promises_and_bottlenecks(live_server, page):
    url = live_server.url
    log_in(page, url, "manager")
    page.goto(f"{url}/dashboard/parks/1")
    at_risk = page.locator("[data-testid=figure-promise_at_risk]")
    assert at_risk.inner_text().strip().isdigit()
    rows = page.locator("[data-testid=bottleneck-list] tbody tr")
    assert rows.count() >= 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("[data-testid=bottleneck-list]").screenshot(
        path=str(ARTIFACTS / "bottlenecks.png"))
    # The card's link lists exactly the projects it counts.
    page.locator("[data-figure=promise_at_risk]").click()
    page.wait_for_url("**/projects/**sla=promise_at_risk**")
    total = page.locator("[data-testid=list-totals]").get_attribute("data-count")
    assert total == at_risk_count(live_server.app)


def at_risk_count(app) -> str:
    from crm.dashboard.queries.figures import Slice, compute
    from crm.extensions import db  # noqa: F401
    from crm.i18n import today
    from crm.milestones.queries import work_calendar

    with app.test_request_context():
        figures = compute(Slice(park_id=1), today(), work_calendar()).get(1)
        return str(figures.promise_at_risk if figures else 0)
