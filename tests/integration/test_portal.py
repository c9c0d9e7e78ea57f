"""The enterprise's progress page (issue 14, part 1): a link per project whose token is never
stored, rotated and revoked by staff; the page shows the plan, what waits on the enterprise,
who serves it and the latest order, and nothing internal; every wrong token answers the same
404 and leaves a trail; the service order's QR code carries the link."""

import datetime as dt
import re

from sqlalchemy import func, select

from tests import factories
from tests.conftest import login

TODAY = dt.date(2026, 9, 21)
SECRET_NOTE = "内部备注：企业法人难沟通"
BLOCKER = "堵点：土地指标未落实（内部）"


def _issue(app, key="a1", **kwargs):
    from crm.extensions import db
    from crm.portal import services
    from crm.projects.models import Project

    with app.app_context():
        project = db.session.get(Project, app.world.projects[key].id)
        link, token = services.issue(project, actor_id=None, today=kwargs.pop("today", TODAY),
                                     **kwargs)
        db.session.commit()
        return link.id, token


def _url(token):
    return f"/e/{token}"


def test_a_link_opens_the_projects_page_and_nothing_else(app, client, world):
    from crm.extensions import db
    from crm.milestones.services import lifecycle
    from crm.portal.models import EnterpriseLink, EnterpriseView
    from crm.projects.models import Project

    app.world = world
    with app.app_context():
        project = db.session.get(Project, world.projects["a1"].id)
        running = factories.milestone(project, "建设用地规划许可证", department="市自然资源和规划局")
        lifecycle.start(running, accepted_on=TODAY, today=TODAY, parallel_reason="测试")
        paused = factories.milestone(project, "环评审批")
        lifecycle.start(paused, accepted_on=TODAY, today=TODAY, parallel_reason="测试")
        lifecycle.pause(paused, paused_on=TODAY, reason_code="supplement", today=TODAY,
                        document_ref="补正通知〔2026〕7号", note=SECRET_NOTE)
        experts = factories.milestone(project, "节能审查")
        lifecycle.start(experts, accepted_on=TODAY, today=TODAY, parallel_reason="测试")
        lifecycle.pause(experts, paused_on=TODAY, reason_code="expert_review", today=TODAY,
                        document_ref="专家评审通知〔2026〕3号")
        factories.log(project, kind="blocker", text=BLOCKER)
        db.session.commit()
    link_id, token = _issue(app)
    assert len(token) >= 22  # at least 128 bits, url-safe
    with app.app_context():
        link = db.session.get(EnterpriseLink, link_id)
        assert token not in (link.salt, link.token_hash)  # the token itself is not stored

    response = client.get(_url(token))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert world.projects["a1"].name in html and "建设用地规划许可证" in html
    assert "市自然资源和规划局" in html and "补正通知〔2026〕7号" in html
    assert 'data-testid="waiting-on-enterprise"' in html
    waiting = html.split('data-testid="waiting-on-enterprise"')[1].split("</section>")[0]
    assert "环评审批" in waiting and "节能审查" not in waiting  # experts, not the enterprise
    assert SECRET_NOTE not in html and BLOCKER not in html  # nothing internal
    assert world.projects["a2"].name not in html and world.projects["b1"].name not in html
    assert response.headers["X-Robots-Tag"].startswith("noindex")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert '<meta name="robots" content="noindex' in html
    assert "login" not in response.request.path
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(EnterpriseView)
                                 .where(EnterpriseView.link_id == link_id)) == 1


def test_every_wrong_token_answers_the_same_404_and_leaves_a_trail(app, client, world):
    from crm.audit.models import AuditEvent
    from crm.extensions import db

    app.world = world
    _link, token = _issue(app)
    _old, expired = _issue(app, "b1", today=TODAY, expires_on=TODAY)  # opened until TODAY
    bodies = set()
    for wrong in (token[:-1] + ("A" if token[-1] != "A" else "B"), "x" * 40, "短", "%00",
                  token + "x", expired):
        response = client.get(_url(wrong))
        assert response.status_code == 404, wrong
        # The page's CSRF token is signed with the time: it may change between two requests.
        bodies.add(re.sub(r'name="csrf-token" content="[^"]*"', "",
                          response.get_data(as_text=True)))
    assert len(bodies) == 1  # no hint of which was close
    with app.app_context():
        misses = db.session.scalar(select(func.count()).select_from(AuditEvent)
                                   .where(AuditEvent.action == "enterprise_link.miss"))
    assert misses == 1  # guessing leaves a trail: one event per address and minute
    other = client.get(_url("y" * 40), environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other.status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "enterprise_link.miss")) == 2


