"""Pages: the service-order panel, summaries, status polling, scoped downloads."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

import pytest
from flask import render_template_string
from sqlalchemy import select

from tests import factories
from tests.conftest import count_queries, csrf_token_from, login
from tests.integration.pdf_support import redis_db  # noqa: F401  (fixture)


@pytest.fixture
def inline(app):
    """Jobs run in the web process: a request ends with the PDF built."""
    app.config["JOBS_INLINE"] = True
    return app


def documents(app, **filters):
    from crm.documents.models import GeneratedDocument as Doc
    from crm.extensions import db

    with app.app_context():
        rows = db.session.scalars(select(Doc).filter_by(**filters).order_by(Doc.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def make_order(app, client, world, project="a1"):
    project_id = world.projects[project].id
    client.post(f"/documents/service-orders/{project_id}")
    return documents(app, project_id=project_id)[-1]


def make_summary(app, client, scope="city", start="2026-01-01", end="2026-03-31"):
    response = client.post("/documents/summaries", data={"scope": scope, "start": start,
                                                         "end": end})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


# -- the project page panel --------------------------------------------------------------------

def test_project_page_offers_the_service_order_and_lists_versions(app, client, world, redis_db):
    login(client, "manager_a")
    a1 = world.projects["a1"].id
    html = client.get(f"/projects/{a1}").get_data(as_text=True)
    assert 'data-testid="generate-service-order"' in html and "尚未生成服务单" in html

    response = client.post(f"/documents/service-orders/{a1}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/projects/{a1}#service-orders")
    html = client.get(f"/projects/{a1}").get_data(as_text=True)
    assert "正在生成第 1 版服务单" in html  # the flashed message
    assert "第 1 版" in html and "排队中" in html
    doc = documents(app, project_id=a1)[0]
    assert f'hx-get="/documents/{doc.id}/status"' in html and 'hx-trigger="every 2s"' in html


def test_htmx_request_returns_the_panel_fragment(app, client, world, redis_db):
    login(client, "agent_a")
    a1 = world.projects["a1"].id
    response = client.post(f"/documents/service-orders/{a1}", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="service-orders"' in html
    assert "<html" not in html and "正在生成第 1 版服务单" in html
    again = client.post(f"/documents/service-orders/{a1}", headers={"HX-Request": "true"})
    assert "该文件正在生成中" in again.get_data(as_text=True)
    assert len(documents(app, project_id=a1)) == 1


def test_status_polls_until_done_then_shows_the_link(app, client, world, inline):
    login(client, "manager_a")
    app.config["JOBS_INLINE"] = False
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # Redis down: it stays queued
    doc = make_order(app, client, world)
    pending = client.get(f"/documents/{doc.id}/status").get_data(as_text=True)
    assert 'hx-trigger="every 2s"' in pending and "排队中" in pending
    assert "/download" not in pending
    page = client.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in page

    from crm.extensions import db
    from crm.documents.jobs import build_document

    with app.app_context():
        build_document(doc.id)
        db.session.remove()
    done = client.get(f"/documents/{doc.id}/status").get_data(as_text=True)
    assert "hx-trigger" not in done and "已生成" in done
    assert f'href="/documents/{doc.id}/download"' in done
    assert "http-equiv" not in client.get(f"/documents/{doc.id}").get_data(as_text=True)


def test_the_project_page_stays_at_a_constant_number_of_queries(app, client, world, inline):
    from crm.extensions import db

    login(client, "manager_a")
    a1 = world.projects["a1"].id

    def new_version(n):  # the plan changes, so the next request makes a new version
        with app.app_context():
            factories.milestone(db.session.get(type(world.projects["a1"]), a1), f"事项{n}")
            db.session.commit()
        client.post(f"/documents/service-orders/{a1}")

    new_version(0)
    client.get(f"/projects/{a1}")
    with count_queries(app) as before:
        client.get(f"/projects/{a1}")
    for n in range(1, 5):
        new_version(n)
    assert len(documents(app, project_id=a1)) == 5
    with count_queries(app) as after:
        html = client.get(f"/projects/{a1}").get_data(as_text=True)
    assert html.count('data-testid="doc-download"') == 5
    assert after.count == before.count


# -- downloads -------------------------------------------------------------------------------

def test_download_is_the_stored_pdf_with_a_chinese_file_name(app, client, world, inline):
    login(client, "manager_a")
    doc = make_order(app, client, world)
    assert doc.status == "done"
    response = client.get(f"/documents/{doc.id}/download")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    body = response.get_data()
    assert hashlib.sha256(body).hexdigest() == doc.sha256 and len(body) == doc.size
    disposition = response.headers["Content-Disposition"]
    number = doc.order_number
    assert disposition.startswith(f'attachment; filename="service-order-{number}-v1.pdf"')
    chinese = f"服务单-南通新能源电池项目-{number}-第1版.pdf"
    assert f"filename*=UTF-8''{quote(chinese, safe='')}" in disposition
    cached = client.get(f"/documents/{doc.id}/download",
                        headers={"If-None-Match": f'"{doc.sha256}"'})
    assert cached.status_code == 304


def test_downloads_follow_the_viewer_scope(app, client, world, inline):
    login(client, "manager_a")
    order = make_order(app, client, world)
    client.get("/logout")
    client.post("/logout")
    for username, expected in [("manager_b", 404), ("agent_b", 404), ("agent_a2", 404),
                               ("agent_a", 200), ("consultant_a", 200), ("leader", 200),
                               ("admin", 200)]:
        login(client, username)
        for url in (f"/documents/{order.id}/download", f"/documents/{order.id}",
                    f"/documents/{order.id}/status"):
            assert client.get(url).status_code == expected, (username, url)
        client.post("/logout")


def test_a_pending_or_failed_document_has_nothing_to_download(app, client, world, redis_db):
    login(client, "manager_a")
    doc = make_order(app, client, world)
    assert client.get(f"/documents/{doc.id}/download").status_code == 404
    assert client.get("/documents/99999/download").status_code == 404


def test_a_download_is_audited(app, client, world, inline):
    from crm.audit.models import AuditEvent
    from crm.extensions import db

    login(client, "agent_a")
    doc = make_order(app, client, world)
    client.post("/logout")
    login(client, "leader")
    client.get(f"/documents/{doc.id}/download")
    with app.app_context():
        events = db.session.execute(select(AuditEvent.action, AuditEvent.user_id).where(
            AuditEvent.entity_type == "generated_documents",
            AuditEvent.project_id == doc.project_id)).all()
    leader, agent = world.users["leader"].id, world.users["agent_a"].id
    assert ("document.request", agent) in events and ("document.download", leader) in events


def test_the_leader_downloads_service_orders_but_does_not_generate_them(app, client, world,
                                                                          inline):
    """Generating a new official version is for the people serving or running the park."""
    login(client, "leader")
    project_id = world.projects["a1"].id
    page = client.get(f"/projects/{project_id}").get_data(as_text=True)
    assert f'action="/documents/service-orders/{project_id}"' not in page
    assert client.post(f"/documents/service-orders/{project_id}").status_code == 403
    assert documents(app, project_id=project_id) == []


# -- summaries ---------------------------------------------------------------------------------

def test_leader_requests_a_city_summary_and_downloads_it(app, client, world, inline):
    login(client, "leader")
    page = client.get("/documents/summaries").get_data(as_text=True)
    assert '<option selected value="city">全市</option>' in page
    doc_id = make_summary(app, client)
    detail = client.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert "汇总报告正在生成" in detail and "全市" in detail and "2026-01-01" in detail
    response = client.get(f"/documents/{doc_id}/download")
    assert response.status_code == 200 and response.get_data().startswith(b"%PDF-")
    chinese = quote("汇总报告-全市-2026-01-01至2026-03-31.pdf", safe="")
    assert f"filename*=UTF-8''{chinese}" in response.headers["Content-Disposition"]
    assert "summary-city-2026-01-01-2026-03-31.pdf" in response.headers["Content-Disposition"]
    listing = client.get("/documents/summaries").get_data(as_text=True)
    assert f"/documents/{doc_id}/download" in listing


def test_park_managers_summarise_only_their_parks(app, client, world, inline):
    login(client, "manager_a")
    page = client.get("/documents/summaries").get_data(as_text=True)
    assert 'value="city"' not in page
    assert world.park_a.name in page and world.park_b.name not in page
    mine = make_summary(app, client, scope=str(world.park_a.id))
    response = client.post("/documents/summaries", data={
        "scope": str(world.park_b.id), "start": "2026-01-01", "end": "2026-03-31"})
    assert response.status_code == 200  # the form again: another park is not a choice
    assert 'id="scope-errors"' in response.get_data(as_text=True)
    city = client.post("/documents/summaries", data={"scope": "city", "start": "2026-01-01",
                                                     "end": "2026-03-31"})
    assert 'id="scope-errors"' in city.get_data(as_text=True)
    assert len(documents(app, kind="summary")) == 1  # only park A's
    client.post("/logout")

    login(client, "leader")
    city_id = make_summary(app, client)
    client.post("/logout")
    login(client, "manager_b")
    assert client.get(f"/documents/{mine}/download").status_code == 404  # park A's summary
    assert client.get(f"/documents/{city_id}").status_code == 404  # the city summary
    client.post("/logout")
    login(client, "manager_a")
    assert client.get(f"/documents/{mine}/download").status_code == 200


def test_staff_may_not_request_summaries(app, client, world):
    login(client, "agent_a")
    assert client.get("/documents/summaries").status_code == 403
    assert client.post("/documents/summaries", data={"scope": "city"}).status_code == 403
    assert "报告" not in client.get("/").get_data(as_text=True).split("navbar-nav me-auto")[1][:600]


@pytest.mark.parametrize("form,field,message", [
    ({"start": "2026-03-31", "end": "2026-01-01"}, "end", "结束日期早于开始日期"),
    ({"start": "", "end": "2026-01-01"}, "start", "请填写日期"),
    ({"start": "1999-12-31", "end": "2026-01-01"}, "start", "2000 年至 2100 年"),
    ({"start": "2026-13-45", "end": "2026-01-01"}, "start", ""),
])
def test_bad_periods_are_explained_next_to_the_field(app, client, world, form, field, message):
    login(client, "leader")
    response = client.post("/documents/summaries", data={"scope": "city", **form})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="{field}-errors"' in html and message in html
    assert documents(app, kind="summary") == []  # nothing half-saved


def test_the_summary_form_partial_can_be_included_anywhere(app, world):
    from crm.auth.models import User
    from crm.extensions import db
    from flask_login import login_user

    template = '{% include "documents/_summary_form.html" %}'
    preselect = ('{% with summary_park_id = park_id %}'
                 '{% include "documents/_summary_form.html" %}{% endwith %}')
    with app.test_request_context("/"):
        login_user(db.session.get(User, world.users["leader"].id))
        html = render_template_string(template)
        assert 'action="/documents/summaries"' in html and 'value="city"' in html
        assert 'name="csrf_token"' in html
        html = render_template_string(preselect, park_id=world.park_b.id)
        assert f'<option selected value="{world.park_b.id}">' in html
    with app.test_request_context("/"):
        login_user(db.session.get(User, world.users["agent_a"].id))
        assert render_template_string(template).strip() == ""


def test_forms_need_their_csrf_token(app, client, world, redis_db):
    login(client, "manager_a")
    app.config["WTF_CSRF_ENABLED"] = True
    a1 = world.projects["a1"].id
    assert client.post(f"/documents/service-orders/{a1}").status_code == 400
    html = client.get(f"/projects/{a1}").get_data(as_text=True)
    token = csrf_token_from(html)
    ok = client.post(f"/documents/service-orders/{a1}", data={"csrf_token": token})
    assert ok.status_code == 302
    assert client.post("/documents/summaries", data={"scope": "city"}).status_code == 400


def test_nobody_sees_another_projects_orders_on_a_project_page(app, client, world, inline):
    login(client, "manager_b")
    b1 = world.projects["b1"].id
    client.post(f"/documents/service-orders/{b1}")
    assert client.post(f"/documents/service-orders/{world.projects['a1'].id}").status_code == 404
    assert [d.project_id for d in documents(app, kind="service_order")] == [b1]
