"""The "done means" journey of a script with a token: create a project, start and complete its
milestones, log progress and resolve a blocker; milestone rules and access through the API."""

import datetime as dt

import pytest

from zoneinfo import ZoneInfo

from tests.integration.api.conftest import assert_error


def today() -> dt.date:
    """The service's today (deadlines are dates in Asia/Shanghai)."""
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()


def _workday_before(app, days: int) -> dt.date:
    from crm.milestones.queries import work_calendar

    with app.app_context():
        calendar = work_calendar()
        day = today()
        while days:
            day -= dt.timedelta(days=1)
            days -= calendar.is_workday(day)
        return day


def test_a_script_runs_a_project_through_its_filing(app, api, world):
    manager = api("manager_a")
    created = manager.post("/projects", json={
        "name": "如东海上风电装备项目", "investor_name": "江苏海风装备有限公司", "investment": 300000,
        "industry": "new_energy", "park_id": world.park_a.id, "stage": "signed"})
    assert created.status_code == 201, created.get_json()
    pid = created.get_json()["id"]
    plan = manager.get(f"/projects/{pid}/milestones").get_json()
    filing = [m for m in plan if m["stage"] == "filing"]
    assert filing and all(m["status"] == "pending" for m in filing)
    accepted = _workday_before(app, 3)
    for m in filing:
        started = manager.post(f"/projects/{pid}/milestones/{m['id']}/start",
                               json={"accepted_on": accepted.isoformat(), "version": m["version"]})
        assert started.status_code == 200, started.get_json()
        body = started.get_json()
        assert body["status"] == "running" and body["due_on"] and body["state"] in ("on_track", "due_soon", "overdue")
        done = manager.post(f"/projects/{pid}/milestones/{m['id']}/complete",
                            json={"completed_on": today().isoformat(), "version": body["version"],
                                  "approval_doc_no": "通审批〔2026〕1号"})
        assert done.status_code == 200, done.get_json()
        assert done.get_json()["status"] == "done" and done.get_json()["state"] in ("met", "missed")
    # Every filing milestone done: the project moved on by itself.
    assert manager.get(f"/projects/{pid}").get_json()["stage"] == "land"

    blocker = manager.post(f"/projects/{pid}/logs", json={
        "kind": "blocker", "happened_on": today().isoformat(), "text": "用地指标尚未落实"})
    assert blocker.status_code == 201 and blocker.get_json()["open_blocker"] is True
    resolution = manager.post(f"/projects/{pid}/logs", json={
        "kind": "resolution", "happened_on": today().isoformat(), "text": "指标已落实",
        "resolves": blocker.get_json()["id"], "hours": 1.5})
    assert resolution.status_code == 201, resolution.get_json()
    logs = manager.get(f"/projects/{pid}/logs").get_json()
    assert logs["total"] == 2
    assert [entry["open_blocker"] for entry in logs["items"]] == [False, False]


def _first_pending(api, user, pid):
    return next(m for m in api(user).get(f"/projects/{pid}/milestones").get_json() if m["status"] == "pending")


@pytest.fixture
def planned(app, world):
    """Project a1 with its approval plan drawn up."""
    from crm.extensions import db
    from crm.milestones.services.plans import create_plan
    from crm.projects.models import Project

    with app.app_context():
        create_plan(db.session.get(Project, world.projects["a1"].id))
        db.session.commit()
    return world.projects["a1"].id


def test_milestone_rules_come_back_per_field(api, planned):
    agent = api("agent_a")
    m = _first_pending(api, "agent_a", planned)
    tomorrow = (today() + dt.timedelta(days=1)).isoformat()
    error = assert_error(agent.post(f"/projects/{planned}/milestones/{m['id']}/start",
                                    json={"accepted_on": tomorrow, "version": m["version"]}),
                         422, "validation_error")
    assert "accepted_on" in error["fields"]
    # Not now (the milestone is not paused): a state conflict, like resolving a resolved blocker.
    error = assert_error(agent.post(f"/projects/{planned}/milestones/{m['id']}/resume",
                                    json={"resumed_on": today().isoformat(), "version": m["version"]}),
                         409, "conflict")
    assert error["fields"] == {"status": [error["message"]]}
    assert_error(agent.post(f"/projects/{planned}/milestones/{m['id']}/pause",
                            json={"paused_on": today().isoformat(), "reason_code": "lunch", "version": m["version"]}),
                 422, "validation_error")


def test_stale_milestone_version_is_409(api, planned):
    agent = api("agent_a")
    m = _first_pending(api, "agent_a", planned)
    ok = agent.post(f"/projects/{planned}/milestones/{m['id']}/start",
                    json={"accepted_on": today().isoformat(), "version": m["version"]})
    assert ok.status_code == 200
    error = assert_error(agent.post(f"/projects/{planned}/milestones/{m['id']}/waive",
                                    json={"reason": "无需办理", "version": m["version"]}), 409, "conflict")
    assert error["current_version"] == ok.get_json()["version"]


@pytest.mark.parametrize("username,status", [
    ("agent_a", 200), ("consultant_a", 200), ("manager_a", 200), ("leader", 403),
    ("agent_b", 404), ("manager_b", 404)])
def test_milestone_access(api, planned, username, status):
    m = _first_pending(api, "admin", planned)
    response = api(username).post(f"/projects/{planned}/milestones/{m['id']}/start",
                                  json={"accepted_on": today().isoformat(), "version": m["version"]})
    assert response.status_code == status


