"""User and API-token operations: authenticate, create, change password, enable/disable;
create, find and revoke personal API tokens.

Services flush but never commit: the request or command that called them commits once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from crm.auth.models import ApiToken, Role, User, new_session_token
from crm.db import utcnow
from crm.errors import DomainError
from crm.extensions import db
from crm.security import burn_time, hash_password, verify_password

MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "dbn_"
# Refresh last_used_at at most this often, so reads do not write on every request.
_TOUCH_EVERY = dt.timedelta(minutes=5)


# -- users -------------------------------------------------------------------------------------

def find_by_username(username: str) -> User | None:
    username = (username or "").strip()
    if not username:
        return None
    return db.session.scalar(select(User).where(func.lower(User.username) == username.lower()))


def authenticate(username: str, password: str) -> User | None:
    """The user when the name and password match an active account; None otherwise.

    Wrong password, unknown user and disabled user are indistinguishable to the caller's
    caller (same answer, similar time).
    """
    user = find_by_username(username)
    if user is None:
        burn_time(password)
        return None
    if not verify_password(user.password_hash, password) or not user.active:
        return None
    return user


def check_password_policy(password: str, field: str = "password") -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise DomainError(_l("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH), field)


def set_password(user: User, password: str, field: str = "password") -> None:
    """Set a new password and end every existing session of the user."""
    check_password_policy(password, field)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.session_token = new_session_token()
    db.session.flush()


def set_active(user: User, active: bool) -> None:
    user.active = active
    if not active:
        user.session_token = new_session_token()
    db.session.flush()


def record_login(user: User) -> None:
    user.last_login_at = utcnow()


def create_user(username: str, display_name: str, role: str, password: str, *,
                staff=None, parks=(), locale: str | None = None) -> User:
    if role not in {r.value for r in Role}:
        raise DomainError(_l("Choose a role from the list."), "role")
    check_password_policy(password)
    user = User(
        username=username.strip(),
        display_name=display_name,
        role=role,
        password_hash=hash_password(password),
        staff=staff,
        locale=locale,
    )
    user.parks = list(parks)
    db.session.add(user)
    db.session.flush()
    return user


# -- API tokens --------------------------------------------------------------------------------

def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns the row and the secret (shown once, never stored)."""
    name = (name or "").strip()
    if not name:
        raise DomainError(_l("Say what the token is for."), "name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name[:100], token_hash=_digest(secret),
                     prefix=secret[:12])
    db.session.add(token)
    db.session.flush()
    return token, secret


def find_active_token(secret: str) -> ApiToken | None:
    """The active token whose secret this is, with its active user; None otherwise.
    Notes when it was last used (at most every few minutes)."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(secret)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > _TOUCH_EVERY:
        token.last_used_at = now
    return token


def revoke_token(token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    db.session.flush()


def tokens_of(user: User) -> list[ApiToken]:
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc())))
