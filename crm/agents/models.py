"""Service staff (chief consultants and agents), the parks they serve, and assignments."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    Boolean, CheckConstraint, Column, Date, ForeignKey, Index, String, Table, Text, false, text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import UTCDateTime, utcnow
from crm.extensions import db


class StaffKind(enum.StrEnum):
    CONSULTANT = "consultant"  # 首席审批服务咨询师
    AGENT = "agent"  # 项目代办员


class AssignmentRole(enum.StrEnum):
    CONSULTANT = "consultant"  # the project's chief consultant (exactly one active)
    LEAD_AGENT = "lead_agent"  # the project's lead agent (exactly one active)
    HELPER = "helper"  # additional agents, any number


staff_parks = Table(
    "staff_parks",
    db.metadata,
    Column("staff_id", ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True),
    Column("park_id", ForeignKey("parks.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Staff(db.Model):
    __tablename__ = "staff"
    __table_args__ = (
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("kind IN ('consultant', 'agent')", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(20), index=True)
    phone: Mapped[str | None] = mapped_column(String(30))
    title: Mapped[str | None] = mapped_column(String(50))  # job title / department
    # Maximum number of active projects this person serves at once.
    capacity: Mapped[int] = mapped_column(default=8)
    # On leave up to and including this date.
    on_leave_until: Mapped[dt.date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Released by an admin: a park manager may add this person to their park's roster
    # (otherwise only people who serve no park yet).  Cleared when a park takes them.
    released: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # When this person last received an assignment (tie-break of the assignment rule).
    last_assigned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    parks: Mapped[list["Park"]] = relationship(secondary=staff_parks, order_by="Park.id")  # noqa: F821

    def __str__(self) -> str:
        return self.name

    def on_leave(self, today: dt.date) -> bool:
        return self.on_leave_until is not None and today <= self.on_leave_until


class Assignment(db.Model):
    """One person serving one project in one role for a period; ended rows are the history."""

    __tablename__ = "assignments"
    __table_args__ = (
        CheckConstraint("role IN ('consultant', 'lead_agent', 'helper')", name="role_known"),
        # One active chief consultant and one active lead agent per project.
        Index(
            "uq_assignments_active_principal",
            "project_id",
            "role",
            unique=True,
            sqlite_where=text("ended_at IS NULL AND role IN ('consultant', 'lead_agent')"),
            postgresql_where=text("ended_at IS NULL AND role IN ('consultant', 'lead_agent')"),
        ),
        Index("ix_assignments_staff_active", "staff_id", "ended_at"),
        # A person's current projects (loads, workload): a small partial index the planner
        # picks for a roster of a few hundred people, where the one above lost to a scan.
        Index("ix_assignments_staff_open", "staff_id", "project_id",
              sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    role: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Who made the change (None: the system, e.g. demo data or a job without a user).
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(Text)
    handover_note: Mapped[str | None] = mapped_column(Text)
    # Assigned past the person's capacity by a manager (reason required).
    forced: Mapped[bool] = mapped_column(Boolean, default=False)
    # The person was chosen by the assignment rule (agents/assignment.py), not by hand.
    automatic: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    end_reason: Mapped[str | None] = mapped_column(Text)

    staff: Mapped[Staff] = relationship()
    project: Mapped["Project"] = relationship(back_populates="assignments")  # noqa: F821
    assigned_by: Mapped["User | None"] = relationship(foreign_keys=[assigned_by_id])  # noqa: F821
    ended_by: Mapped["User | None"] = relationship(foreign_keys=[ended_by_id])  # noqa: F821

    @property
    def is_active(self) -> bool:
        return self.ended_at is None

