"""API token services: create, find by bearer value, revoke.  Flush, never commit."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select

from crm.api.models import ApiToken
from crm.db import utcnow
from crm.extensions import db

TOKEN_PREFIX = "dbn_"
# Refresh last_used_at at most this often, so reads do not write on every request.
_TOUCH_EVERY = dt.timedelta(minutes=5)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns the row and the secret (shown once, never stored)."""
    name = (name or "").strip()
    if not name:
        raise ValueError("name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name[:100], token_hash=_digest(secret),
                     prefix=secret[:12])
    db.session.add(token)
    db.session.flush()
    return token, secret


def find_active(secret: str) -> ApiToken | None:
    """The active token whose secret this is, with its active user; None otherwise."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(secret)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > _TOUCH_EVERY:
        token.last_used_at = now
    return token


def revoke(token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    db.session.flush()


def tokens_of(user) -> list[ApiToken]:
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc())))
