"""Dashboard figures through the API: the same numbers and the same access as the web pages."""

import pytest

from tests import factories
from tests.integration.api.conftest import assert_error


def _city_web_figure(client, name):
    import re

    page = client.get("/dashboard/city").get_data(as_text=True)
    return re.search(rf'data-testid="figure-{name}">([^<]*)<', page).group(1)


def test_park_figures_count_the_parks_projects(app, api, world):
    from crm.extensions import db

    with app.app_context():
        park_b = db.session.merge(world.park_b)
        factories.project(park_b, "海安终止项目", status="dropped", investment=50000)
        factories.log(db.session.merge(world.projects["b1"]), "blocker", "缺少用地指标")
        db.session.commit()
    response = api("manager_b").get(f"/dashboard/parks/{world.park_b.id}")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["park_id"] == world.park_b.id and body["period_days"] == 90
    figures = body["figures"]
    # b1 only: the dropped project is not active.
    assert figures["active_projects"] == 1
    assert figures["investment"] == 20000
    assert figures["open_blockers"] == 1
    assert {s["stage"]: s["active_projects"] for s in figures["stages"]}["filing"] == 1
    assert len(figures["months"]) == 12


def test_park_figures_filters_are_validated(api, world):
    park = world.park_a.id
    error = assert_error(api("admin").get(f"/dashboard/parks/{park}?period=7"), 422,
                         "validation_error")
    assert "period" in error["fields"]
    assert_error(api("admin").get(f"/dashboard/parks/{park}?stage=moon"), 422, "validation_error")
    body = api("admin").get(f"/dashboard/parks/{park}?stage=land").get_json()
    assert body["figures"]["active_projects"] == 1  # a1 is at the land stage, a2 is signed


@pytest.mark.parametrize("username,park,status", [
    ("manager_a", "park_b", 404), ("agent_a", "park_a", 403), ("consultant_a", "park_a", 403),
    ("leader", "park_b", 200), ("admin", "park_a", 200), ("manager_a", "park_a", 200),
])
def test_park_figures_access_matches_the_ui(api, world, username, park, status):
    response = api(username).get(f"/dashboard/parks/{getattr(world, park).id}")
    assert response.status_code == status
    assert response.is_json


def test_unknown_park_is_404(api, world):
    assert_error(api("admin").get("/dashboard/parks/999999"), 404, "not_found")


def test_city_figures_are_the_sum_of_the_parks(api, world, login_as):
    body = api("leader").get("/dashboard/city").get_json()
    parks = {p["park_id"]: p["figures"] for p in body["parks"]}
    assert set(parks) == {world.park_a.id, world.park_b.id}
    assert parks[world.park_a.id]["active_projects"] == 2
    assert parks[world.park_b.id]["active_projects"] == 1
    assert body["figures"]["active_projects"] == 3
    # a2 has no consultant and no lead agent: unassigned.
    assert body["figures"]["unassigned_projects"] == 1
    assert body["computed_at"] is not None
    # The web page shows the same rollups.
    assert _city_web_figure(login_as("leader"), "active_projects") == "3"


@pytest.mark.parametrize("username", ["manager_a", "agent_a", "consultant_a"])
def test_city_figures_are_for_leadership_only(api, world, username):
    assert_error(api(username).get("/dashboard/city"), 403, "forbidden")


def test_dashboard_paths_are_in_the_openapi_document(client, world):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/dashboard/city" in spec["paths"]
    assert "/api/v1/dashboard/parks/{park_id}" in spec["paths"]
