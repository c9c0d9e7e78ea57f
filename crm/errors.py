"""The one error type of the domain, and its two renderings.

Every rule a service enforces raises ``DomainError`` (or a subclass) *before* it changes
anything, with a message per form field; the caller's transaction (crm/transaction.py) rolls
back.  Views put the messages next to the fields (``apply_to_form``); the JSON API answers
``{"error": {"code", "message", "fields"}}`` with the error's status (crm/api/errors.py).

- ``DomainError``  422: the input breaks a rule (a date in the future, a code taken...);
- ``InvalidState`` 409: the record is not in a state that allows this (complete a paused
  milestone, resolve a resolved blocker);
- ``Conflict``     409: someone else changed the record meanwhile (stale version, a concurrent
  insert of the same thing); reload and try again;
- ``Forbidden``    403: the rule is about who may do it (edit someone else's log entry);
- ``NotFound``     404: an id given in a form or body names nothing the user may see.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import jsonify

FORM = None  # the key of messages that belong to the whole form, not to one field

CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
    422: "validation_error", 429: "rate_limited", 500: "server_error",
}


class DomainError(Exception):
    """A refused change.  ``errors`` maps a field name (or None: the whole form) to its
    messages (lazy translations are fine: they render in the reader's language)."""

    status = 422
    code = "validation_error"

    def __init__(self, message=None, field: str | None = None, *,
                 errors: Mapping[str | None, object] | None = None, **extra):
        self.errors: dict[str | None, list] = {}
        if message is not None:
            self.errors[field] = [message]
        for name, value in (errors or {}).items():
            values = value if isinstance(value, (list, tuple)) else [value]
            self.errors.setdefault(name, []).extend(values)
        # Data for the API's error body (e.g. current_version of a stale record).
        self.extra = extra
        super().__init__("; ".join(str(m) for m in self.messages))

    @property
    def messages(self) -> list:
        return [m for msgs in self.errors.values() for m in msgs]

    @property
    def message(self):
        """The first message (the one a single-message error carries)."""
        return self.messages[0] if self.messages else ""

    def text(self, field: str | None) -> str:
        """The messages of one field (or of the whole form), as one text."""
        return " ".join(str(m) for m in self.errors.get(field, ()))

    @property
    def field(self) -> str | None:
        """The field of the first message (None: the whole form)."""
        return next(iter(self.errors), None)

    def __str__(self) -> str:
        return "; ".join(str(m) for m in self.messages)


class InvalidState(DomainError):
    status = 409
    code = "conflict"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    """A record named in the input (not in the URL) that does not exist or is outside the
    user's scope: answered alike, with the message next to the field."""

    status = 404
    code = "not_found"


def apply_to_form(form, error: DomainError, field_names: Mapping[str, str] | None = None) -> list:
    """Put each message next to its field; returns the messages that belong to the whole form
    (no field, or a field the form does not have).  ``field_names`` maps the error's names to
    the form's where they differ."""
    rest = []
    for name, messages in error.errors.items():
        name = (field_names or {}).get(name, name)
        target = form._fields.get(name) if name else None
        if target is None:
            rest.extend(messages)
        else:
            target.errors = [*target.errors, *messages]
    return rest


# -- the JSON error shape (the API, and any /api path the app answers) ---------------------

def error_body(status: int, message: str, fields: dict | None = None, code: str | None = None,
               extra: dict | None = None) -> dict:
    body = {"code": code or CODES.get(status, "error"), "message": message, "fields": fields or {}}
    body.update(extra or {})
    return {"error": body}


def error_response(status: int, message: str, fields: dict | None = None,
                   code: str | None = None, extra: dict | None = None):
    response = jsonify(error_body(status, message, fields, code, extra))
    response.status_code = status
    return response


def domain_error_response(error: DomainError, field_names: Mapping[str, str] | None = None):
    """The API's answer to a refused change: its status, the first message, every field."""
    names = field_names or {}
    fields = {names.get(name, name) if name else "_schema": [str(m) for m in messages]
              for name, messages in error.errors.items()}
    return error_response(error.status, str(error.message) or "The change was refused.",
                          fields, error.code if error.status != 422 else None, error.extra)


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
