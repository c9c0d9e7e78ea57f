"""Projects through the API: create, update with optimistic locking, stage changes; the same
rules and the same access as the web pages."""

import pytest

from crm.projects.codes import make_credit_code, make_project_code
from tests.integration.api.conftest import assert_error

NEW = {"name": "南通储能电池项目", "investor_name": "江苏储能科技有限公司", "investment": 150000,
       "industry": "new_energy"}


def test_manager_creates_a_project_in_their_park_and_staff_are_assigned(api, world):
    response = api("manager_a").post("/projects", json=dict(NEW, park_id=world.park_a.id, stage="signed"))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["park_id"] == world.park_a.id and body["stage"] == "signed" and body["version"] == 1
    team = api("manager_a").get(f"/projects/{body['id']}/assignments").get_json()
    assert {a["role"] for a in team if a["ended_at"] is None} == {"consultant", "lead_agent"}
    plan = api("manager_a").get(f"/projects/{body['id']}/milestones").get_json()
    assert any(m["name"] == "施工许可证" for m in plan)


@pytest.mark.parametrize("username,status", [
    ("admin", 201), ("manager_a", 201), ("leader", 403), ("consultant_a", 403), ("agent_a", 403)])
def test_who_may_create(api, world, username, status):
    response = api(username).post("/projects", json=dict(NEW, park_id=world.park_a.id))
    assert response.status_code == status


def test_a_park_outside_the_scope_is_refused_on_the_field(api, world):
    error = assert_error(api("manager_a").post("/projects", json=dict(NEW, park_id=world.park_b.id)),
                         422, "validation_error")
    assert "park_id" in error["fields"]


@pytest.mark.parametrize("change,field", [
    ({"investment": 9999}, "investment"),
    ({"investment": "一亿"}, "investment"),
    ({"name": ""}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"investor_credit_code": "91350100M000100Y44"}, "investor_credit_code"),
    ({"code": "2405_320612_89_01_123456"}, "code"),
    ({"signed_on": "2099-01-01"}, "signed_on"),
    ({"signed_on": "2026-05-01", "expected_start_on": "2026-04-01"}, "expected_start_on"),
    ({"industry": "tobacco"}, "industry"),
])
def test_bad_fields_are_named_and_nothing_is_saved(api, world, change, field):
    manager = api("manager_a")
    before = manager.get("/projects").get_json()["total"]
    error = assert_error(manager.post("/projects", json=dict(NEW, park_id=world.park_a.id, **change)),
                         422, "validation_error")
    assert field in error["fields"], error
    assert manager.get("/projects").get_json()["total"] == before


def test_credit_code_and_project_code_with_good_check_characters_pass(api, world):
    body = dict(NEW, park_id=world.park_a.id, investor_credit_code=make_credit_code("91320612MA1X2Y3K4"),
                code=make_project_code("2405", "320612", "89", "01", "12345"))
    assert api("manager_a").post("/projects", json=body).status_code == 201


def test_a_failed_check_digit_is_a_warning_that_can_be_accepted(api, world):
    code = make_project_code("2405", "320612", "89", "01", "12345")
    bad = code[:-1] + str((int(code[-1]) + 1) % 10)
    body = dict(NEW, park_id=world.park_a.id, code=bad)
    error = assert_error(api("manager_a").post("/projects", json=body), 422, "code_check_digit")
    assert "code" in error["fields"]
    response = api("manager_a").post("/projects", json=dict(body, accept_code_warning=True))
    assert response.status_code == 201 and response.get_json()["code"] == bad


def test_patch_with_the_current_version_saves_and_bumps_it(api, world):
    pid = world.projects["a1"].id
    project = api("manager_a").get(f"/projects/{pid}").get_json()
    response = api("manager_a").patch(f"/projects/{pid}", json={"version": project["version"],
                                                                 "investment": 250000})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["investment"] == 250000 and body["version"] == project["version"] + 1
    assert body["name"] == project["name"]  # untouched fields stay


def test_a_stale_version_is_409_with_the_current_one_and_nothing_saved(api, world):
    pid = world.projects["a1"].id
    version = api("manager_a").get(f"/projects/{pid}").get_json()["version"]
    assert api("consultant_a").patch(f"/projects/{pid}", json={"version": version, "contact_name": "周经理"}).status_code == 200
    error = assert_error(api("manager_a").patch(f"/projects/{pid}", json={"version": version, "investment": 99999}),
                         409, "conflict")
    assert error["current_version"] == version + 1
    assert api("manager_a").get(f"/projects/{pid}").get_json()["investment"] != 99999


@pytest.mark.parametrize("username,key,status", [
    ("consultant_a", "a1", 200), ("agent_a", "a1", 403), ("leader", "a1", 403),
    ("manager_b", "a1", 404), ("agent_b", "a1", 404)])
def test_who_may_edit(api, world, username, key, status):
    pid = world.projects[key].id
    response = api(username).patch(f"/projects/{pid}", json={"version": 1, "contact_name": "周经理"})
    assert response.status_code == status


def test_consultants_cannot_change_the_status(api, world):
    pid = world.projects["a1"].id
    assert_error(api("consultant_a").patch(f"/projects/{pid}", json={"version": 1, "status": "on_hold"}),
                 403, "forbidden")


def test_stage_change_needs_a_reason_and_the_right_role(api, world):
    pid = world.projects["a2"].id
    manager = api("manager_a")
    assert_error(manager.post(f"/projects/{pid}/stage", json={"stage": "filing", "version": 1}),
                 422, "validation_error")
    assert_error(api("agent_a").post(f"/projects/{pid}/stage",
                                     json={"stage": "filing", "reason": "x", "version": 1}), 404, "not_found")
    assert_error(api("leader").post(f"/projects/{pid}/stage",
                                    json={"stage": "filing", "reason": "x", "version": 1}), 403, "forbidden")
    response = manager.post(f"/projects/{pid}/stage", json={"stage": "filing", "reason": "备案已完成", "version": 1})
    assert response.status_code == 200 and response.get_json()["stage"] == "filing"
    assert_error(manager.post(f"/projects/{pid}/stage", json={"stage": "land", "reason": "x", "version": 1}),
                 409, "conflict")
