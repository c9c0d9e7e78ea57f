"""Supervision (调度): rounds of structured progress reports, the investment plan they are
measured against, coordination problems owned by departments, and the meetings that decide
them."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    JSON, Boolean, CheckConstraint, Column, Date, ForeignKey, Index, Integer, String, Table, Text,
    UniqueConstraint, true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import UTCDateTime, utcnow
from crm.extensions import db


class Cadence(enum.StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    AD_HOC = "ad_hoc"


class RoundStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ReportStatus(enum.StrEnum):
    MISSING = "missing"  # not filled yet
    FILLED = "filled"


class ProblemLevel(enum.StrEnum):
    """Who coordinates the problem, in escalation order."""

    PARK = "park"
    DISTRICT = "district"
    CITY = "city"


class ProblemStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Round(db.Model):
    """A supervision round: the projects chosen by its filters each owe one report by ``due_on``.
    ``park_id`` is the park that runs it, or None for a round of the city bureau."""

    __tablename__ = "supervision_rounds"
    __table_args__ = (
        CheckConstraint("cadence IN ('weekly', 'monthly', 'ad_hoc')", name="cadence_known"),
        CheckConstraint("status IN ('open', 'closed')", name="status_known"),
        CheckConstraint("period_start <= period_end", name="period_ordered"),
        Index("ix_supervision_rounds_park_opened", "park_id", "opened_on"),
        Index("ix_supervision_rounds_status_due", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    cadence: Mapped[str] = mapped_column(String(10))
    park_id: Mapped[int | None] = mapped_column(ForeignKey("parks.id"))
    # What the projects were chosen by (stages, statuses, industries, parks), for display.
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    opened_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default=RoundStatus.OPEN.value)
    project_count: Mapped[int] = mapped_column(Integer, default=0)
    # False while a worker writes the reports of a large round (ROUND_OPEN_INLINE_MAX): the
    # round is open but nobody owes anything yet.
    reports_ready: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # The round of the same scope before this one: the report compares with it.
    previous_id: Mapped[int | None] = mapped_column(
        ForeignKey("supervision_rounds.id", ondelete="SET NULL"))
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # When the reporters were reminded (the working day before the due date) and told they
    # are late (the working day after): each once.
    reminded_on: Mapped[dt.date | None] = mapped_column(Date)
    late_notice_on: Mapped[dt.date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)

    park: Mapped["Park | None"] = relationship()  # noqa: F821

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_open(self) -> bool:
        return self.status == RoundStatus.OPEN

    @property
    def preparing(self) -> bool:
        """Open, its reports still being written by a worker."""
        return self.is_open and not self.reports_ready


class RoundReport(db.Model):
    """One project's report in one round: a row per project from the round's opening
    (``missing`` until its lead agent fills it)."""

    __tablename__ = "round_reports"
    __table_args__ = (
        UniqueConstraint("round_id", "project_id", name="uq_round_reports_round_project"),
        CheckConstraint("status IN ('missing', 'filled')", name="status_known"),
        CheckConstraint("investment_completed IS NULL OR investment_completed >= 0",
                        name="investment_not_negative"),
        Index("ix_round_reports_round_park", "round_id", "park_id", "status"),
        Index("ix_round_reports_project", "project_id", "status"),
        Index("ix_round_reports_reporter", "reporter_staff_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("supervision_rounds.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"))
    # Who owes it: the project's lead agent when the round opened.
    reporter_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    stage_at_open: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default=ReportStatus.MISSING.value)
    progress: Mapped[str | None] = mapped_column(Text)
    next_steps: Mapped[str | None] = mapped_column(Text)
    # 万元 completed in this round's period.
    investment_completed: Mapped[int | None] = mapped_column(Integer)
    stage_reached: Mapped[str | None] = mapped_column(String(20))
    submitted_on: Mapped[dt.date | None] = mapped_column(Date)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    round: Mapped[Round] = relationship()
    project: Mapped["Project"] = relationship()  # noqa: F821
    reporter: Mapped["Staff | None"] = relationship()  # noqa: F821
    enterprise_part: Mapped["EnterprisePart | None"] = relationship(
        back_populates="report", uselist=False, passive_deletes=True)

    __mapper_args__ = {"version_id_col": version}


class EnterprisePart(db.Model):
    """The enterprise's part of its project's report, filled on its progress page
    (/e/<token>) while the round is open: what it says it did and invested, and what it needs
    coordinated.  The agent's report stays the round's record; this informs it.  A row of its
    own so that neither side's save conflicts with the other's."""

    __tablename__ = "enterprise_round_parts"
    __table_args__ = (
        CheckConstraint("investment_completed IS NULL OR investment_completed >= 0",
                        name="investment_not_negative"),
    )

    report_id: Mapped[int] = mapped_column(
        ForeignKey("round_reports.id", ondelete="CASCADE"), primary_key=True)
    progress: Mapped[str] = mapped_column(Text)
    # 万元 the enterprise says it invested in the round's period.
    investment_completed: Mapped[int | None] = mapped_column(Integer)
    needs: Mapped[str | None] = mapped_column(Text)
    contact_name: Mapped[str] = mapped_column(String(50))
    contact_phone: Mapped[str | None] = mapped_column(String(30))
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    report: Mapped[RoundReport] = relationship(back_populates="enterprise_part")

    @property
    def project_id(self) -> int:
        """The project whose history shows this part's changes."""
        return self.report.project_id

    __mapper_args__ = {"version_id_col": version}


