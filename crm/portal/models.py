"""The enterprise's link to its project's progress page (/e/<token>), and the page's views.

The token is never stored: it is derived from the server's secret key and the link's random
salt (``token``), and only its SHA-256 is kept to find the link.  A copy of the database alone
opens no page; rotating the link (a new row, the old one revoked) kills the old address."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac

from sqlalchemy import Date, ForeignKey, Index, String, text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import UTCDateTime, utcnow
from crm.extensions import db

TOKEN_BYTES = 24  # 192 bits


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class EnterpriseLink(db.Model):
    __tablename__ = "enterprise_links"
    __table_args__ = (
        # One active link per project.
        Index("uq_enterprise_links_active", "project_id", unique=True,
              sqlite_where=text("revoked_at IS NULL"), postgresql_where=text("revoked_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    salt: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_on: Mapped[dt.date | None] = mapped_column(Date)  # last day it opens
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    project: Mapped["Project"] = relationship()  # noqa: F821

    def token(self, secret: str) -> str:
        digest = hmac.new(secret.encode(), f"enterprise-link:{self.salt}".encode(),
                          hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:TOKEN_BYTES]).decode().rstrip("=")

    def matches(self, token: str, secret: str) -> bool:
        """The token is this link's under the current key (constant time)."""
        return hmac.compare_digest(self.token(secret), token)

    def valid_under(self, secret: str) -> bool:
        """Its stored hash is still that of the token the current key derives."""
        return hmac.compare_digest(self.token_hash, token_hash(self.token(secret)))

    @hybrid_property
    def active(self) -> bool:
        return self.revoked_at is None

    @active.expression
    def active(cls):
        return cls.revoked_at.is_(None)

    def opens_on(self, day: dt.date) -> bool:
        return self.revoked_at is None and (self.expires_on is None or day <= self.expires_on)


class EnterpriseView(db.Model):
    """One opening of a progress page: when, not who (no address, no agent)."""

    __tablename__ = "enterprise_views"
    __audited__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("enterprise_links.id", ondelete="CASCADE"),
                                         index=True)
    viewed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrderConfirmation(db.Model):
    """The enterprise's confirmation of one version of its service order (through its link):
    who confirmed, in what capacity, and that the plan and the promises were understood.  A
    new version asks again."""

    __tablename__ = "order_confirmations"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"),
                                            index=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("generated_documents.id", ondelete="CASCADE"), unique=True)
    doc_version: Mapped[int] = mapped_column()
    link_id: Mapped[int | None] = mapped_column(
        ForeignKey("enterprise_links.id", ondelete="SET NULL"))
    signer_name: Mapped[str] = mapped_column(String(50))
    signer_title: Mapped[str] = mapped_column(String(50))
    signer_phone: Mapped[str] = mapped_column(String(20))
    confirmed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
