"""The enterprise rates on a phone and the park puts a bad review right (issue 14): a
finished approval rated 2 on 办事便利 opens a case; the manager classifies it complex, records
the acceptance panel; the enterprise rates again 5 and the case closes; the park dashboard
counts the ratings."""

from tests.conftest import ARTIFACTS
from tests.e2e.conftest import log_in


def _target(app):
    """A project of the manager's park with an active link and an approval issued that its
    link has not rated: (project id, park id, token, milestone id, milestone name)."""
    from sqlalchemy import select

    from crm.extensions import db
    from crm.milestones.models import Milestone
    from crm.portal.models import EnterpriseLink, Rating
    from crm.portal.services import secret
    from crm.projects.models import Project

    with app.app_context():
        rows = db.session.execute(
            select(Project.id, Project.park_id, EnterpriseLink, Milestone.id, Milestone.name)
            .join(EnterpriseLink, EnterpriseLink.project_id == Project.id)
            .join(Milestone, Milestone.project_id == Project.id)
            .where(EnterpriseLink.revoked_at.is_(None), Project.park_id == 1,
                   Milestone.status == "done",
                   ~select(Rating.id).where(Rating.milestone_id == Milestone.id).exists())
            .order_by(Project.id, Milestone.id)).first()
        project_id, park_id, link, milestone_id, name = rows
        return project_id, park_id, link.token(secret()), milestone_id, name


def _rate(enterprise, milestone_id, convenience):
    enterprise.select_option("#target", str(milestone_id))
    for dimension in ("openness", "standards", "courtesy", "discipline"):
        enterprise.check(f"input[name={dimension}][value='5']")
    enterprise.check(f"input[name=convenience][value='{convenience}']")
    enterprise.get_by_role("button", name="提交评价").click()
    assert enterprise.locator("[data-testid=rated]").is_visible()


def test_a_bad_review_is_put_right_and_closes_when_the_enterprise_is_satisfied(
        live_server, page, browser):
    url = live_server.url
    project_id, park_id, token, milestone_id, name = _target(live_server.app)
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    try:
        enterprise = phone.new_page()
        enterprise.goto(f"{url}/e/{token}")
        _rate(enterprise, milestone_id, 2)
        assert name in enterprise.locator("[data-testid=given-ratings]").inner_text()
        assert enterprise.evaluate("document.documentElement.scrollWidth") <= 390
        ARTIFACTS.mkdir(exist_ok=True)
        enterprise.screenshot(path=str(ARTIFACTS / "enterprise-rated-phone.png"), full_page=True)

        log_in(page, url, "manager")
        page.goto(f"{url}/projects/{project_id}#feedback")
        cases = page.locator("[data-testid=feedback] [data-testid=cases] a")
        cases.first.click()
        assert page.locator("[data-testid=case-status]").get_attribute("data-status") == "open"
        page.check("input[name=classification][value=complex]")
        page.get_by_role("button", name="分类").click()
        page.get_by_role("button", name="登记验收结果").click()  # empty: refused in place
        assert "请填写验收团成员" in page.locator("[data-testid=accept-form]").inner_text()
        page.console_errors[:] = [e for e in page.console_errors if "422" not in e]  # (that)
        page.fill("#panel_members", "行政审批局王科长；窗口代表李娜；市民监督员赵建国")
        page.fill("#rectification", "情况属实，已当面致歉并一次办结")
        page.get_by_role("button", name="登记验收结果").click()
        assert page.locator("[data-testid=case-status]").get_attribute("data-status") == "rectified"
        case_url = page.url

        enterprise.goto(f"{url}/e/{token}")
        _rate(enterprise, milestone_id, 5)
        page.goto(case_url)
        assert page.locator("[data-testid=case-status]").get_attribute("data-status") == "closed"
        assert "企业重新评价满意" in page.locator("[data-testid=case-facts]").inner_text()

        page.goto(f"{url}/dashboard/parks/{park_id}")
        assert page.locator("[data-testid=figure-satisfaction]").inner_text().endswith("%")
        assert page.locator("[data-testid=staff-satisfaction] tbody tr").count() >= 1
    finally:
        phone.close()
