"""Documents through the API with the real Redis and a real worker process: request (202 with
a status URL) -> worker -> status done -> download, the same bytes as the stored sha256."""

import hashlib

import pytest

from tests.integration.api.conftest import assert_error
from tests.integration.pdf_support import redis_db, run_burst_worker  # noqa: F401 (fixture)


def test_service_order_request_status_and_download(app, api, world, redis_db):  # noqa: F811
    pid = world.projects["a1"].id
    manager = api("manager_a")
    response = manager.post(f"/projects/{pid}/service-orders")
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body["status"] == "queued" and body["download_url"] is None
    assert response.headers["Location"].endswith(body["status_url"])
    # A second request while it is pending returns the same document.
    assert manager.post(f"/projects/{pid}/service-orders").get_json()["id"] == body["id"]
    assert_error(manager.get(f"/documents/{body['id']}/download"), 409, "not_ready")

    run_burst_worker(app)

    status = manager.get(f"/documents/{body['id']}").get_json()
    assert status["status"] == "done" and status["download_url"]
    pdf = manager.get(f"/documents/{body['id']}/download")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert hashlib.sha256(pdf.get_data()).hexdigest() == status["sha256"]
    assert "filename*=UTF-8''" in pdf.headers["Content-Disposition"]


@pytest.mark.parametrize("username,status", [
    ("agent_a", 202), ("leader", 403), ("manager_b", 404), ("agent_b", 404)])
def test_service_order_access(api, world, redis_db, username, status):  # noqa: F811
    response = api(username).post(f"/projects/{world.projects['a1'].id}/service-orders")
    assert response.status_code == status


def test_documents_of_others_are_404(api, world, redis_db):  # noqa: F811
    doc = api("manager_a").post(f"/projects/{world.projects['a1'].id}/service-orders").get_json()
    assert_error(api("manager_b").get(f"/documents/{doc['id']}"), 404, "not_found")
    assert_error(api("agent_b").get(f"/documents/{doc['id']}/download"), 404, "not_found")


def test_summaries_by_scope(api, world, redis_db):  # noqa: F811
    period = {"start": "2026-01-01", "end": "2026-06-30"}
    assert api("leader").post("/summaries", json=dict(period, scope="city")).status_code == 202
    error = assert_error(api("manager_a").post("/summaries", json=dict(period, scope="city")),
                         422, "validation_error")
    assert "scope" in error["fields"]
    assert api("manager_a").post("/summaries", json=dict(period, scope=str(world.park_a.id))).status_code == 202
    assert "scope" in assert_error(api("manager_a").post(
        "/summaries", json=dict(period, scope=str(world.park_b.id))), 422, "validation_error")["fields"]
    assert "end" in assert_error(api("leader").post(
        "/summaries", json={"scope": "city", "start": "2026-06-30", "end": "2026-01-01"}),
        422, "validation_error")["fields"]
    assert_error(api("agent_a").post("/summaries", json=dict(period, scope="city")), 403, "forbidden")
