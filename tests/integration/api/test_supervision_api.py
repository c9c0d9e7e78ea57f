"""The supervision API (issue 20): rounds, reports, problems and meetings under the web's
scope and rules."""

from __future__ import annotations

from tests.integration.api.conftest import assert_error

DEPARTMENT = "自然资源和规划局"


def _round_body(world, **overrides):
    body = {"title": "API调度", "cadence": "weekly", "park_id": world.park_a.id,
            "period_start": "2026-11-23", "period_end": "2026-11-29", "due_on": "2099-01-05"}
    body.update(overrides)
    return body


def test_a_round_through_the_api_from_opening_to_closing(api, world):
    manager, agent = api("manager_a"), api("agent_a")
    created = manager.post("/rounds", json=_round_body(world))
    assert created.status_code == 201, created.get_json()
    round_id = created.get_json()["id"]
    a1 = world.projects["a1"].id
    listed = agent.get(f"/rounds/{round_id}/reports").get_json()
    assert [r["project_id"] for r in listed["items"]] == [a1]  # the agent's own project only
    assert listed["items"][0]["state"] == "missing"
    filled = agent.put(f"/rounds/{round_id}/reports/{a1}", json={
        "progress": "完成材料报送", "stage_reached": "land", "investment_completed": 1200,
        "problem": {"text": "用地指标待调剂", "department": DEPARTMENT}})
    assert filled.status_code == 200, filled.get_json()
    assert filled.get_json()["state"] == "filled"
    problems = manager.get("/problems").get_json()
    assert [p["department"] for p in problems] == [DEPARTMENT]
    ranking = manager.get("/problems/by-department").get_json()
    assert ranking[0]["department"] == DEPARTMENT and ranking[0]["projects"] == 1
    closed = manager.post(f"/rounds/{round_id}/close", json={})
    assert closed.status_code == 200
    assert {d["kind"] for d in closed.get_json()["documents"]} == {"round_report", "round_workbook"}
    late = agent.put(f"/rounds/{round_id}/reports/{a1}", json={
        "progress": "补充", "stage_reached": "land"})
    assert late.status_code == 409 and late.get_json()["error"]["message"]


def test_the_api_refuses_bad_rounds_reports_and_other_parks(api, world):
    manager = api("manager_a")
    empty = manager.post("/rounds", json=_round_body(world, industries=["food"]))
    assert_error(empty, 422, "validation_error")
    past = manager.post("/rounds", json=_round_body(world, due_on="2020-01-06"))
    assert "due_on" in assert_error(past, 422, "validation_error")["fields"]
    other = manager.post("/rounds", json=_round_body(world, park_id=world.park_b.id))
    assert "park_id" in assert_error(other, 404, "not_found")["fields"]
    round_id = manager.post("/rounds", json=_round_body(world)).get_json()["id"]
    a1 = world.projects["a1"].id
    absurd = api("agent_a").put(f"/rounds/{round_id}/reports/{a1}", json={
        "progress": "x", "stage_reached": "land", "investment_completed": 30000})
    assert "investment_completed" in assert_error(absurd, 422, "validation_error")["fields"]
    for username in ("manager_b", "agent_b"):
        outsider = api(username)
        assert_error(outsider.get(f"/rounds/{round_id}"), 404, "not_found")
        assert_error(outsider.put(f"/rounds/{round_id}/reports/{a1}", json={
            "progress": "x", "stage_reached": "land"}), 404, "not_found")
    assert_error(api("agent_a").post(f"/rounds/{round_id}/close", json={}), 403, "forbidden")
    assert_error(api("leader").put(f"/rounds/{round_id}/reports/{a1}", json={
        "progress": "x", "stage_reached": "land"}), 403, "forbidden")
