"""The audit trail: who changed what, when."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import UTCDateTime, utcnow
from crm.extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_entity", "entity_type", "entity_id"),
        Index("ix_audit_events_project", "project_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    # The project the change belongs to, so a project's page can show its whole trail.
    project_id: Mapped[int | None] = mapped_column(Integer)
    # "create", "update", "delete", or a domain action such as "milestone.pause".
    action: Mapped[str] = mapped_column(String(40))
    # {"field": [old, new]}; secrets are never recorded.
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    note: Mapped[str | None] = mapped_column(Text)
    # The spreadsheet import whose commit (or revert) made this change, if any.
    import_batch_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # True when the event inserted the row (whatever its action is called); None otherwise.
    created_row: Mapped[bool | None] = mapped_column(Boolean)

    user: Mapped["User | None"] = relationship()  # noqa: F821
