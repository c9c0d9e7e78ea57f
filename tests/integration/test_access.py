"""The access matrix (DESIGN §4): role x page; out-of-scope records answer 404."""

import pytest

from tests.conftest import login

# (username, project key) -> expected status of the project page
PROJECT_ACCESS = {
    "admin": {"a1": 200, "a2": 200, "b1": 200},
    "leader": {"a1": 200, "a2": 200, "b1": 200},
    "manager_a": {"a1": 200, "a2": 200, "b1": 404},
    "manager_b": {"a1": 404, "a2": 404, "b1": 200},
    "consultant_a": {"a1": 200, "a2": 404, "b1": 404},
    "agent_a": {"a1": 200, "a2": 404, "b1": 404},
    "agent_a2": {"a1": 404, "a2": 404, "b1": 404},
    "agent_b": {"a1": 404, "a2": 404, "b1": 200},
}


@pytest.mark.parametrize("username", sorted(PROJECT_ACCESS))
def test_project_pages_follow_the_scope(client, world, username):
    login(client, username)
    for key, expected in PROJECT_ACCESS[username].items():
        status = client.get(f"/projects/{world.projects[key].id}").status_code
        assert status == expected, f"{username} -> {key}: {status}, expected {expected}"


@pytest.mark.parametrize("username", sorted(PROJECT_ACCESS))
def test_project_list_shows_exactly_the_scope(client, world, username):
    login(client, username)
    page = client.get("/projects/").get_data(as_text=True)
    for key, expected in PROJECT_ACCESS[username].items():
        name = {"a1": "南通新能源电池项目", "a2": "南通精密机械项目", "b1": "海安新材料项目"}[key]
        assert (name in page) == (expected == 200), f"{username} list and {key}"


def test_unknown_project_is_404(client, world):
    login(client, "admin")
    assert client.get("/projects/999999").status_code == 404


@pytest.mark.parametrize("path", ["/", "/projects/", f"/projects/1", "/profile", "/admin/"])
def test_anonymous_users_are_sent_to_login(client, world, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("username,status", [
    ("admin", 200), ("leader", 403), ("manager_a", 403), ("consultant_a", 403), ("agent_a", 403),
])
def test_only_admins_reach_the_back_office(client, world, username, status):
    login(client, username)
    for path in ("/admin/", "/admin/admin_users/", "/admin/admin_parks/", "/admin/admin_audit/",
                 "/admin/admin_users/new/"):
        assert client.get(path).status_code == status, path
    if status == 403:
        response = client.post("/admin/admin_districts/new/", data={"code": "320699", "name": "x"})
        assert response.status_code == 403


@pytest.mark.parametrize("username,marker", [
    ("agent_a", 'data-testid="my-projects"'),
    ("consultant_a", 'data-testid="my-projects"'),
    ("manager_a", 'data-testid="park-overview"'),
    ("leader", 'data-testid="park-overview"'),
    ("admin", 'data-testid="park-overview"'),
])
def test_home_page_is_shaped_by_role(client, world, username, marker):
    login(client, username)
    page = client.get("/").get_data(as_text=True)
    assert marker in page
    assert ("后台管理" in page) == (username == "admin")


def test_park_manager_overview_lists_only_their_parks(client, world):
    login(client, "manager_a")
    page = client.get("/").get_data(as_text=True)
    assert "南通经济技术开发区" in page and "海安经济技术开发区" not in page
