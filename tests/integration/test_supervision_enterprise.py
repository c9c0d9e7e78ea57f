"""The enterprise's part of a round report (issue 20): filled on its progress page through its
link, shown to the lead agent beside the report form (the amount offered), never filed in the
agent's stead; bad input refused next to the field, other rounds and closed rounds out of
reach, and neither side's save conflicting with the other's."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.integration.api.conftest import api, tokens  # noqa: F401  (fixtures)
from tests.integration.test_supervision import _client, _fill, _reports, opened  # noqa: F401


def _token(app, world, key="a1"):
    from crm.extensions import db
    from crm.i18n import today
    from crm.portal import services
    from crm.projects.models import Project

    with app.app_context():
        project = db.session.get(Project, world.projects[key].id)
        _link, token = services.issue(project, actor_id=None, today=today())
        db.session.commit()
        return token


def _part(app, report_id):
    from crm.extensions import db
    from crm.supervision.models import EnterprisePart

    with app.app_context():
        return db.session.get(EnterprisePart, report_id)


def _send(client, token, round_id, **overrides):
    data = {"progress": "<script>alert(1)</script>厂房主体结构封顶", "investment_completed": "3000",
            "needs": "临时用电接入需供电公司协调", "contact_name": "王经理",
            "contact_phone": "0513-8888 6666"}
    data.update(overrides)
    return client.post(f"/e/{token}/rounds/{round_id}", data=data)


def test_the_enterprise_fills_its_part_and_the_agent_sees_it_beside_the_form(
        app, world, opened):
    from crm.audit.models import AuditEvent
    from crm.extensions import db

    a1 = world.projects["a1"].id
    token = _token(app, world)
    enterprise = app.test_client()
    page = enterprise.get(f"/e/{token}").get_data(as_text=True)
    assert 'data-testid="enterprise-rounds"' in page and opened.title in page
    form = enterprise.get(f"/e/{token}/rounds/{opened.id}")
    assert form.status_code == 200 and "王经理" not in form.get_data(as_text=True)

    response = _send(enterprise, token, opened.id)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/e/{token}?reported={opened.id}#rounds")
    report = _reports(app, opened.id)[a1]
    part = _part(app, report.id)
    assert part.investment_completed == 3000 and part.contact_name == "王经理"
    assert report.status == "missing"  # the agent's report is still owed
    page = enterprise.get(f"/e/{token}?reported={opened.id}").get_data(as_text=True)
    assert 'data-testid="enterprise-reported"' in page and "王经理" in page

    agent_page = _client(app, "agent_a").get(f"/rounds/{opened.id}/projects/{a1}")
    html = agent_page.get_data(as_text=True)
    assert 'data-testid="enterprise-part"' in html and "临时用电接入" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert 'name="investment_completed" type="text" value="3000"' in html \
        or 'value="3000"' in html.split('name="investment_completed"')[1].split(">")[0]
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.entity_type == "enterprise_round_parts"))
        assert event.project_id == a1 and event.action == "round.enterprise"
        assert event.user_id is None and event.note == "王经理"


@pytest.mark.parametrize("overrides, field", [
    ({"progress": "  "}, "progress"),
    ({"contact_name": ""}, "contact_name"),
    ({"investment_completed": "-1"}, "investment_completed"),
    ({"investment_completed": "25000"}, "investment_completed"),  # a1's total is 20,000
    ({"investment_completed": "三千"}, "investment_completed"),
    ({"contact_phone": "call me<b>"}, "contact_phone"),
])
def test_bad_input_is_refused_next_to_the_field_and_nothing_is_saved(app, world, opened,
                                                                    overrides, field):
    token = _token(app, world)
    response = _send(app.test_client(), token, opened.id, **overrides)
    assert response.status_code == 422
    assert f'id="{field}-errors"' in response.get_data(as_text=True)
    report = _reports(app, opened.id)[world.projects["a1"].id]
    assert _part(app, report.id) is None


def test_other_rounds_closed_rounds_and_wrong_tokens_answer_404(app, world, opened):
    token = _token(app, world)
    b_token = _token(app, world, "b1")  # park B's project is not in park A's round
    client = app.test_client()
    assert client.get(f"/e/{b_token}/rounds/{opened.id}").status_code == 404
    assert _send(client, b_token, opened.id).status_code == 404
    assert client.get(f"/e/{token}x/rounds/{opened.id}").status_code == 404
    assert client.get(f"/e/{token}/rounds/{opened.id + 999}").status_code == 404
    assert 'data-testid="enterprise-rounds"' not in client.get(f"/e/{b_token}").get_data(
        as_text=True)
    manager = _client(app, "manager_a")
    assert manager.post(f"/rounds/{opened.id}/close",
                        data={"version": str(opened.version)}).status_code == 303
    assert _send(client, token, opened.id).status_code == 404
    assert 'data-testid="enterprise-rounds"' not in client.get(f"/e/{token}").get_data(
        as_text=True)


def test_the_enterprise_and_the_agent_do_not_overwrite_each_other(app, world, opened):
    a1 = world.projects["a1"].id
    token = _token(app, world)
    agent = _client(app, "agent_a")
    html = agent.get(f"/rounds/{opened.id}/projects/{a1}").get_data(as_text=True)
    version = html.split('name="version" type="hidden" value="')[1].split('"')[0]
    enterprise = app.test_client()
    assert _send(enterprise, token, opened.id).status_code == 303
    # The agent's page was read before the enterprise wrote: its save still goes through.
    assert _fill(agent, opened.id, a1, version=version).status_code == 303
    report = _reports(app, opened.id)[a1]
    assert report.status == "filled" and _part(app, report.id).progress.endswith("封顶")
    # The enterprise corrects its part from the page it read; a stale copy is refused.
    assert _send(enterprise, token, opened.id, version="1",
                 progress="更正：主体结构完成 90%").status_code == 303
    stale = _send(enterprise, token, opened.id, version="1", progress="旧页面")
    assert stale.status_code == 409
    assert _part(app, report.id).progress == "更正：主体结构完成 90%"


def test_the_api_gives_the_enterprise_part_with_the_report(app, world, opened, api):
    a1 = world.projects["a1"].id
    agent = api("agent_a")
    before = agent.get(f"/rounds/{opened.id}/reports/{a1}").get_json()
    assert before["enterprise_part"] is None
    assert _send(app.test_client(), _token(app, world), opened.id).status_code == 303
    after = agent.get(f"/rounds/{opened.id}/reports/{a1}").get_json()
    assert after["enterprise_part"]["investment_completed"] == 3000
    assert after["enterprise_part"]["contact_name"] == "王经理"
