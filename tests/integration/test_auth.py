"""Login, logout, sessions, CSRF, rate limiting and redirects."""

import re

import pytest

from tests.conftest import csrf_token_from, login
from tests.factories import PASSWORD

WRONG = "用户名或密码错误，或账号已停用。"


def _post_login(client, username, password):
    return client.post("/login", data={"username": username, "password": password})


def test_login_page_is_chinese_by_default(client, world):
    page = client.get("/login").get_data(as_text=True)
    assert "登录代办通" in page
    assert 'lang="zh-CN"' in page


@pytest.mark.parametrize("username,password", [
    ("agent_a", "wrong-password-1"),  # wrong password
    ("nobody", PASSWORD),  # unknown user
    ("disabled", PASSWORD),  # disabled account
])
def test_failed_logins_get_the_same_message(app, client, world, username, password):
    from crm.extensions import db
    from tests import factories

    with app.app_context():
        factories.user("disabled", "agent", active=False)
        db.session.commit()
    response = _post_login(client, username, password)
    assert response.status_code == 200
    assert WRONG in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still not logged in


def test_login_starts_a_new_session_and_logout_ends_it(client, world):
    client.get("/login")
    with client.session_transaction() as s:
        s["planted"] = "by-attacker"
    login(client, "agent_a")
    with client.session_transaction() as s:
        assert "planted" not in s  # session fixation: nothing carries over
    assert client.get("/").status_code == 200
    client.post("/logout")
    assert client.get("/").status_code == 302


def test_password_change_ends_the_other_sessions(app, world):
    first, second = app.test_client(), app.test_client()
    login(first, "manager_a")
    login(second, "manager_a")
    response = first.post("/profile", data={
        "current_password": PASSWORD, "new_password": "a-brand-new-pass", "confirm": "a-brand-new-pass"})
    assert response.status_code == 302
    assert first.get("/").status_code == 200  # the session that changed it stays
    assert second.get("/").status_code == 302  # the other one is gone
    assert _post_login(app.test_client(), "manager_a", "a-brand-new-pass").status_code == 302


def test_wrong_current_password_changes_nothing(client, world):
    login(client, "manager_a")
    response = client.post("/profile", data={
        "current_password": "not-my-password", "new_password": "a-brand-new-pass",
        "confirm": "a-brand-new-pass"})
    assert "当前密码不正确" in response.get_data(as_text=True)
    assert _post_login(client.application.test_client(), "manager_a", PASSWORD).status_code == 302


def test_disabling_a_user_ends_their_sessions(app, world):
    from crm.auth import services
    from crm.auth.models import User
    from crm.extensions import db

    agent = app.test_client()
    login(agent, "agent_a")
    with app.app_context():
        services.set_active(db.session.get(User, world.users["agent_a"].id), False)
        db.session.commit()
    assert agent.get("/").status_code == 302


@pytest.mark.parametrize("target,expected", [
    ("/projects/", "/projects/"),
    ("//evil.example/x", "/"),
    ("https://evil.example/", "/"),
    ("/\\evil.example", "/"),
    ("javascript:alert(1)", "/"),
])
def test_next_redirects_only_to_local_paths(client, world, target, expected):
    response = client.post(f"/login?next={target}", data={"username": "agent_a", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_login_is_rate_limited(app_config, tmp_path, world):
    from tests.conftest import _create_app

    config = dict(app_config, RATELIMIT_LOGIN="3 per minute")
    limited = _create_app(config, tmp_path)
    client = limited.test_client()
    codes = [_post_login(client, "agent_a", "wrong-password-x").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    page = _post_login(client, "agent_a", PASSWORD)
    assert page.status_code == 429  # even the right password waits
    assert "请稍等一分钟" in page.get_data(as_text=True)


def test_login_rate_limit_is_shared_through_redis(app_config, tmp_path, world):
    """Two web processes (two apps) share the login limit when Redis answers."""
    import redis
    from tests.conftest import REDIS_URL, _create_app

    redis.Redis.from_url(REDIS_URL).flushdb()
    config = dict(app_config, RATELIMIT_LOGIN="2 per minute", RATELIMIT_STORAGE_URI=REDIS_URL)
    first = _create_app(config, tmp_path).test_client()
    assert _post_login(first, "agent_a", "wrong-password-x").status_code == 200
    second = _create_app(config, tmp_path).test_client()
    assert _post_login(second, "agent_a", "wrong-password-x").status_code == 200
    assert _post_login(second, "agent_a", "wrong-password-x").status_code == 429


def test_post_without_csrf_token_is_refused_with_a_readable_page(app_config, tmp_path, world):
    from tests.conftest import _create_app

    protected = _create_app(dict(app_config, WTF_CSRF_ENABLED=True), tmp_path)
    client = protected.test_client()
    response = _post_login(client, "agent_a", PASSWORD)
    assert response.status_code == 400
    assert "表单缺少安全令牌或已过期" in response.get_data(as_text=True)
    # With the token from the form, the same login works.
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "agent_a", "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302
    # Logout without a token is refused too: nobody can log you out from another site.
    assert client.post("/logout").status_code == 400


def test_security_headers_and_cookie_flags(client, world):
    response = client.get("/login")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    response = _post_login(client, "agent_a", PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_english_is_available(client, world):
    login(client, "agent_a")
    client.post("/language", data={"lang": "en", "next": "/"})
    page = client.get("/").get_data(as_text=True)
    assert "My work" in page and "我的工作" not in page
    assert re.search(r'lang="en"', page)


def test_nul_bytes_are_a_bad_request_not_a_database_error(client, world):
    login(client, "manager_a")
    assert client.get("/projects/?q=%00").status_code == 400
    assert client.post("/profile", data={"current_password": "a\x00b"}).status_code == 400
    response = client.post("/api/v1/projects", data='{"name": "\\u0000"}',
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.is_json
