"""API tokens: hashed at rest, revocation at once, cookies never authenticate."""

from sqlalchemy import select

from tests.conftest import login
from tests.integration.api.conftest import assert_error


def test_no_token_is_401_in_the_api_shape(api, world):
    error = assert_error(api(None).get("/projects"), 401, "unauthorized")
    assert "Bearer" in error["message"]


def test_wrong_or_malformed_token_is_401(app, world):
    client = app.test_client()
    for header in ("Bearer dbn_not-a-real-token", "Bearer ", "Basic YWRtaW46eA==", "dbn_x"):
        assert_error(client.get("/api/v1/projects", headers={"Authorization": header}), 401, "unauthorized")


def test_a_session_cookie_does_not_authenticate_the_api(client, world):
    login(client, "admin")
    assert client.get("/").status_code == 200
    assert_error(client.get("/api/v1/projects"), 401, "unauthorized")


def test_tokens_are_stored_hashed(app, tokens):
    from crm.auth.models import ApiToken
    from crm.extensions import db

    with app.app_context():
        stored = db.session.scalars(select(ApiToken.token_hash)).all()
    assert tokens["admin"] not in stored
    assert all(len(h) == 64 for h in stored)


def test_revocation_takes_effect_at_once(app, api, tokens):
    from crm.auth.models import ApiToken
    from crm.auth.services import revoke_token as revoke
    from crm.extensions import db

    agent = api("agent_a")
    assert agent.get("/projects").status_code == 200
    with app.app_context():
        for token in db.session.scalars(select(ApiToken)).all():
            if token.user.username == "agent_a":
                revoke(token)
        db.session.commit()
    assert_error(agent.get("/projects"), 401, "unauthorized")


def test_disabled_user_token_stops_working(app, api, world):
    from crm.auth import services
    from crm.auth.models import User
    from crm.extensions import db

    agent = api("agent_a")
    with app.app_context():
        services.set_active(db.session.get(User, world.users["agent_a"].id), False)
        db.session.commit()
    assert_error(agent.get("/projects"), 401, "unauthorized")


def test_profile_page_creates_shows_once_and_revokes_a_token(app, client, world):
    from crm.auth.models import ApiToken
    from crm.extensions import db

    login(client, "manager_a")
    page = client.post("/profile/tokens", data={"name": "园区台账同步"}).get_data(as_text=True)
    assert 'data-testid="new-token"' in page
    secret = page.split('user-select-all">')[1].split("<")[0].strip()
    assert secret.startswith("dbn_")
    headers = {"Authorization": f"Bearer {secret}"}
    assert app.test_client().get("/api/v1/projects", headers=headers).status_code == 200
    assert secret not in client.get("/profile").get_data(as_text=True)  # shown once
    with app.app_context():
        token_id = db.session.scalars(select(ApiToken.id).where(ApiToken.name == "园区台账同步")).one()
    assert client.post(f"/profile/tokens/{token_id}/revoke").status_code == 302
    assert app.test_client().get("/api/v1/projects", headers=headers).status_code == 401


def test_nobody_revokes_someone_elses_token(app, client, tokens, world):
    from crm.auth.models import ApiToken
    from crm.extensions import db

    with app.app_context():
        token_id = db.session.scalars(select(ApiToken.id)).first()
        owner = db.session.get(ApiToken, token_id).user.username
    other = "agent_b" if owner != "agent_b" else "agent_a"
    login(client, other)
    assert client.post(f"/profile/tokens/{token_id}/revoke").status_code == 404


def test_cli_creates_a_working_token(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["crm", "token", "create", "leader", "--name", "报表脚本"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip()
    response = app.test_client().get("/api/v1/projects", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    assert runner.invoke(args=["crm", "token", "create", "nobody"]).exit_code != 0
