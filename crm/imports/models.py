"""Spreadsheet imports (a park's ledger, 台账): one batch per uploaded file, and the column
mappings a park saves for its ledger's headers.

The file itself is kept with the batch (the dry run, the commit and the failed-row export all
read it again), so nothing depends on a temporary file surviving between requests."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from crm.db import UTCDateTime, utcnow
from crm.extensions import db


class ImportKind(enum.StrEnum):
    PROJECTS = "projects"  # projects, and their approval progress on a second sheet
    PROGRESS = "progress"  # approval progress of projects already in Daiban
    ROSTER = "roster"  # a park's staff


class ImportMode(enum.StrEnum):
    CREATE = "create"  # new records only; a row matching one already here is an error
    UPSERT = "upsert"  # create new, update matched
    UPDATE = "update"  # update matched only; a row matching nothing is an error


class BatchStatus(enum.StrEnum):
    UPLOADED = "uploaded"  # columns mapped automatically; the user may adjust them
    CHECKING = "checking"  # dry run queued or running
    CHECKED = "checked"  # dry run done: counts and errors, nothing written
    COMMITTING = "committing"
    COMMITTED = "committed"
    FAILED = "failed"  # the job itself failed (not a row): nothing written
    REVERTED = "reverted"


class ImportBatch(db.Model):
    __tablename__ = "import_batches"
    __audited__ = False  # its own history is its status; what it writes is audited, tagged

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    mode: Mapped[str] = mapped_column(String(20))
    # The park of rows that name none (and the park a manager imports into).
    park_id: Mapped[int | None] = mapped_column(ForeignKey("parks.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    # {sheet: {field: header}} for each sheet the kind reads.
    mapping: Mapped[dict] = mapped_column(JSON, default=dict)
    headers: Mapped[dict] = mapped_column(JSON, default=dict)  # {sheet: [header, ...]}
    status: Mapped[str] = mapped_column(String(20), default=BatchStatus.UPLOADED.value)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    # {"new": n, "update": n, "unchanged": n, "error": n} of the last dry run or commit.
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    # [{"sheet", "row", "column", "message"}] of the last dry run or commit.
    errors: Mapped[list] = deferred(mapped_column(JSON, default=list))
    failure: Mapped[str | None] = mapped_column(String(500))  # why the job failed
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    committed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reverted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    park: Mapped["Park | None"] = relationship()  # noqa: F821
    created_by: Mapped["User | None"] = relationship()  # noqa: F821

    __mapper_args__ = {"version_id_col": version}


class ImportMapping(db.Model):
    """A named column mapping a park keeps for its ledger ({sheet: {field: header}})."""

    __tablename__ = "import_mappings"
    __table_args__ = (UniqueConstraint("park_id", "kind", "name", name="uq_import_mappings_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(50))
    mapping: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    park: Mapped["Park"] = relationship()  # noqa: F821