def test_rotating_kills_the_old_address_and_revoking_kills_the_page(app, client, world):
    app.world = world
    _first, old = _issue(app)
    _second, new = _issue(app)
    assert client.get(_url(old)).status_code == 404
    assert client.get(_url(new)).status_code == 200
    login(client, "manager_a")
    pid = world.projects["a1"].id
    panel = client.get(f"/projects/{pid}").get_data(as_text=True)
    assert f"/e/{new}" in panel and f"/e/{old}" not in panel
    assert client.get(f"/projects/{pid}/enterprise-link/qr.svg").mimetype == "image/svg+xml"
    assert client.post(f"/projects/{pid}/enterprise-link/revoke").status_code == 302
    assert client.get(_url(new)).status_code == 404
    assert client.get(f"/projects/{pid}/enterprise-link/qr.svg").status_code == 404


def test_staff_issue_links_within_their_scope_with_a_sane_expiry(app, client, world):
    from crm.extensions import db
    from crm.portal.models import EnterpriseLink

    pid = world.projects["a1"].id
    login(client, "agent_a")  # the project's agent may issue it
    page = client.get(f"/projects/{pid}/enterprise-link")
    assert page.status_code == 200
    response = client.post(f"/projects/{pid}/enterprise-link", data={"expires_on": "2020-01-01"})
    assert response.status_code == 422 and "三年" in response.get_data(as_text=True)
    response = client.post(f"/projects/{pid}/enterprise-link", data={"expires_on": "明天"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(EnterpriseLink)) == 0
    assert client.post(f"/projects/{pid}/enterprise-link", data={}).status_code == 302
    client.post("/logout")
    login(client, "leader")  # sees the project, may not change its link
    assert client.post(f"/projects/{pid}/enterprise-link", data={}).status_code == 403
    client.post("/logout")
    login(client, "manager_b")  # another park's project does not exist for them
    assert client.post(f"/projects/{pid}/enterprise-link", data={}).status_code == 404
    assert client.get(f"/projects/{pid}/enterprise-link/qr.svg").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(EnterpriseLink)
                                 .where(EnterpriseLink.revoked_at.is_(None))) == 1


def test_the_service_order_prints_the_link_and_the_page_offers_the_order(app, client, world):
    from crm.documents import services as documents
    from crm.documents.models import GeneratedDocument
    from crm.documents.queries import service_order
    from crm.extensions import db
    from crm.milestones.queries import work_calendar
    from crm.portal.queries import link_url
    from crm.projects.models import Project

    pid = world.projects["a1"].id
    with app.test_request_context():
        project = db.session.get(Project, pid)
        user = db.session.get(type(world.users["manager_a"]), world.users["manager_a"].id)
        requested = documents.request_service_order(project, user)
        url = link_url(pid)
        assert url and re.search(r"/e/[A-Za-z0-9_-]{22,}$", url)
        data = service_order(pid, number="FW-1", version=1, today=TODAY, calendar=work_calendar())
        assert data.project_url == url
        doc = db.session.get(GeneratedDocument, requested.document.id)
        doc.status, doc.content, doc.filename = "done", b"%PDF-1.4 test", "服务单.pdf"
        db.session.commit()
    token = url.rsplit("/", 1)[1]
    html = client.get(_url(token)).get_data(as_text=True)
    assert 'data-testid="order-download"' in html
    pdf = client.get(f"/e/{token}/order.pdf")
    assert pdf.status_code == 200 and pdf.data == b"%PDF-1.4 test"
    assert pdf.headers["Referrer-Policy"] == "no-referrer"
    assert client.get(f"/e/{token}x/order.pdf").status_code == 404


def test_guessing_is_rate_limited(app_config, tmp_path, world):
    from tests.conftest import _create_app

    limited = _create_app(dict(app_config, RATELIMIT_ENABLED=True, RATELIMIT_PORTAL="5 per minute"),
                          tmp_path)
    client = limited.test_client()
    codes = [client.get(f"/e/{'x' * 30}{n}").status_code for n in range(7)]
    assert codes[:5] == [404] * 5 and codes[5:] == [429, 429]


def _ready_order(app, world, version=1):
    """A finished service order (version ``version``) of project a1, and the a1 link's token."""
    from crm.documents.models import GeneratedDocument
    from crm.extensions import db

    with app.app_context():
        doc = GeneratedDocument(kind="service_order", status="done", project_id=world.projects["a1"].id,
                                park_id=world.park_a.id, order_number="FW-2026-000001",
                                doc_version=version, content=b"%PDF-1.4", filename="服务单.pdf")
        db.session.add(doc)
        db.session.commit()
        return doc.id


