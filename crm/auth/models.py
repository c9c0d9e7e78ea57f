"""Users, roles, the parks a park manager runs, and personal API tokens."""

from __future__ import annotations

import datetime as dt
import enum
import secrets

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Index, String, Table, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import UTCDateTime, utcnow
from crm.extensions import db


class Role(enum.StrEnum):
    ADMIN = "admin"
    LEADER = "leader"  # city bureau: everything, read-only, downloads
    PARK_MANAGER = "park_manager"  # their parks
    CONSULTANT = "consultant"  # projects they are assigned to
    AGENT = "agent"  # projects they are assigned to


user_parks = Table(
    "user_parks",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("park_id", ForeignKey("parks.id", ondelete="CASCADE"), primary_key=True, index=True),
)


def new_session_token() -> str:
    return secrets.token_urlsafe(16)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('admin', 'leader', 'park_manager', 'consultant', 'agent')", name="role_known"
        ),
        # Login is case-insensitive, so the names are unique case-insensitively too.
        Index("uq_users_username_lower", text("lower(username)"), unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    display_name: Mapped[str] = mapped_column(String(50))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    # Consultants and agents are linked to their staff record.
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), unique=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of every login session's identity: rotating it ends all sessions of the user
    # (password change, deactivation).  Logging out ends one session (LoginSession).
    session_token: Mapped[str] = mapped_column(String(40), default=new_session_token)
    locale: Mapped[str | None] = mapped_column(String(10))
    # Where email alerts go (crm/notifications); none: in-app only.
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The deadline calendar feed (/calendar/<token>.ics): the token is derived from the secret
    # key and this salt (crm/security.py ``derived_token``); only its hash is kept to find it.
    calendar_salt: Mapped[str | None] = mapped_column(String(32))
    calendar_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)

    staff: Mapped["Staff | None"] = relationship()  # noqa: F821
    parks: Mapped[list["Park"]] = relationship(secondary=user_parks, order_by="Park.id")  # noqa: F821

    def __str__(self) -> str:
        return f"{self.display_name} ({self.username})"

    # The login session this user object was loaded for (set at login and by the loader).
    login_secret = None  # not a column

    # Flask-Login: the cookie stores "id:token:session secret"; a rotated token or an ended
    # login session invalidates it.
    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}:{self.login_secret or ''}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return bool(self.active)

    def has_role(self, *roles: str) -> bool:
        return self.role in roles


class ApiToken(db.Model):
    """A personal API token: stored as a SHA-256 hash, shown to its owner once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # SHA-256 of the token (the token has 256 random bits, so a fast hash is enough).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token, to recognise it in lists ("dbn_Ab3x...").
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class LoginSession(db.Model):
    """One login (one browser): ended by logging out, or with all the others when the user's
    session token rotates.  Only the SHA-256 of the secret in the cookie is stored."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __audited__ = False
