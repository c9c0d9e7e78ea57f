"""Projects, their stage history, progress logs (including blockers) and log annotations."""

from __future__ import annotations

import datetime as dt
import decimal
import enum

from sqlalchemy import (
    Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, Numeric, String, Text, and_,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import UTCDateTime, utcnow
from crm.extensions import db

# A project qualifies for the service at 1亿元 = 10000万元.
MIN_INVESTMENT_WAN = 10000


class Stage(enum.StrEnum):
    NEGOTIATING = "negotiating"  # 洽谈
    SIGNED = "signed"  # 签约
    FILING = "filing"  # 立项 (备案/核准)
    LAND = "land"  # 用地
    PLANNING = "planning"  # 规划许可
    PERMITTING = "permitting"  # 施工许可
    APPROVED = "approved"  # 审批完成

    @property
    def order(self) -> int:
        return list(Stage).index(self)


class ProjectStatus(enum.StrEnum):
    ACTIVE = "active"
    ON_HOLD = "on_hold"  # 暂缓
    DROPPED = "dropped"  # 终止


class ApprovalMode(enum.StrEnum):
    FILING = "filing"  # 备案: most enterprise projects
    VERIFICATION = "verification"  # 核准: projects on the government's verification list


class EiaCategory(enum.StrEnum):
    """Environmental impact assessment document the project needs (环评类别)."""

    REPORT_BOOK = "report_book"  # 报告书
    REPORT_FORM = "report_form"  # 报告表
    REGISTRATION = "registration"  # 登记表: filing only, no approval


INDUSTRIES = (
    "high_end_equipment",  # 高端装备
    "new_energy",  # 新能源
    "new_materials",  # 新材料
    "electronic_information",  # 电子信息
    "biomedicine",  # 生物医药
    "marine_engineering",  # 海工装备及船舶
    "textiles",  # 纺织服装
    "fine_chemicals",  # 精细化工
    "automotive_parts",  # 汽车及零部件
    "modern_services",  # 现代服务业
    "logistics",  # 现代物流
    "food",  # 食品加工
)

_stage_values = ", ".join(f"'{s.value}'" for s in Stage)
_status_values = ", ".join(f"'{s.value}'" for s in ProjectStatus)


class Project(db.Model):
    __tablename__ = "projects"
    __table_args__ = (
        CheckConstraint(f"investment >= {MIN_INVESTMENT_WAN}", name="investment_min"),
        CheckConstraint(f"stage IN ({_stage_values})", name="stage_known"),
        CheckConstraint(f"status IN ({_status_values})", name="status_known"),
        CheckConstraint("approval_mode IN ('filing', 'verification')", name="approval_mode_known"),
        Index("ix_projects_park_status_stage", "park_id", "status", "stage"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    # 投资项目统一代码; assigned by the investment-project platform at filing, so may be empty.
    code: Mapped[str | None] = mapped_column(String(24), unique=True)
    investor_name: Mapped[str] = mapped_column(String(200))
    # 统一社会信用代码 of the investor.
    investor_credit_code: Mapped[str | None] = mapped_column(String(18), index=True)
    # Total investment in 万元 (integer).
    investment: Mapped[int] = mapped_column(Integer)
    industry: Mapped[str] = mapped_column(String(40), index=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"))
    stage: Mapped[str] = mapped_column(String(20), default=Stage.NEGOTIATING.value)
    status: Mapped[str] = mapped_column(String(20), default=ProjectStatus.ACTIVE.value)
    approval_mode: Mapped[str] = mapped_column(String(20), default=ApprovalMode.FILING.value)
    eia_category: Mapped[str] = mapped_column(String(20), default=EiaCategory.REPORT_FORM.value)
    description: Mapped[str | None] = mapped_column(Text)
    contact_name: Mapped[str | None] = mapped_column(String(50))
    contact_phone: Mapped[str | None] = mapped_column(String(30))
    signed_on: Mapped[dt.date | None] = mapped_column(Date)
    expected_start_on: Mapped[dt.date | None] = mapped_column(Date)
    stage_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    park: Mapped["Park"] = relationship()  # noqa: F821
    assignments: Mapped[list["Assignment"]] = relationship(  # noqa: F821
        back_populates="project", order_by="Assignment.started_at", passive_deletes=True
    )
    milestones: Mapped[list["Milestone"]] = relationship(  # noqa: F821
        back_populates="project", order_by="Milestone.sequence", passive_deletes=True
    )

    def __str__(self) -> str:
        return self.name

    @hybrid_property
    def in_service(self) -> bool:
        """Being served (在办): active and not yet through its approvals.  Projects on hold or
        dropped are not, nor those that reached ``approved`` (审批完成)."""
        return self.status == ProjectStatus.ACTIVE and self.stage != Stage.APPROVED

    @in_service.inplace.expression
    @classmethod
    def _in_service_sql(cls):
        return and_(cls.status == ProjectStatus.ACTIVE.value, cls.stage != Stage.APPROVED.value)

    @property
    def investment_yi(self) -> decimal.Decimal:
        return (decimal.Decimal(self.investment) / 10000).quantize(decimal.Decimal("0.1"))


class StageChange(db.Model):
    """Every move of a project's stage: automatic (milestones done) or by hand with a reason."""

    __tablename__ = "stage_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    from_stage: Mapped[str | None] = mapped_column(String(20))
    to_stage: Mapped[str] = mapped_column(String(20))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(Text)

    changed_by: Mapped["User | None"] = relationship()  # noqa: F821


class LogKind(enum.StrEnum):
    VISIT = "visit"  # 走访
    CALL = "call"  # 电话
    MATERIALS = "materials"  # 材料
    COORDINATION = "coordination"  # 协调
    BLOCKER = "blocker"  # 堵点
    RESOLUTION = "resolution"  # 解决


_kind_values = ", ".join(f"'{k.value}'" for k in LogKind)


class ProgressLog(db.Model):
    """What an agent did on a project.  A blocker stays open until resolved."""

    __tablename__ = "progress_logs"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_kind_values})", name="kind_known"),
        CheckConstraint("hours IS NULL OR (hours >= 0 AND hours <= 24)", name="hours_range"),
        Index("ix_progress_logs_project_created", "project_id", "created_at"),
        Index("ix_progress_logs_park_created", "park_id", "created_at"),
        Index(
            "ix_progress_logs_open_blockers",
            "park_id",
            "project_id",
            sqlite_where=text("kind = 'blocker' AND resolved_at IS NULL"),
            postgresql_where=text("kind = 'blocker' AND resolved_at IS NULL"),
        ),
        # The workload view's "last progress log" of each person: an index probe by author.
        Index("ix_progress_logs_author_happened", "author_id", "happened_on"),
        # Open blockers by age (the dashboards' "oldest open blockers"): an index walk.
        Index(
            "ix_progress_logs_open_blockers_age",
            "happened_on",
            "id",
            sqlite_where=text("kind = 'blocker' AND resolved_at IS NULL"),
            postgresql_where=text("kind = 'blocker' AND resolved_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    # The project's park, kept here for park-wide feeds and counts.
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"))
    milestone_id: Mapped[int | None] = mapped_column(
        ForeignKey("milestones.id", ondelete="SET NULL"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))
    happened_on: Mapped[dt.date] = mapped_column(Date)
    hours: Mapped[decimal.Decimal | None] = mapped_column(Numeric(4, 1))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Blockers only: when and how they were resolved.
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    # The "resolution" log entry that closed this blocker, if any.
    resolved_by_log_id: Mapped[int | None] = mapped_column(
        ForeignKey("progress_logs.id", ondelete="SET NULL")
    )

    project: Mapped["Project"] = relationship()
    author: Mapped["User | None"] = relationship(foreign_keys=[author_id])  # noqa: F821
    resolved_by: Mapped["User | None"] = relationship(foreign_keys=[resolved_by_id])  # noqa: F821
    milestone: Mapped["Milestone | None"] = relationship()  # noqa: F821
    annotations: Mapped[list["LogAnnotation"]] = relationship(
        back_populates="log", order_by="LogAnnotation.created_at", passive_deletes=True
    )

    @hybrid_property
    def is_open_blocker(self) -> bool:
        """An open blocker: logged as a blocker and not resolved (one definition, in Python
        and in SQL: ``ProgressLog.is_open_blocker`` in a query)."""
        return self.kind == LogKind.BLOCKER and self.resolved_at is None

    @is_open_blocker.inplace.expression
    @classmethod
    def _is_open_blocker_sql(cls):
        return and_(cls.kind == LogKind.BLOCKER.value, cls.resolved_at.is_(None))


class LogAnnotation(db.Model):
    """A note added to a progress log after the fact (logs are not edited after 24 hours)."""

    __tablename__ = "log_annotations"

    id: Mapped[int] = mapped_column(primary_key=True)
    log_id: Mapped[int] = mapped_column(ForeignKey("progress_logs.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    log: Mapped[ProgressLog] = relationship(back_populates="annotations")
    author: Mapped["User | None"] = relationship()  # noqa: F821

    @property
    def project_id(self) -> int | None:
        """The annotated log's project, so the audit trail files annotations under it."""
        return self.log.project_id if self.log is not None else None