class InvestmentPlan(db.Model):
    """What a project plans to invest in a calendar year (万元, 年度计划投资)."""

    __tablename__ = "investment_plans"
    __table_args__ = (
        UniqueConstraint("project_id", "year", name="uq_investment_plans_project_year"),
        CheckConstraint("planned >= 0", name="planned_not_negative"),
        Index("ix_investment_plans_year", "year", "project_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    planned: Mapped[int] = mapped_column(Integer)


class Department(db.Model):
    """A department problems can be taken to, beside those of the approval catalogue."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __str__(self) -> str:
        return self.name


meeting_problems = Table(
    "meeting_problems",
    db.metadata,
    Column("meeting_id", ForeignKey("coordination_meetings.id", ondelete="CASCADE"),
           primary_key=True),
    Column("problem_id", ForeignKey("problems.id", ondelete="CASCADE"), primary_key=True,
           index=True),
)


class Problem(db.Model):
    """A problem taken to a department for coordination (问题处理), raised from a blocker."""

    __tablename__ = "problems"
    __table_args__ = (
        CheckConstraint("level IN ('park', 'district', 'city')", name="level_known"),
        CheckConstraint("status IN ('open', 'resolved')", name="status_known"),
        Index("ix_problems_status_department", "status", "department"),
        Index("ix_problems_park_status", "park_id", "status"),
        Index("ix_problems_project", "project_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"))
    blocker_id: Mapped[int | None] = mapped_column(
        ForeignKey("progress_logs.id", ondelete="SET NULL"), unique=True)
    round_id: Mapped[int | None] = mapped_column(
        ForeignKey("supervision_rounds.id", ondelete="SET NULL"))
    summary: Mapped[str] = mapped_column(Text)
    department: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(10), default=ProblemLevel.PARK.value)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    raised_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default=ProblemStatus.OPEN.value)
    raised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    escalated_on: Mapped[dt.date | None] = mapped_column(Date)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolution: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)

    project: Mapped["Project"] = relationship()  # noqa: F821
    owner: Mapped["User | None"] = relationship(foreign_keys=[owner_id])  # noqa: F821
    blocker: Mapped["ProgressLog | None"] = relationship()  # noqa: F821
    meetings: Mapped[list["Meeting"]] = relationship(
        secondary=meeting_problems, back_populates="problems", order_by="Meeting.held_on")

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_open(self) -> bool:
        return self.status == ProblemStatus.OPEN


class Meeting(db.Model):
    """A coordination meeting (协调会): who attended, what was decided, which problems it took."""

    __tablename__ = "coordination_meetings"
    __table_args__ = (Index("ix_coordination_meetings_park_held", "park_id", "held_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int | None] = mapped_column(ForeignKey("parks.id"))
    held_on: Mapped[dt.date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    attendees: Mapped[str] = mapped_column(Text)
    decisions: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    park: Mapped["Park | None"] = relationship()  # noqa: F821
    problems: Mapped[list[Problem]] = relationship(
        secondary=meeting_problems, back_populates="meetings", order_by=Problem.id)