def test_reopen_is_for_managers(api, planned):
    m = _first_pending(api, "admin", planned)
    waived = api("agent_a").post(f"/projects/{planned}/milestones/{m['id']}/waive",
                                 json={"reason": "无需办理", "version": m["version"]}).get_json()
    assert_error(api("agent_a").post(f"/projects/{planned}/milestones/{m['id']}/reopen",
                                     json={"reason": "误操作", "version": waived["version"]}), 403, "forbidden")
    assert api("manager_a").post(f"/projects/{planned}/milestones/{m['id']}/reopen",
                                 json={"reason": "误操作", "version": waived["version"]}).status_code == 200


def test_a_milestone_of_another_project_is_404(api, world, planned):
    m = _first_pending(api, "admin", planned)
    other = world.projects["a2"].id
    assert_error(api("manager_a").post(f"/projects/{other}/milestones/{m['id']}/start",
                                       json={"accepted_on": today().isoformat(), "version": 1}),
                 404, "not_found")


@pytest.mark.parametrize("body,field", [
    ({"kind": "visit", "happened_on": "2099-01-01", "text": "x"}, "happened_on"),
    ({"kind": "visit", "happened_on": "2026-11-02", "text": ""}, "text"),
    ({"kind": "visit", "happened_on": "2026-11-02", "text": "x" * 2001}, "text"),
    ({"kind": "visit", "happened_on": "2026-11-02", "text": "x", "hours": 25}, "hours"),
    ({"kind": "visit", "happened_on": "2026-11-02", "text": "x", "resolves": 1}, "resolves"),
    ({"kind": "dance", "happened_on": "2026-11-02", "text": "x"}, "kind"),
])
def test_bad_log_entries_are_refused_per_field(api, world, body, field):
    pid = world.projects["a1"].id
    error = assert_error(api("agent_a").post(f"/projects/{pid}/logs", json=body), 422, "validation_error")
    assert field in error["fields"], error
    assert api("agent_a").get(f"/projects/{pid}/logs").get_json()["total"] == 0


def test_log_text_is_stored_as_given_and_returned_as_json(api, world):
    pid = world.projects["a1"].id
    hostile = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    created = api("agent_a").post(f"/projects/{pid}/logs", json={
        "kind": "visit", "happened_on": today().isoformat(), "text": hostile})
    assert created.status_code == 201 and created.get_json()["text"] == hostile
    assert created.headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("username,status", [
    ("agent_a", 201), ("leader", 403), ("agent_b", 404), ("agent_a2", 404)])
def test_log_access(api, world, username, status):
    pid = world.projects["a1"].id
    response = api(username).post(f"/projects/{pid}/logs", json={
        "kind": "call", "happened_on": today().isoformat(), "text": "电话沟通"})
    assert response.status_code == status


def test_closing_a_blocker_with_a_note(api, world):
    pid = world.projects["a1"].id
    agent = api("agent_a")
    blocker = agent.post(f"/projects/{pid}/logs", json={
        "kind": "blocker", "happened_on": today().isoformat(), "text": "材料缺失"}).get_json()
    closed = agent.post(f"/projects/{pid}/blockers/{blocker['id']}/resolve", json={"note": "已补齐"})
    assert closed.status_code == 200 and closed.get_json()["resolution_note"] == "已补齐"
    assert_error(agent.post(f"/projects/{pid}/blockers/{blocker['id']}/resolve", json={"note": "再次"}),
                 409, "conflict")
    assert_error(agent.post(f"/projects/{pid}/blockers/{blocker['id']}/resolve", json={"note": ""}),
                 422, "validation_error")


def test_assignment_through_the_api(api, world):
    pid = world.projects["a2"].id
    auto = api("manager_a").post(f"/projects/{pid}/assignments/auto")
    assert auto.status_code == 200
    assert set(auto.get_json()["assigned"]) == {"consultant", "lead_agent"}
    current_lead = auto.get_json()["assigned"]["lead_agent"]
    other = next(s.id for k, s in world.staff.items() if k in ("agent_a", "agent_a2") and s.id != current_lead)
    missing_note = api("manager_a").post(f"/projects/{pid}/assignments", json={
        "role": "lead_agent", "staff_id": other, "reason": "调整分工"})
    assert "handover_note" in assert_error(missing_note, 422, "validation_error")["fields"]
    wrong_park = api("manager_a").post(f"/projects/{pid}/assignments", json={
        "role": "lead_agent", "staff_id": world.staff["agent_b"].id, "reason": "x", "handover_note": "y"})
    assert "staff_id" in assert_error(wrong_park, 422, "validation_error")["fields"]
    done = api("manager_a").post(f"/projects/{pid}/assignments", json={
        "role": "lead_agent", "staff_id": other, "reason": "调整分工", "handover_note": "资料已移交"})
    assert done.status_code == 201, done.get_json()
    history = api("manager_a").get(f"/projects/{pid}/assignments").get_json()
    assert len([a for a in history if a["role"] == "lead_agent"]) == 2
    assert_error(api("agent_b").post(f"/projects/{pid}/assignments/auto"), 404, "not_found")
    assert_error(api("leader").post(f"/projects/{pid}/assignments/auto"), 403, "forbidden")
