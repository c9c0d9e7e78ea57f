"""The API's one error shape:

    {"error": {"code": "validation_error", "message": "...", "fields": {"field": ["message"]}}}

with 400 (malformed), 401, 403, 404 (also out of scope), 409 (conflict), 413, 422 (validation),
429 (rate limit).  Never an HTML page, never a 500 for bad input.
"""

from __future__ import annotations

from flask import jsonify
from flask_smorest import abort as smorest_abort

CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
    422: "validation_error", 429: "rate_limited", 500: "server_error",
}


def _flatten(messages) -> dict[str, list[str]]:
    """webargs nests messages by location ({"json": {"field": [...]}}); the API shows fields."""
    if not isinstance(messages, dict):
        return {}
    fields: dict[str, list[str]] = {}
    for location, value in messages.items():
        inner = value if location in ("json", "query", "form", "files", "headers", "view_args") else {location: value}
        if not isinstance(inner, dict):
            fields.setdefault("_schema", []).extend(map(str, _as_list(inner)))
            continue
        for field, problems in inner.items():
            fields.setdefault(str(field), []).extend(str(p) for p in _as_list(problems))
    return fields


def _as_list(value) -> list:
    if isinstance(value, dict):
        return [f"{k}: {v}" for k, v in value.items()]
    return list(value) if isinstance(value, (list, tuple)) else [value]


_RESERVED = {"message", "fields", "code", "headers", "messages", "errors", "exc", "schema"}


def error_body(status: int, message: str, fields: dict | None = None, code: str | None = None,
               extra: dict | None = None) -> dict:
    body = {"code": code or CODES.get(status, "error"), "message": message, "fields": fields or {}}
    body.update(extra or {})
    return {"error": body}


def error_response(status: int, message: str, fields: dict | None = None, code: str | None = None,
                   extra: dict | None = None):
    response = jsonify(error_body(status, message, fields, code, extra))
    response.status_code = status
    return response


def from_http_exception(error, message: str):
    """The JSON answer for an HTTPException raised under /api."""
    data = getattr(error, "data", None) or {}
    fields = data.get("fields") or _flatten(data.get("messages") or data.get("errors") or {})
    status = error.code or 500
    if status == 422 and not data.get("message"):
        message = "The request has invalid fields."
    extra = {k: v for k, v in data.items() if k not in _RESERVED}
    response = error_response(status, data.get("message") or message, fields, data.get("code"), extra)
    for key, value in (data.get("headers") or {}).items():
        response.headers[key] = value
    return response


def abort(status: int, message: str, fields: dict | None = None, code: str | None = None, **extra):
    """Stop the request with the API's error shape."""
    smorest_abort(status, message=message, fields=fields or {}, code=code or CODES.get(status), **extra)
