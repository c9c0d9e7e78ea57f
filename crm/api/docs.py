"""A readable page for the OpenAPI document, served locally (ReDoc, vendored)."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("api_docs", __name__)


@bp.get("/api/v1/docs")
def reference():
    return render_template("api/docs.html")


@bp.after_request
def _docs_csp(response):
    # ReDoc runs its search in a web worker created from a blob: URL.
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; worker-src 'self' blob:; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; object-src 'none'"
    )
    return response
