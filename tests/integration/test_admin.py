"""The back office: CRUD works with the app-wide CSRF token; passwords only through the hasher."""

import re

from tests.conftest import _create_app, csrf_token_from, login


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
