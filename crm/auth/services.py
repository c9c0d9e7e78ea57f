"""User and API-token operations: authenticate, create, change password, enable/disable;
create, find and revoke personal API tokens.

Services flush but never commit: the request or command that called them commits once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from zxcvbn import zxcvbn

from crm.auth.models import ApiToken, LoginSession, Role, User, new_session_token
from crm.db import utcnow
from crm.errors import DomainError
from crm.extensions import db
from crm.security import burn_time, derived_token, hash_password, token_hash, verify_password

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


def check_password_policy(password: str, field: str = "password", user: User | None = None,
                          *, names: tuple[str, ...] = ()) -> None:
    """NIST SP 800-63B: at least MIN_PASSWORD_LENGTH characters, not a common or easily
    guessed password (zxcvbn's lists of common passwords, words and names, keyboard patterns,
    repeats) and not built on the user's own name; no composition rules."""
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(_l("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH), field)
    own = [n for n in (*names, *((user.username, user.display_name) if user else ())) if n]
    result = zxcvbn(password[:100], user_inputs=own)
    if any(m.get("dictionary_name") == "user_inputs" for m in result["sequence"]) \
            and result["score"] < 3:
        raise DomainError(_l("Do not build the password on your name or username."), field)
    if result["score"] < 2:
        raise DomainError(_l("This password is too common or too easy to guess; use a longer "
                             "phrase of unrelated words."), field)


def set_password(user: User, password: str, field: str = "password") -> int:
    """Set a new password, end every existing session of the user and revoke their API
    tokens (whoever knew the old password may have made one).  Returns the tokens revoked."""
    check_password_policy(password, field, user)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.session_token = new_session_token()
    revoked = db.session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    db.session.flush()
    return revoked


def is_last_admin(user_id: int) -> bool:
    """Whether this user is the only enabled administrator (as stored, before any change)."""
    with db.session.no_autoflush:  # the stored state, not a change being made
        admins = db.session.scalars(
            select(User.id).where(User.role == Role.ADMIN.value, User.active.is_(True))).all()
    return list(admins) == [user_id]


def set_active(user: User, active: bool) -> None:
    user.active = active
    if not active:
        user.session_token = new_session_token()
    db.session.flush()


def record_login(user: User) -> str:
    """A successful login: noted on the user, and a new login session (``start_session``)."""
    user.last_login_at = utcnow()
    return start_session(user)


def start_session(user: User) -> str:
    """A new login session for ``user``; returns its secret (kept only in the cookie)."""
    secret = secrets.token_urlsafe(32)
    db.session.add(LoginSession(user_id=user.id, secret_hash=_digest(secret)))
    db.session.flush()
    user.login_secret = secret
    return secret


def end_login(user_id: int, secret: str | None) -> None:
    """End one login session (logout): its cookie no longer signs anyone in."""
    if secret:
        db.session.execute(
            update(LoginSession).where(LoginSession.user_id == user_id,
                                       LoginSession.secret_hash == _digest(secret),
                                       LoginSession.ended_at.is_(None))
            .values(ended_at=utcnow()).execution_options(synchronize_session=False))


def session_user(user_id: int, token: str, secret: str) -> User | None:
    """The active user of an open login session (one query); None otherwise."""
    user = db.session.scalar(
        select(User).join(LoginSession, LoginSession.user_id == User.id)
        .where(User.id == user_id, User.session_token == token, User.active.is_(True),
               LoginSession.secret_hash == _digest(secret), LoginSession.ended_at.is_(None)))
    if user is not None:
        user.login_secret = secret
    return user


def create_user(username: str, display_name: str, role: str, password: str, *,
                staff=None, parks=(), locale: str | None = None) -> User:
    if role not in {r.value for r in Role}:
        raise DomainError(_l("Choose a role from the list."), "role")
    check_password_policy(password, names=(username, display_name))
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


# -- the deadline calendar feed ------------------------------------------------------------------

CALENDAR_PURPOSE = "calendar-feed"


def calendar_token(user: User, secret: str) -> str | None:
    """The token of the user's calendar feed, or None before the first one is made."""
    return derived_token(secret, CALENDAR_PURPOSE, user.calendar_salt) if user.calendar_salt else None


def rotate_calendar_feed(user: User, secret: str) -> str:
    """A new secret address for the user's calendar feed; the old one stops working."""
    user.calendar_salt = secrets.token_hex(16)
    token = calendar_token(user, secret)
    user.calendar_token_hash = token_hash(token)
    db.session.flush()
    return token


def calendar_feed_user(token: str, secret: str) -> User | None:
    """The active user whose feed ``token`` opens under the current key (constant-time
    comparison), else None."""
    if not token or len(token) > 64:
        return None
    user = db.session.scalar(select(User).where(User.calendar_token_hash == token_hash(token)))
    if user is None or not user.active:
        return None
    if not hmac.compare_digest(calendar_token(user, secret) or "", token):
        return None  # the secret key changed since: the address is dead
    return user
