"""The API's one error shape (crm/errors.py renders it):

    {"error": {"code": "validation_error", "message": "...", "fields": {"field": ["message"]}}}

with 400 (malformed), 401, 403, 404 (also out of scope), 409 (conflict), 413, 422 (validation),
429 (rate limit).  Never an HTML page, never a 500 for bad input.  A refused change (a
DomainError raised by a service) becomes its status with the messages per field.
"""

from __future__ import annotations

from flask_smorest import abort as smorest_abort

from crm.errors import CODES, error_response  # noqa: F401  (the API's error helpers)


def abort(status: int, message: str, fields: dict | None = None, code: str | None = None, **extra):
    """Stop the request with the API's error shape."""
    smorest_abort(status, message=message, fields=fields or {}, code=code or CODES.get(status), **extra)
