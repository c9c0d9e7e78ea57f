"""Reference data, project reads, scope, limits and the one error shape."""

import pytest

from tests.integration.api.conftest import assert_error


def test_openapi_document_is_served_and_valid(client, world):
    from openapi_spec_validator import validate

    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    validate(spec)
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert "/api/v1/projects" in spec["paths"]


def test_api_reference_page_is_local(client, world):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/static/vendor/redoc-2.5.4/redoc.standalone.js" in page
    assert "https://" not in page


@pytest.mark.parametrize("username,expected", [
    ("admin", {"a1", "a2", "b1"}), ("leader", {"a1", "a2", "b1"}), ("manager_a", {"a1", "a2"}),
    ("agent_a", {"a1"}), ("agent_b", {"b1"}), ("agent_a2", set()),
])
def test_project_list_is_scoped_like_the_ui(api, world, username, expected):
    response = api(username).get("/projects")
    assert response.status_code == 200
    body = response.get_json()
    ids = {p["id"] for p in body["items"]}
    assert ids == {world.projects[k].id for k in expected}
    assert body["total"] == len(expected)


def test_out_of_scope_and_unknown_projects_are_404(api, world):
    assert_error(api("agent_a").get(f"/projects/{world.projects['b1'].id}"), 404, "not_found")
    assert_error(api("admin").get("/projects/999999"), 404, "not_found")
    assert api("agent_a").get(f"/projects/{world.projects['a1'].id}").get_json()["name"] == "南通新能源电池项目"


def test_parks_and_staff_follow_the_scope(api, world):
    assert {p["id"] for p in api("manager_a").get("/parks").get_json()} == {world.park_a.id}
    assert len(api("leader").get("/parks").get_json()) == 2
    staff_names = {s["name"] for s in api("manager_b").get("/staff").get_json()}
    assert staff_names == {"赵顾问", "陈代办"}


def test_reference_data(api, world):
    items = api("agent_a").get("/approval-items").get_json()
    assert any(i["name"] == "施工许可证" and i["committed_unit"] == "calendar" for i in items)
    assert any(d["code"] == "320612" for d in api("agent_a").get("/districts").get_json())


@pytest.mark.parametrize("query,field", [
    ("page=0", "page"), ("page_size=1000", "page_size"), ("stage=nonsense", "stage"),
    ("page=abc", "page"), ("park=-3", "park"),
])
def test_bad_query_values_are_422_with_field_details(api, world, query, field):
    error = assert_error(api("admin").get(f"/projects?{query}"), 422, "validation_error")
    assert field in error["fields"]


def test_pagination_and_page_size_cap(app, api, world):
    body = api("admin").get("/projects?page=2&page_size=2").get_json()
    assert body["page"] == 2 and body["page_size"] == 2 and body["total"] == 3 and len(body["items"]) == 1


def test_unknown_route_and_method_answer_json(api, world):
    assert_error(api("admin").get("/nothing-here"), 404, "not_found")
    assert_error(api("admin").delete("/districts"), 405, "method_not_allowed")


def test_body_size_limit(app, api, world):
    response = api("admin").post("/projects", data="x" * (app.config["API_MAX_BODY_BYTES"] + 1),
                                 headers={"Content-Type": "application/json"})
    assert_error(response, 413, "too_large")


def test_rate_limit_per_token(app_config, tmp_path, world, tokens):
    from tests.conftest import _create_app

    limited = _create_app(dict(app_config, RATELIMIT_API="3 per minute"), tmp_path)
    client = limited.test_client()
    headers = {"Authorization": f"Bearer {tokens['agent_a']}"}
    codes = [client.get("/api/v1/districts", headers=headers).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert_error(client.get("/api/v1/districts", headers=headers), 429, "rate_limited")
    # Another token has its own budget.
    other = {"Authorization": f"Bearer {tokens['agent_b']}"}
    assert client.get("/api/v1/districts", headers=other).status_code == 200
