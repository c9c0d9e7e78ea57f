"""API fixtures: a token per world user, and a client that sends it."""

from __future__ import annotations

import pytest


@pytest.fixture
def tokens(app, world):
    """username -> bearer secret, one token for every world user."""
    from crm.auth.services import create_token
    from crm.auth.models import User
    from crm.extensions import db

    secrets = {}
    with app.app_context():
        for username, user in world.users.items():
            _, secrets[username] = create_token(db.session.get(User, user.id), "tests")
        db.session.commit()
    return secrets


class ApiClient:
    def __init__(self, client, secret):
        self.client = client
        self.headers = {"Authorization": f"Bearer {secret}"} if secret else {}

    def _call(self, method, path, **kwargs):
        headers = dict(self.headers, **kwargs.pop("headers", {}))
        return getattr(self.client, method)(f"/api/v1{path}", headers=headers, **kwargs)

    def get(self, path, **kw):
        return self._call("get", path, **kw)

    def post(self, path, **kw):
        return self._call("post", path, **kw)

    def patch(self, path, **kw):
        return self._call("patch", path, **kw)

    def put(self, path, **kw):
        return self._call("put", path, **kw)

    def delete(self, path, **kw):
        return self._call("delete", path, **kw)


@pytest.fixture
def api(app, tokens):
    """api("agent_a") -> a client authenticated as that world user."""
    def _for(username: str | None):
        return ApiClient(app.test_client(), tokens.get(username) if username else None)
    return _for


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json, response.get_data(as_text=True)[:200]
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["fields"], dict)
    return body["error"]
