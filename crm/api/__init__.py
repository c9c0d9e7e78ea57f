"""The JSON API (/api/v1): one blueprint per area, registered on a flask-smorest Api with
the OpenAPI document; bearer-token authentication and rate limits in core.py."""

from __future__ import annotations

from flask import Flask, current_app

from crm.api import (
    assignments, attachments, dashboard, docs, documents, feedback, imports, logs, milestones, plans,
    projects, reference, supervision,
)
from crm.api.core import API_PREFIX, DaibanApi, authenticate, token_rate_key
from crm.extensions import csrf, limiter


def _api_limit() -> str:
    return current_app.config["RATELIMIT_API"]


def _limit_exempt() -> bool:
    return not current_app.config["RATELIMIT_ENABLED"]


def init_api(app: Flask) -> DaibanApi:
    app.config.setdefault("API_TITLE", "Daiban API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", API_PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": "Daiban's JSON API. Authenticate with a personal API token: "
                                "`Authorization: Bearer <token>` (create one on your profile page "
                                "or with `flask --app crm crm token create USER`)."},
        "security": [{"bearerAuth": []}],
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
    })
    app.before_request(authenticate)

    api = DaibanApi(app)
    for blueprint in (reference.bp, projects.bp, milestones.bp, plans.bp, logs.bp,
                      assignments.bp, documents.bp, dashboard.bp, feedback.bp, imports.bp,
                      attachments.bp, supervision.bp):
        csrf.exempt(blueprint)  # no cookie authenticates the API, so no CSRF exposure
        # The same limit (module-level functions) on every call: registered once however
        # many apps are created.
        limiter.limit(_api_limit, key_func=token_rate_key, exempt_when=_limit_exempt)(blueprint)
        api.register_blueprint(blueprint)
    app.register_blueprint(docs.bp)
    return api
