"""Password hashing, security headers and safe redirects."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, abort, current_app, g, request

# argon2id with the library's defaults (RFC 9106 low-memory profile).
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Compared against when the user does not exist, so an unknown user costs the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(8))


def burn_time(password: str) -> None:
    verify_password(_DUMMY_HASH, password)


def is_safe_next(target: str | None) -> bool:
    """Only local paths: "/projects/3" yes; "//evil.example", "https://evil", "javascript:" no."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(c) < 32 for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def has_nul(request) -> bool:
    """Whether the query string, form fields or JSON body carry a NUL character.

    No field of ours can hold one (PostgreSQL text refuses it outright), so such a request is
    malformed: it is answered 400 before any view sees it, rather than failing in the database.
    """
    if any("\x00" in v for values in request.args.listvalues() for v in values):
        return True
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        if any("\x00" in (f.filename or "") for files in request.files.listvalues() for f in files):
            return True
        return any("\x00" in v for values in request.form.listvalues() for v in values)
    if request.is_json:
        body = request.get_data(cache=True)
        return b"\x00" in body or b"\\u0000" in body
    return False


MAX_JSON_DEPTH = 32
MAX_JSON_INT_DIGITS = 18


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_JSON_INT_DIGITS:
        raise ValueError("number too long")
    return int(text)


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("number out of range")
    return number


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number")


def json_problem(request) -> str | None:
    """What makes a JSON body unfit for any endpoint, checked before any view parses it:
    not JSON, nested deeper than MAX_JSON_DEPTH, a number too long for any field (Python
    refuses integers over 4,300 digits) or not finite (NaN, Infinity), or text with a lone
    surrogate (it can be neither stored nor sent back as UTF-8).  None when it is fine."""
    if not request.is_json:
        return None
    body = request.get_data(cache=True)
    if not body.strip():
        return None
    try:
        value = json.loads(body, parse_int=_bounded_int, parse_float=_finite_float,
                           parse_constant=_no_constant)
    except RecursionError:
        return "The JSON body is nested too deeply."
    except (ValueError, UnicodeDecodeError) as exc:
        return f"The body is not valid JSON: {str(exc)[:100]}"
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return "The JSON body is nested too deeply."
        if isinstance(item, dict):
            stack.extend((k, depth + 1) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "The JSON body has text that is not valid Unicode (a lone surrogate)."
    return None


SECRET_LINK_BYTES = 24  # 192 bits


def derived_token(secret: str, purpose: str, salt: str) -> str:
    """A secret link's token, derived from the server's secret key and the link's random salt
    (never stored: only ``token_hash`` of it is kept to find the link).  Rotating the salt
    kills the old address; so does changing the secret key."""
    digest = hmac.new(secret.encode(), f"{purpose}:{salt}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:SECRET_LINK_BYTES]).decode().rstrip("=")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def upload_limit() -> int | None:
    """The body limit of an endpoint that takes a large file (registered in
    ``app.extensions["upload_limits"]`` as endpoint -> config key, or -> a function that
    computes the limit), else None."""
    key = current_app.extensions.get("upload_limits", {}).get(request.endpoint)
    if callable(key):
        return key()
    return current_app.config[key] if key else None


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.before_request
    def _upload_limit():
        limit = upload_limit()
        if limit:
            request.max_content_length = limit

    @app.before_request
    def _refuse_nul_bytes():
        if has_nul(request):
            abort(400)

    @app.before_request
    def _refuse_unfit_json():
        limit = app.config["API_MAX_BODY_BYTES"]
        if request.content_length and request.content_length > limit:
            return None  # too large: the API answers 413 without reading it
        problem = json_problem(request)
        if problem is not None:
            abort(400, description=problem)

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        nonce = g.get("csp_nonce")
        script_src = "'self'" + (f" 'nonce-{nonce}'" if nonce else "")
        if request.path.startswith("/admin"):
            # Flask-Admin's templates use inline event handlers (delete confirmations), which
            # no nonce can allow.  The back office is for admins only.
            script_src = "'self' 'unsafe-inline'"
        headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; "
            f"script-src {script_src}; "
            # ECharts and Bootstrap set inline styles from script.
            "style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: blob:; "
            "font-src 'self' data:; "
            "connect-src 'self'; "
            "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'",
        )
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config["SESSION_COOKIE_SECURE"]:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if response.mimetype == "text/html" or request.path.startswith("/api/"):
            headers.setdefault("Cache-Control", "no-store")  # data of one user's scope
        return response