def test_the_enterprise_confirms_each_version_of_its_order_once(app, client, world):
    from crm.extensions import db
    from crm.portal.models import OrderConfirmation

    app.world = world
    _link, token = _issue(app)
    first = _ready_order(app, world)
    html = client.get(_url(token)).get_data(as_text=True)
    assert 'data-testid="confirm-form"' in html
    # Every field checked, nothing saved; hostile text comes back escaped.
    bad = client.post(f"/e/{token}/confirm", data={
        "document_id": str(first), "signer_name": "  ", "signer_title": "<script>alert(1)</script>",
        "signer_phone": "电话", "understood": ""})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "请输入您的姓名" in page and "请勾选" in page and "电话号码" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    with app.app_context():
        assert db.session.query(OrderConfirmation).count() == 0
    good = {"signer_name": "周经理", "signer_title": "项目总监", "signer_phone": "139 1234 5678",
            "understood": "y", "document_id": str(first)}
    assert client.post(f"/e/{token}/confirm", data=good).status_code == 302
    html = client.get(_url(token)).get_data(as_text=True)
    assert 'data-testid="order-confirmed"' in html and "周经理" in html
    assert 'data-testid="confirm-form"' not in html
    # Posting again changes nothing; staff see who confirmed.
    assert client.post(f"/e/{token}/confirm", data=dict(good, signer_name="别人")).status_code == 302
    with app.app_context():
        rows = db.session.query(OrderConfirmation).all()
        assert [(r.document_id, r.doc_version, r.signer_name) for r in rows] == [(first, 1, "周经理")]
    staff = app.test_client()
    login(staff, "agent_a")
    panel = staff.get(f"/projects/{world.projects['a1'].id}").get_data(as_text=True)
    assert "周经理 已确认" in panel or "周经理" in panel.split('data-testid="confirmation"')[1]
    # A new version asks again.
    _ready_order(app, world, version=2)
    html = client.get(_url(token)).get_data(as_text=True)
    assert 'data-testid="confirm-form"' in html and "第 2 版" in html
    panel = staff.get(f"/projects/{world.projects['a1'].id}").get_data(as_text=True)
    assert "尚未确认" in panel


def test_a_version_issued_while_the_enterprise_reads_is_not_confirmed_unseen(app, client, world):
    from crm.extensions import db
    from crm.portal.models import OrderConfirmation

    app.world = world
    _link, token = _issue(app)
    first = _ready_order(app, world)
    client.get(_url(token))  # the enterprise reads version 1
    second = _ready_order(app, world, version=2)  # the park issues version 2 meanwhile
    response = client.post(f"/e/{token}/confirm", data={
        "document_id": str(first), "signer_name": "周经理", "signer_title": "项目总监",
        "signer_phone": "13912345678", "understood": "y"})
    assert response.status_code == 422 and "新版本" in response.get_data(as_text=True)
    assert "第 2 版" in response.get_data(as_text=True)  # the page now offers version 2
    with app.app_context():
        assert db.session.query(OrderConfirmation).count() == 0
    assert client.post(f"/e/{token}/confirm", data={
        "document_id": str(second), "signer_name": "周经理", "signer_title": "项目总监",
        "signer_phone": "13912345678", "understood": "y"}).status_code == 302


def test_a_new_secret_key_kills_old_links_and_orders_print_a_new_one(app, client, world):
    from crm.extensions import db
    from crm.portal import queries, services
    from crm.projects.models import Project

    app.world = world
    _link, old = _issue(app)
    app.config["SECRET_KEY"] = "a-new-secret-key"
    assert client.get(_url(old)).status_code == 404  # the old printed code opens nothing
    with app.test_request_context():
        assert queries.link_url(world.projects["a1"].id) is None
        project = db.session.get(Project, world.projects["a1"].id)
        link = services.ensure(project, actor_id=None, today=TODAY)  # the next order issues one
        db.session.commit()
        new = link.token(services.secret())
    assert client.get(_url(new)).status_code == 200


def test_a_revoked_link_is_not_reissued_behind_the_staffs_back(app, client, world):
    from crm.extensions import db
    from crm.portal import services
    from crm.projects.models import Project

    app.world = world
    _issue(app)
    with app.test_request_context():
        project = db.session.get(Project, world.projects["a1"].id)
        services.revoke(project)
        assert services.ensure(project, actor_id=None, today=TODAY) is None
        db.session.commit()
