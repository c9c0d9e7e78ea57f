"""The back office: CRUD works with the app-wide CSRF token; passwords only through the hasher."""

import re

from tests.conftest import _create_app, csrf_token_from, login
from tests.integration.pdf_support import redis_db, run_burst_worker  # noqa: F401  (fixture)


def _csrf_app(app_config, tmp_path):
    return _create_app(dict(app_config, WTF_CSRF_ENABLED=True), tmp_path)


def _login_with_csrf(client, username):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    from tests.factories import PASSWORD

    assert client.post("/login", data={"username": username, "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302


def test_admin_creates_and_edits_a_district_with_csrf_on(app_config, tmp_path, world):
    app = _csrf_app(app_config, tmp_path)
    client = app.test_client()
    _login_with_csrf(client, "admin")
    form = client.get("/admin/admin_districts/new/").get_data(as_text=True)
    token = csrf_token_from(form)
    assert form.count('name="csrf_token"') == 1  # one token, not two
    response = client.post("/admin/admin_districts/new/",
                           data={"code": "320684", "name": "海门市", "csrf_token": token})
    assert response.status_code == 302
    listing = client.get("/admin/admin_districts/").get_data(as_text=True)
    assert "海门市" in listing
    # Without the token nothing is saved.
    response = client.post("/admin/admin_districts/new/", data={"code": "320685", "name": "无令牌"})
    assert response.status_code == 400
    assert "无令牌" not in client.get("/admin/admin_districts/").get_data(as_text=True)


def test_user_admin_never_shows_the_hash_and_hashes_new_passwords(app, client, world):
    from crm.auth.models import User
    from crm.extensions import db

    login(client, "admin")
    user_id = world.users["agent_a"].id
    page = client.get(f"/admin/admin_users/edit/?id={user_id}").get_data(as_text=True)
    assert "$argon2" not in page and "password_hash" not in page
    details = client.get(f"/admin/admin_users/details/?id={user_id}").get_data(as_text=True)
    assert "$argon2" not in details
    listing = client.get("/admin/admin_users/").get_data(as_text=True)
    assert "$argon2" not in listing

    response = client.post("/admin/admin_users/new/", data={
        "username": "newbie", "display_name": "新同事", "role": "agent", "active": "y",
        "new_password": "a-long-new-password", "locale": "zh_Hans_CN"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        newbie = db.session.query(User).filter_by(username="newbie").one()
        assert newbie.password_hash.startswith("$argon2id$")
    other = app.test_client()
    login(other, "newbie", "a-long-new-password")


def test_user_admin_refuses_a_new_user_without_password(app, client, world):
    from crm.auth.models import User
    from crm.extensions import db

    login(client, "admin")
    response = client.post("/admin/admin_users/new/", data={
        "username": "nopass", "display_name": "无密码", "role": "agent", "active": "y",
        "locale": "zh_Hans_CN"})
    assert response.status_code == 200
    with app.app_context():
        assert db.session.query(User).filter_by(username="nopass").first() is None


def test_admin_disabling_a_user_ends_their_sessions(app, client, world):
    agent = app.test_client()
    login(agent, "agent_a")
    login(client, "admin")
    user_id = world.users["agent_a"].id
    response = client.post(f"/admin/admin_users/edit/?id={user_id}", data={
        "username": "agent_a", "display_name": "agent_a", "role": "agent",
        "staff": str(world.staff["agent_a"].id), "locale": "zh_Hans_CN"})  # "active" unchecked
    assert response.status_code == 302
    assert agent.get("/").status_code == 302


def test_audit_log_is_read_only(client, world):
    login(client, "admin")
    page = client.get("/admin/admin_audit/").get_data(as_text=True)
    assert "create" in page
    assert client.get("/admin/admin_audit/new/").status_code in (302, 403, 404)
    assert not re.search(r'href="[^"]*admin_audit/edit', page)


def _item_form(item, **changes):
    values = {"code": item.code, "name": item.name, "department": item.department,
              "stage": item.stage, "committed_limit": str(item.committed_limit),
              "committed_unit": item.committed_unit, "statutory_unit": item.statutory_unit,
              "statutory_limit": str(item.statutory_limit or ""),
              "applicability": item.applicability, "required": "y",
              "requires": item.requires, "extension_allowance": str(item.extension_allowance),
              "sort_order": str(item.sort_order), "active": "y"}
    values.update(changes)
    return values


def test_catalogue_dependencies_are_edited_without_loops_or_unknown_codes(app, client, world):
    from sqlalchemy import select

    from crm.extensions import db
    from crm.milestones.models import ApprovalItem

    with app.app_context():
        items = {i.code: i for i in db.session.scalars(
            select(ApprovalItem).where(ApprovalItem.district_id.is_(None)))}
        filing, permit = items["filing_record"], items["construction_permit"]
        db.session.expunge_all()
    login(client, "admin")
    url = f"/admin/admin_approval_items/edit/?id={filing.id}"
    assert "须先办结的事项" in client.get(url).get_data(as_text=True)
    # 项目备案 needing 施工许可证 would close a loop (the permit waits for it, indirectly).
    page = client.post(url, data=_item_form(filing, requires="construction_permit"))
    assert page.status_code == 200 and "循环" in page.get_data(as_text=True)
    page = client.post(url, data=_item_form(filing, requires="no_such_item"))
    assert page.status_code == 200 and "no_such_item" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ApprovalItem, filing.id).requires == ""
    # Commas, repeats and blanks are tidied; a real dependency is kept.
    response = client.post(f"/admin/admin_approval_items/edit/?id={permit.id}", data=_item_form(
        permit, requires="drawing_review, fire_design_review  drawing_review"))
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(ApprovalItem, permit.id).requires == "drawing_review fire_design_review"


def test_a_changed_promise_rule_recomputes_the_forecasts(app, client, world, redis_db):
    from sqlalchemy import select

    from crm.extensions import db
    from crm.milestones.models import CommitmentRule, ProjectForecast
    from crm.milestones.services.forecasts import STALE
    from crm.milestones.services.plans import create_plan
    from crm.projects.models import Project

    with app.app_context():
        project = db.session.get(Project, world.projects["a1"].id)
        project.approval_mode = "filing"
        create_plan(project)
        db.session.commit()
        rule = db.session.scalars(select(CommitmentRule).where(
            CommitmentRule.approval_mode == "filing")).one()
        before = db.session.get(ProjectForecast, project.id)
        assert before.rule_id == rule.id
        rule_id, park_id = rule.id, project.park_id
        db.session.expunge_all()
    login(client, "admin")
    assert "备案类工业项目" in client.get("/admin/admin_commitments/").get_data(as_text=True)
    # A park's own promise replaces the city's for its projects.
    response = client.post("/admin/admin_commitments/new/", data={
        "name": "园区承诺：备案至施工许可 60 天", "park": str(park_id), "approval_mode": "filing",
        "start_code": "filing_record", "end_code": "construction_permit",
        "limit_workdays": "60", "active": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    with app.app_context():
        assert db.session.get(ProjectForecast, world.projects["a1"].id).computed_on == STALE
    run_burst_worker(app)  # the refresh queued after the commit
    with app.app_context():
        mine = db.session.scalars(select(CommitmentRule).where(
            CommitmentRule.park_id == park_id)).one()
        forecast = db.session.get(ProjectForecast, world.projects["a1"].id)
        assert forecast.rule_id == mine.id != rule_id and forecast.computed_on != STALE
    page = client.post("/admin/admin_commitments/new/", data={
        "name": "错", "start_code": "filing_record", "end_code": "filing_record",
        "limit_workdays": "30", "active": "y"})
    assert page.status_code == 200 and "从一个审批事项到另一个" in page.get_data(as_text=True)
