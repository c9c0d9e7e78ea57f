"""The approval-item catalogue, milestones (one approval item for one project), clock pauses
and the calendar overrides that make the working-day calendar."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import UTCDateTime, utcnow
from crm.extensions import db


class LimitUnit(enum.StrEnum):
    WORKING = "working"  # working days (工作日)
    CALENDAR = "calendar"  # calendar days (自然日)


class Applicability(enum.StrEnum):
    """Which projects an approval item applies to."""

    ALWAYS = "always"
    FILING = "filing"  # projects filed (备案)
    VERIFICATION = "verification"  # projects on the verification list (核准)
    EIA_REPORT_BOOK = "eia_report_book"  # environmental impact report book (报告书)
    EIA_REPORT_FORM = "eia_report_form"  # environmental impact report form (报告表)


class MilestoneStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    DONE = "done"
    WAIVED = "waived"


class PauseReason(enum.StrEnum):
    SUPPLEMENT = "supplement"  # 补正材料
    HEARING = "hearing"  # 听证
    EXPERT_REVIEW = "expert_review"  # 专家评审
    TESTING = "testing"  # 检验检测
    ENTERPRISE = "enterprise"  # 企业原因
    OTHER = "other"  # 其他


_unit_check = "IN ('working', 'calendar')"


class ApprovalItem(db.Model):
    """A catalogue entry.  A row with a district overrides the city-wide row of the same code."""

    __tablename__ = "approval_items"
    __table_args__ = (
        UniqueConstraint("code", "district_id", name="uq_approval_items_code_district"),
        CheckConstraint("statutory_limit IS NULL OR statutory_limit > 0", name="statutory_positive"),
        CheckConstraint("committed_limit > 0", name="committed_positive"),
        CheckConstraint(f"statutory_unit {_unit_check}", name="statutory_unit_known"),
        CheckConstraint(f"committed_unit {_unit_check}", name="committed_unit_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    department: Mapped[str] = mapped_column(String(100))
    # The pipeline stage this approval belongs to (see projects.models.Stage).
    stage: Mapped[str] = mapped_column(String(20))
    statutory_limit: Mapped[int | None] = mapped_column(Integer)
    statutory_unit: Mapped[str] = mapped_column(String(10), default=LimitUnit.WORKING.value)
    committed_limit: Mapped[int] = mapped_column(Integer)
    committed_unit: Mapped[str] = mapped_column(String(10), default=LimitUnit.WORKING.value)
    applicability: Mapped[str] = mapped_column(String(20), default=Applicability.ALWAYS.value)
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    required_materials: Mapped[str | None] = mapped_column(Text)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The codes of the items that must be issued before this one can be accepted (并联审批:
    # items that need nothing of each other run in parallel), separated by spaces.
    requires: Mapped[str] = mapped_column(String(400), default="")
    # Working days a decision may be extended once with the authority head's approval
    # (行政许可法 Art. 42: 10).
    extension_allowance: Mapped[int] = mapped_column(Integer, default=10)

    district: Mapped["District | None"] = relationship()  # noqa: F821

    @property
    def requires_codes(self) -> list[str]:
        return self.requires.split() if self.requires else []

    def __str__(self) -> str:
        return self.name


class Milestone(db.Model):
    """One approval item for one project, with its deadline.

    ``status`` is the stored lifecycle (pending, running, paused, done, waived).  The SLA state
    shown to users (on_track, due_soon, overdue, met, missed, ...) derives from it, the dates
    and today (see milestones/sla.py).  ``due_on`` is stored so lists and dashboards filter and
    sort by it in SQL; it is recomputed whenever pauses or the calendar change.
    """

    __tablename__ = "milestones"
    __table_args__ = (
        CheckConstraint("limit_value > 0", name="limit_positive"),
        CheckConstraint(f"limit_unit {_unit_check}", name="limit_unit_known"),
        CheckConstraint(
            "status IN ('pending', 'running', 'paused', 'done', 'waived')", name="status_known"
        ),
        CheckConstraint("outcome IS NULL OR outcome IN ('met', 'missed')", name="outcome_known"),
        Index("ix_milestones_project_sequence", "project_id", "sequence"),
        Index("ix_milestones_park_status_due", "park_id", "status", "due_on"),
        Index("ix_milestones_status_due", "status", "due_on"),
        Index("ix_milestones_park_completed", "park_id", "completed_on"),
        # A project's running milestones by due date (overdue counts per person, per project).
        Index("ix_milestones_running_project", "project_id", "due_on",
              sqlite_where=text("status = 'running'"), postgresql_where=text("status = 'running'")),
        # The dashboards' bottlenecks: open milestones on their project's critical path.
        Index("ix_milestones_critical", "park_id", "name", "forecast_on",
              sqlite_where=text("critical"), postgresql_where=text("critical")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    # The project's park, kept on the row so park dashboards filter milestones by index.
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"))
    # None for a custom milestone added by staff.
    approval_item_id: Mapped[int | None] = mapped_column(ForeignKey("approval_items.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    department: Mapped[str | None] = mapped_column(String(100))
    stage: Mapped[str] = mapped_column(String(20))
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    # The committed limit that sets the due date.
    limit_value: Mapped[int] = mapped_column(Integer)
    limit_unit: Mapped[str] = mapped_column(String(10), default=LimitUnit.WORKING.value)
    # The statutory limit, for "time saved".
    statutory_value: Mapped[int | None] = mapped_column(Integer)
    statutory_unit: Mapped[str] = mapped_column(String(10), default=LimitUnit.WORKING.value)
    status: Mapped[str] = mapped_column(String(10), default=MilestoneStatus.PENDING.value)
    # For done milestones: "met" (on or before the due date) or "missed".
    outcome: Mapped[str | None] = mapped_column(String(10))
    accepted_on: Mapped[dt.date | None] = mapped_column(Date)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    # The due date depends on the Monday-Friday fallback (year's schedule not loaded yet).
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    # While paused: the working days left, frozen.
    remaining_workdays: Mapped[int | None] = mapped_column(Integer)
    completed_on: Mapped[dt.date | None] = mapped_column(Date)
    # Working days between acceptance and completion, paused days excluded.
    workdays_used: Mapped[int | None] = mapped_column(Integer)
    approval_doc_no: Mapped[str | None] = mapped_column(String(100))
    issuing_department: Mapped[str | None] = mapped_column(String(100))
    waive_reason: Mapped[str | None] = mapped_column(Text)
    # Started before everything it depends on was issued (容缺受理): why.
    parallel_reason: Mapped[str | None] = mapped_column(Text)
    # A statutory extension (once): the working days added, the approving document and day,
    # and the due date before it.
    extension_workdays: Mapped[int | None] = mapped_column(Integer)
    extension_doc_no: Mapped[str | None] = mapped_column(String(100))
    extension_approved_on: Mapped[dt.date | None] = mapped_column(Date)
    original_due_on: Mapped[dt.date | None] = mapped_column(Date)
    # The forecast (crm/milestones/graph.py), refreshed when the plan or the calendar changes
    # and every morning: expected issue date, working days of slack, on the critical path.
    forecast_on: Mapped[dt.date | None] = mapped_column(Date)
    slack_workdays: Mapped[int | None] = mapped_column(Integer)
    critical: Mapped[bool] = mapped_column(Boolean, default=False)
    # Handled jointly with other items of the plan (联合办理): the group's 45 + 15 cap applies.
    joint_id: Mapped[int | None] = mapped_column(
        ForeignKey("joint_handlings.id", ondelete="SET NULL"), index=True)
    # Who chases this milestone; None means the project's lead agent.
    owner_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    # Last SLA state the sweep notified about (to notify once per change).
    notified_state: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    project: Mapped["Project"] = relationship(back_populates="milestones")  # noqa: F821
    approval_item: Mapped[ApprovalItem | None] = relationship()
    owner: Mapped["Staff | None"] = relationship()  # noqa: F821
    pauses: Mapped[list["MilestonePause"]] = relationship(
        back_populates="milestone", order_by="MilestonePause.paused_on", passive_deletes=True
    )

    def __str__(self) -> str:
        return self.name


class MilestoneDependency(db.Model):
    """``milestone`` cannot be accepted before ``requires`` is issued (or waived).  Copied
    from the catalogue into a project's plan; a manager may add or remove one with a reason."""

    __tablename__ = "milestone_dependencies"
    __table_args__ = (
        UniqueConstraint("milestone_id", "requires_id", name="uq_milestone_dependencies_pair"),
        CheckConstraint("milestone_id <> requires_id", name="not_itself"),
    )
    # The plan copies the catalogue's by the dozen: only a person's change is recorded
    # (plan_changes records it with its reason).
    __audited__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"),
                                            index=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestones.id", ondelete="CASCADE"))
    requires_id: Mapped[int] = mapped_column(ForeignKey("milestones.id", ondelete="CASCADE"),
                                             index=True)
    # Set when a person added it to this project (not from the catalogue).
    reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class JointHandling(db.Model):
    """Items of one plan handled jointly (联合办理, 行政许可法 Art. 42): from the first member's
    acceptance all of them are decided within 45 working days, 15 more once with the approval
    of the government's head (the document is recorded).  The cap and its state derive from the
    members (``graph.joint_due`` / ``graph.joint_state``)."""

    __tablename__ = "joint_handlings"
    __table_args__ = (
        CheckConstraint("extension_workdays IS NULL OR extension_workdays > 0",
                        name="extension_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"),
                                            index=True)
    name: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    extension_workdays: Mapped[int | None] = mapped_column(Integer)
    extension_doc_no: Mapped[str | None] = mapped_column(String(100))
    extension_approved_on: Mapped[dt.date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    members: Mapped[list["Milestone"]] = relationship(
        order_by="(Milestone.sequence, Milestone.id)", passive_deletes=True)

    def __str__(self) -> str:
        return self.name


class CommitmentRule(db.Model):
    """The park's promise for a kind of project: ``limit_workdays`` working days from the
    issue of the start item to the issue of the end item (e.g. 30 from 项目备案 to 施工许可证).
    A park's rule replaces the city-wide one (park None); an approval mode narrows it."""

    __tablename__ = "commitment_rules"
    __table_args__ = (CheckConstraint("limit_workdays > 0", name="limit_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    park_id: Mapped[int | None] = mapped_column(ForeignKey("parks.id", ondelete="CASCADE"))
    approval_mode: Mapped[str | None] = mapped_column(String(20))  # filing, verification
    start_code: Mapped[str] = mapped_column(String(40))
    end_code: Mapped[str] = mapped_column(String(40))
    limit_workdays: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    park: Mapped["Park | None"] = relationship()  # noqa: F821

    def __str__(self) -> str:
        return self.name


class ProjectForecast(db.Model):
    """A project's forecast approval date and its promise (refreshed with its milestones'
    forecasts).  The promise's state derives from these dates and today (``graph.promise_state``)."""

    __tablename__ = "project_forecasts"
    __table_args__ = (Index("ix_project_forecasts_park", "park_id", "promise_due_on"),)
    __audited__ = False  # derived from the audited milestones

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"),
                                            primary_key=True, autoincrement=False)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"))
    forecast_on: Mapped[dt.date | None] = mapped_column(Date)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("commitment_rules.id",
                                                           ondelete="SET NULL"))
    promise_start_on: Mapped[dt.date | None] = mapped_column(Date)  # the start item's issue
    promise_due_on: Mapped[dt.date | None] = mapped_column(Date)
    promise_end_on: Mapped[dt.date | None] = mapped_column(Date)  # the end item's issue
    # The end item's forecast while it is open (at risk when later than the promise).
    end_forecast_on: Mapped[dt.date | None] = mapped_column(Date)
    # While the promise runs: working days from the end item's forecast to the promised day
    # (negative: forecast late).  Dashboards average it ("forecast vs promise").
    promise_margin_workdays: Mapped[int | None] = mapped_column(Integer)
    computed_on: Mapped[dt.date] = mapped_column(Date)

    rule: Mapped["CommitmentRule | None"] = relationship()


class MilestonePause(db.Model):
    """The clock stopped from ``paused_on`` to ``resumed_on`` (exclusive); open while None."""

    __tablename__ = "milestone_pauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(
        ForeignKey("milestones.id", ondelete="CASCADE"), index=True
    )
    paused_on: Mapped[dt.date] = mapped_column(Date)
    resumed_on: Mapped[dt.date | None] = mapped_column(Date)
    reason_code: Mapped[str] = mapped_column(String(20))
    document_ref: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    milestone: Mapped[Milestone] = relationship(back_populates="pauses")


class CalendarOverride(db.Model):
    """An admin-entered day: working (调休上班) or not (holiday).  Strongest calendar source."""

    __tablename__ = "calendar_overrides"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(100))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set on every change, so every process notices an edited override (calendar cache key).
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=utcnow,
                                                           onupdate=utcnow)

    def __str__(self) -> str:
        return self.day.isoformat()


class CalendarYear(db.Model):
    """A year whose official schedule admins loaded as overrides (dates in it are no longer
    provisional).  Years the bundled ``chinesecalendar`` covers need no row."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    note: Mapped[str | None] = mapped_column(String(200))
    loaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    loaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
