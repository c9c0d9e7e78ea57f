"""Generated documents (service orders and summaries): the request, its status and the PDF."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    CheckConstraint, Date, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from crm.db import UTCDateTime, utcnow
from crm.extensions import db


class DocumentKind(enum.StrEnum):
    SERVICE_ORDER = "service_order"  # 服务单
    SUMMARY = "summary"  # 汇总报告
    ROUND_REPORT = "round_report"  # 调度报告 (PDF)
    ROUND_WORKBOOK = "round_workbook"  # the round's figures and reports (.xlsx)


class DocumentStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class GeneratedDocument(db.Model):
    __tablename__ = "generated_documents"
    __table_args__ = (
        CheckConstraint("kind IN ('service_order', 'summary', 'round_report', 'round_workbook')",
                        name="kind_known"),
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status_known"),
        Index("ix_generated_documents_project_kind", "project_id", "kind", "requested_at"),
        Index("ix_generated_documents_status", "status", "requested_at"),
        # Idempotent requests: at most one pending (queued or running) document per request key.
        Index(
            "uq_generated_documents_pending_key",
            "request_key",
            unique=True,
            sqlite_where=text("status IN ('queued', 'running')"),
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
        UniqueConstraint("project_id", "doc_version", name="uq_generated_documents_project_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default=DocumentStatus.QUEUED.value)
    # Service orders: the project.  Summaries: the park, or None for the whole city.
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    park_id: Mapped[int | None] = mapped_column(ForeignKey("parks.id"), index=True)
    # Round reports: the supervision round (its park is ``park_id``, None for the city's).
    round_id: Mapped[int | None] = mapped_column(
        ForeignKey("supervision_rounds.id", ondelete="CASCADE"), index=True)
    period_start: Mapped[dt.date | None] = mapped_column(Date)
    period_end: Mapped[dt.date | None] = mapped_column(Date)
    # Service orders: FW-2026-000123 and the version of the order for this project.
    order_number: Mapped[str | None] = mapped_column(String(30))
    doc_version: Mapped[int | None] = mapped_column(Integer)
    # Hash of the data the document was made from; a new version is made when it changes.
    content_fingerprint: Mapped[str | None] = mapped_column(String(64))
    # What was asked for ("service_order:12", "summary:city:2026-01-01:2026-03-31"): a second
    # request with the same key while one is pending gets the pending one.
    request_key: Mapped[str | None] = mapped_column(String(80))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # When it was last handed to the queue (for re-enqueueing lost requests).
    enqueued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    job_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    filename: Mapped[str | None] = mapped_column(String(200))
    size: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    # The PDF itself: the database is a store every web node and worker can read.
    content: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))

    project: Mapped["Project | None"] = relationship()  # noqa: F821
    park: Mapped["Park | None"] = relationship()  # noqa: F821
    requested_by: Mapped["User | None"] = relationship()  # noqa: F821
