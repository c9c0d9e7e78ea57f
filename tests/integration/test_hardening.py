"""Regression tests of the defects an adversarial review found (issue 12): each failed before
its fix."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from tests.conftest import login
from tests.factories import PASSWORD
from tests.integration.api.conftest import api, assert_error, tokens  # noqa: F401  (fixtures)


def _post_login(client, username, password, **kwargs):
    return client.post("/login", data={"username": username, "password": password}, **kwargs)


# -- sessions and passwords --------------------------------------------------------------------

def test_logout_ends_the_session_even_for_a_copied_cookie(app, client, world):
    login(client, "manager_a")
    copied = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    assert client.get("/projects/").status_code == 200
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], copied)
    response = thief.get("/projects/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert thief.post("/notifications/read", data={}).status_code == 302  # no write either


def test_logout_ends_only_this_browsers_session(app, world):
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, "agent_a")
    login(phone, "agent_a")
    laptop.post("/logout")
    assert phone.get("/projects/").status_code == 200


def test_a_password_change_revokes_the_api_tokens(app, client, world, tokens):
    login(client, "agent_a")
    api = app.test_client()
    headers = {"Authorization": f"Bearer {tokens['agent_a']}"}
    assert api.get("/api/v1/parks", headers=headers).status_code == 200
    page = client.post("/profile", data={"current_password": PASSWORD,
                                         "new_password": "violet-ledger-canal-17",
                                         "confirm": "violet-ledger-canal-17"}, follow_redirects=True)
    assert "API 令牌已被吊销" in page.get_data(as_text=True)
    assert api.get("/api/v1/parks", headers=headers).status_code == 401
    assert client.get("/projects/").status_code == 200  # this browser stays logged in


@pytest.mark.parametrize("password,fragment", [
    ("password123", "过于常见"),
    ("1234567890", "过于常见"),
    ("qwertyuiop", "过于常见"),
    ("agent_a2026", "不要基于您的姓名或用户名"),
])
def test_common_passwords_and_own_names_are_refused(client, world, password, fragment):
    login(client, "agent_a")
    response = client.post("/profile", data={"current_password": PASSWORD,
                                             "new_password": password, "confirm": password})
    assert response.status_code == 422
    assert fragment in response.get_data(as_text=True)


def test_login_is_limited_per_username_across_addresses(app_config, tmp_path, world):
    from tests.conftest import _create_app

    limited = _create_app(dict(app_config, RATELIMIT_LOGIN="3 per minute"), tmp_path)
    client = limited.test_client()
    codes = [_post_login(client, "Agent_A", "wrong-password-x",
                         environ_base={"REMOTE_ADDR": f"10.0.0.{i}"}).status_code
             for i in range(4)]
    assert codes == [200, 200, 200, 429]
    other = _post_login(client, "manager_a", "wrong-password-x",
                        environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200  # another account is not locked out


def test_behind_a_proxy_each_client_has_its_own_budget(app_config, tmp_path, world):
    from tests.conftest import _create_app

    proxied = _create_app(dict(app_config, RATELIMIT_LOGIN="2 per minute", PROXY_COUNT=1),
                          tmp_path)
    client = proxied.test_client()

    def attempt(client_address, username):
        return _post_login(client, username, "wrong-password-x",
                           environ_base={"REMOTE_ADDR": "127.0.0.1"},
                           headers={"X-Forwarded-For": client_address}).status_code

    assert [attempt("203.0.113.5", u) for u in ("a1", "a2", "a3")] == [200, 200, 429]
    assert attempt("203.0.113.6", "a4") == 200  # another client behind the same proxy


# -- staff ---------------------------------------------------------------------------------------

def test_the_staff_page_of_someone_on_leave_opens(app, client, world):
    from crm.agents.models import Staff
    from crm.extensions import db

    with app.app_context():
        db.session.get(Staff, world.staff["agent_a2"].id).on_leave_until = (
            dt.date.today() + dt.timedelta(days=10))
        db.session.commit()
    login(client, "manager_a")
    page = client.get(f"/parks/{world.park_a.id}/staff/{world.staff['agent_a2'].id}")
    assert page.status_code == 200 and "休假至" in page.get_data(as_text=True)


# -- bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    '{"note": "\\ud800"}',
    "[" * 5000 + "]" * 5000,
    '{"note": ' + "9" * 4400 + "}",
    '{"note": NaN}',
    '{"note": 1e999}',
])
def test_hostile_json_is_a_bad_request(api, world, body):
    a1 = world.projects["a1"].id
    response = api("agent_a").post(f"/projects/{a1}/blockers/1/resolve", data=body,
                                   headers={"Content-Type": "application/json"})
    assert_error(response, 400, "bad_request")


def test_a_fraction_is_not_an_id(api, world):
    response = api("manager_a").post("/projects", json={
        "park_id": world.park_a.id + 0.5, "name": "x", "investor_name": "y",
        "investment": 20000, "industry": "new_energy"})
    assert_error(response, 422, "validation_error")
    assert "park_id" in response.get_json()["error"]["fields"]


def test_api_search_takes_wildcards_literally(api, world):
    found = api("admin").get("/projects", query_string={"q": "%"}).get_json()
    assert found["total"] == 0
    found = api("admin").get("/projects", query_string={"q": "_"}).get_json()
    assert found["total"] == 0


def test_api_answers_are_not_cached(api, world):
    response = api("agent_a").get("/parks")
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("hours", ["NaN", "sNaN", "Infinity", "-Infinity", "1e999999999"])
def test_hours_that_are_not_numbers_are_refused(app, client, world, hours):
    from crm.extensions import db
    from crm.projects.models import ProgressLog

    login(client, "agent_a")
    response = client.post(f"/projects/{world.projects['a1'].id}/logs", data={
        "kind": "visit", "happened_on": dt.date.today().isoformat(), "text": "走访", "hours": hours})
    assert response.status_code == 200 and "is-invalid" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ProgressLog)) == 0


@pytest.mark.parametrize("url,field", [
    ("/parks/{park}/unassigned/auto", "project_id"),
    ("/notifications/read", "id"),
    ("/parks/{park}/roster/add", "staff_id"),
    ("/projects/{a1}/team/helpers/end", "end-assignment_id"),
    ("/projects/{a1}/team/helpers", "helper-staff_id"),
])
@pytest.mark.parametrize("value", ["99999999999999999999999", "-1", "1e3", "0x10"])
def test_ids_no_column_can_hold_name_nothing(app, client, world, url, field, value):
    login(client, "manager_a")
    response = client.post(url.format(park=world.park_a.id, a1=world.projects["a1"].id),
                           data={field: value, "helper-reason": "r", "end-reason": "r"})
    assert response.status_code in (200, 302, 400, 404, 422), response.status_code


# -- the back office -----------------------------------------------------------------------------

@pytest.mark.parametrize("view", ["admin_staff", "admin_users", "admin_parks", "admin_districts",
                                  "admin_approval_items", "admin_audit"])
@pytest.mark.parametrize("value", ["abc", "99999999999999999999999", "-1"])
def test_admin_urls_with_bad_ids_say_the_record_does_not_exist(client, world, view, value):
    login(client, "admin")
    for action in ("details", "edit"):
        response = client.get(f"/admin/{view}/{action}/", query_string={"id": value})
        assert response.status_code in (302, 404), (action, response.status_code)


def test_admin_refuses_negative_capacity_and_a_bad_division_code(app, client, world):
    from crm.agents.models import Staff
    from crm.extensions import db
    from crm.parks.models import District

    login(client, "admin")
    with app.app_context():
        before = (db.session.scalar(select(func.count()).select_from(Staff)),
                  db.session.scalar(select(func.count()).select_from(District)))
    page = client.post("/admin/admin_staff/new/", data={
        "name": "负数", "kind": "agent", "capacity": "-1", "active": "y"})
    assert page.status_code == 200 and "1 到 1000" in page.get_data(as_text=True)
    page = client.post("/admin/admin_districts/new/", data={"code": "abc", "name": "某区"})
    assert page.status_code == 200 and "6 位数字" in page.get_data(as_text=True)
    with app.app_context():
        after = (db.session.scalar(select(func.count()).select_from(Staff)),
                 db.session.scalar(select(func.count()).select_from(District)))
    assert after == before


def test_the_last_admin_and_oneself_cannot_be_removed(app, client, world):
    from crm.auth.models import User
    from crm.extensions import db

    admin_id = world.users["admin"].id
    login(client, "admin")
    client.post("/admin/admin_users/delete/", data={"id": admin_id})
    page = client.post(f"/admin/admin_users/edit/?id={admin_id}", data={
        "username": "admin", "display_name": "admin", "role": "leader", "active": "y",
        "locale": "zh_Hans_CN"}, follow_redirects=True)
    assert "最后一个启用的管理员" in page.get_data(as_text=True)
    with app.app_context():
        user = db.session.get(User, admin_id)
        assert user is not None and user.role == "admin" and user.active
