"""User operations: authenticate, create, change password, enable/disable.

Services flush but never commit: the request or command that called them commits once.
"""

from __future__ import annotations

from sqlalchemy import func, select

from crm.auth.models import Role, User, new_session_token
from crm.db import utcnow
from crm.extensions import db
from crm.security import burn_time, hash_password, verify_password

MIN_PASSWORD_LENGTH = 10


class PasswordPolicyError(ValueError):
    pass


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


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordPolicyError(f"at least {MIN_PASSWORD_LENGTH} characters")


def set_password(user: User, password: str) -> None:
    """Set a new password and end every existing session of the user."""
    check_password_policy(password)
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
        raise ValueError(f"unknown role {role!r}")
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
