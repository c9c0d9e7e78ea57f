"""The enterprise's link to its project's progress page (/e/<token>), and the page's views.

The token is never stored: it is derived from the server's secret key and the link's random
salt (``token``), and only its SHA-256 is kept to find the link.  A copy of the database alone
opens no page; rotating the link (a new row, the old one revoked) kills the old address."""

from __future__ import annotations

import datetime as dt
import hmac

from sqlalchemy import (
    CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import UTCDateTime, utcnow
from crm.extensions import db
from crm.security import derived_token, token_hash


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
        return derived_token(secret, "enterprise-link", self.salt)

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


# The city's five dimensions of satisfaction (the third-party callback asks the same):
# 政务公开, 办件规范, 办事便利, 文明服务, 纪律执行.
DIMENSIONS = ("openness", "standards", "convenience", "courtesy", "discipline")
SATISFIED = 4  # a score of 4 or 5 counts as satisfied
_scores_check = " AND ".join(f"{d} BETWEEN 1 AND 5" for d in DIMENSIONS)


class Rating(db.Model):
    """The enterprise's rating of a finished milestone, or of the whole service once the
    project is through its approvals (``milestone_id`` None): 1-5 on each dimension and a
    comment.  One per target (whatever link it came through), changeable for a while
    (services.ratings)."""

    __tablename__ = "ratings"
    __table_args__ = (
        CheckConstraint(_scores_check, name="scores_1_to_5"),
        CheckConstraint("source IN ('online', 'callback')", name="source_known"),
        # The enterprise's own rating: one per approval, one of the whole service, whatever
        # link it came through (callbacks are the surveyor's, one per sampled item).
        Index("uq_ratings_online_milestone", "project_id", "milestone_id", unique=True,
              sqlite_where=text("source = 'online' AND milestone_id IS NOT NULL"),
              postgresql_where=text("source = 'online' AND milestone_id IS NOT NULL")),
        Index("uq_ratings_online_service", "project_id", unique=True,
              sqlite_where=text("source = 'online' AND milestone_id IS NULL"),
              postgresql_where=text("source = 'online' AND milestone_id IS NULL")),
        Index("ix_ratings_park_submitted", "park_id", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"),
                                            index=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"))
    link_id: Mapped[int | None] = mapped_column(
        ForeignKey("enterprise_links.id", ondelete="SET NULL"))
    milestone_id: Mapped[int | None] = mapped_column(
        ForeignKey("milestones.id", ondelete="CASCADE"), index=True)
    # Who served: the milestone's owner, else the project's lead agent, when it was rated.
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"),
                                                 index=True)
    source: Mapped[str] = mapped_column(String(10), default="online")
    openness: Mapped[int] = mapped_column(Integer)
    standards: Mapped[int] = mapped_column(Integer)
    convenience: Mapped[int] = mapped_column(Integer)
    courtesy: Mapped[int] = mapped_column(Integer)
    discipline: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    milestone: Mapped["Milestone | None"] = relationship()  # noqa: F821
    staff: Mapped["Staff | None"] = relationship()  # noqa: F821

    def scores(self) -> dict[str, int]:
        return {d: getattr(self, d) for d in DIMENSIONS}

    @property
    def lowest(self) -> int:
        return min(self.scores().values())


STEP_STATUSES = ("open", "classified")  # a case waiting on the staff's next step


class SatisfactionCase(db.Model):
    """A bad review (差评) to rectify: a rating of 2 or less in a dimension, or a complaint
    from the enterprise's page.  The park manager classifies it (simple: the assignee
    rectifies within 3 working days; complex: an acceptance panel 验收团 records its findings
    and acceptance); it closes when the enterprise re-rates satisfied or confirms by phone."""

    __tablename__ = "satisfaction_cases"
    __table_args__ = (
        CheckConstraint("kind IN ('low_rating', 'complaint')", name="kind_known"),
        CheckConstraint("status IN ('open', 'classified', 'rectified', 'closed')",
                        name="status_known"),
        CheckConstraint("classification IS NULL OR classification IN ('simple', 'complex')",
                        name="classification_known"),
        Index("ix_satisfaction_cases_park_status_due", "park_id", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"),
                                            index=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"))
    rating_id: Mapped[int | None] = mapped_column(ForeignKey("ratings.id", ondelete="SET NULL"),
                                                  index=True)
    kind: Mapped[str] = mapped_column(String(12))
    text: Mapped[str | None] = mapped_column(Text)  # the complaint, or the rating's comment
    contact_name: Mapped[str | None] = mapped_column(String(50))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    assignee_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(12), default="open")
    classification: Mapped[str | None] = mapped_column(String(10))
    due_on: Mapped[dt.date] = mapped_column(Date)
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    classified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    rectification: Mapped[str | None] = mapped_column(Text)
    rectified_on: Mapped[dt.date | None] = mapped_column(Date)
    panel_members: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_how: Mapped[str | None] = mapped_column(String(12))  # re_rated, phone
    close_note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    project: Mapped["Project"] = relationship()  # noqa: F821
    rating: Mapped[Rating | None] = relationship()

    def late_on(self, today: dt.date) -> bool:
        """Past its due day with its step not done (``queries.case_late_condition`` in SQL)."""
        return self.status in STEP_STATUSES and self.due_on < today

    assignee: Mapped["Staff | None"] = relationship()  # noqa: F821


class CallbackItem(db.Model):
    """A milestone finished in ``month`` drawn for the third-party callback (回访); its result,
    once entered, is a rating with the source "callback"."""

    __tablename__ = "callback_items"
    __table_args__ = (
        UniqueConstraint("month", "milestone_id", name="uq_callback_items_month_milestone"),
        Index("ix_callback_items_month_park", "month", "park_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM, the month the milestones finished
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestones.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"),
                                            index=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"))
    rating_id: Mapped[int | None] = mapped_column(ForeignKey("ratings.id", ondelete="SET NULL"))
    drawn_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    milestone: Mapped["Milestone"] = relationship()  # noqa: F821
    project: Mapped["Project"] = relationship()  # noqa: F821
    rating: Mapped[Rating | None] = relationship()
