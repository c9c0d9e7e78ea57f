"""Notifications and their delivery: the in-app messages (assignments, deadlines coming due),
the outbox of messages for other channels (email, a park's WeCom group), the users' choices of
what reaches them where, the parks' group robots, and the escalation steps already taken."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import UTCDateTime, utcnow
from crm.extensions import db


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at", "created_at"),)
    # Messages the system writes about changes that are audited themselves: no audit rows.
    __audited__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # What happened, e.g. "assigned", "milestone_due_soon"; rendered through translations.
    kind: Mapped[str] = mapped_column(String(40))
    # Values the message template needs (project name, milestone, due date...).
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    link: Mapped[str | None] = mapped_column(String(200))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"      # waiting for its time (quiet hours) or its first try
    SENDING = "sending"      # claimed by a worker; reclaimed when the claim is too old
    SENT = "sent"
    FAILED = "failed"        # the last try failed; tried again after a backoff
    DEAD = "dead"            # failed too often: an admin resends it from the delivery log
    DIGEST = "digest"        # waiting for the recipient's daily digest
    DIGESTED = "digested"    # went out inside a digest (``digest_id``)


class Delivery(db.Model):
    """The outbox: one message for one channel, written in the transaction of the change that
    caused it and sent by a worker.  ``key`` is the idempotency key the transport carries
    (the email's Message-ID, a header of the robot post): a retry after a crash reuses it."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_due", "status", "next_attempt_at"),
        Index("ix_deliveries_user_status", "user_id", "status"),
        Index("ix_deliveries_created", "created_at"),
    )
    __audited__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    # A person's channel (email) names the user; a group's (the park's WeCom robot) the park.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    park_id: Mapped[int | None] = mapped_column(ForeignKey("parks.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    link: Mapped[str | None] = mapped_column(String(200))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(12), default=DeliveryStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    digest_id: Mapped[int | None] = mapped_column(
        ForeignKey("deliveries.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class AlertPreference(db.Model):
    """A user's choice for one kind of alert on one channel (no row: the default)."""

    __tablename__ = "alert_preferences"
    __table_args__ = (UniqueConstraint("user_id", "kind", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20))
    mode: Mapped[str] = mapped_column(String(12))  # off | immediate | digest


class ParkRobot(db.Model):
    """A park's WeCom group robot: its secret key (the ``key`` of the webhook address, never
    shown back in full) and the kinds of alert posted to the group."""

    __tablename__ = "park_robots"

    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id", ondelete="CASCADE"),
                                         primary_key=True)
    robot_key: Mapped[str] = mapped_column(String(100))
    kinds: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Escalation(db.Model):
    """A step of the escalation ladder taken for a late milestone or a standing blocker: once
    per subject and step (the unique constraint makes a second sweep a no-op)."""

    __tablename__ = "escalations"
    __table_args__ = (UniqueConstraint("subject", "subject_id", "step"),
                      Index("ix_escalations_project", "project_id", "fired_at"))
    __audited__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(12))  # milestone | blocker
    subject_id: Mapped[int] = mapped_column(Integer)
    step: Mapped[int] = mapped_column(Integer)  # working days late / open
    audience: Mapped[str] = mapped_column(String(40))  # who was told (a ladder audience)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    fired_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
