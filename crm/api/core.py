"""The API object, bearer-token authentication and the per-token rate-limit key."""

from __future__ import annotations

from flask import current_app, g, request
from flask_smorest import Api

from crm.api.schemas import ErrorSchema
from crm.audit.services import ACTOR_KEY
from crm.auth.services import find_active_token
from crm.errors import error_response
from crm.extensions import db
from crm.security import upload_limit
from crm.transaction import transaction

API_PREFIX = "/api/v1"
# Paths under the prefix that need no token: the OpenAPI document and its reading page.
PUBLIC_PATHS = {f"{API_PREFIX}/openapi.json", f"{API_PREFIX}/docs"}


class DaibanApi(Api):
    """flask-smorest with the API's own error shape.  Error handlers are the app's (crm/web.py
    answers JSON under /api and HTML elsewhere), so smorest registers none of its own."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        return None


def bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def api_user():
    """The user the current API request acts as (set by ``authenticate``)."""
    return g.api_user


def authenticate():
    """Before every /api request: a valid bearer token, or 401.  Cookies never count."""
    if not request.path.startswith(API_PREFIX + "/") and request.path != API_PREFIX:
        return None
    if request.path in PUBLIC_PATHS:
        return None
    limit = upload_limit() or current_app.config["API_MAX_BODY_BYTES"]
    if request.content_length and request.content_length > limit:
        return error_response(413, f"The request body is larger than {limit} bytes.")
    with transaction():  # last_used_at, when it changed
        token = find_active_token(bearer_secret() or "")
    if token is None:
        response = error_response(
            401, "A valid API token is required: send 'Authorization: Bearer <token>'.")
        response.headers["WWW-Authenticate"] = 'Bearer realm="daiban"'
        return response
    g.api_user = token.user
    g.api_token_id = token.id
    db.session.info[ACTOR_KEY] = token.user_id
    return None


def token_rate_key() -> str:
    """Rate-limit key: the token (hashed) when one is sent, else the client address.

    Computed from the header itself because the limiter runs before authentication."""
    import hashlib

    secret = bearer_secret()
    if secret:
        return "api-token:" + hashlib.sha256(secret.encode()).hexdigest()[:24]
    return f"api-addr:{request.remote_addr}"
