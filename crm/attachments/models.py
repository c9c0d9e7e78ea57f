"""Attachments: a file on an owner record (a milestone, a progress log, a problem), and the blob
table the database storage keeps the bytes in."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    CheckConstraint, ForeignKey, Index, Integer, LargeBinary, String,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from crm.db import UTCDateTime, utcnow
from crm.extensions import db


class OwnerType(enum.StrEnum):
    MILESTONE = "milestone"
    LOG = "log"
    PROBLEM = "problem"


class Purpose(enum.StrEnum):
    APPROVAL_DOCUMENT = "approval_document"  # 批文/证照: completion evidence of a milestone
    CORRECTION_NOTICE = "correction_notice"  # 补正通知: evidence for a pause
    PHOTO = "photo"  # visit photo
    OTHER = "other"


OWNER_TYPES = tuple(t.value for t in OwnerType)
PURPOSES = tuple(p.value for p in Purpose)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Attachment(db.Model):
    __tablename__ = "attachments"
    __table_args__ = (
        CheckConstraint(_in("owner_type", OWNER_TYPES), name="owner_type_known"),
        CheckConstraint(_in("purpose", PURPOSES), name="purpose_known"),
        CheckConstraint("size >= 0", name="size_positive"),
        Index("ix_attachments_owner", "owner_type", "owner_id"),
        Index("ix_attachments_project", "project_id", "uploaded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_type: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[int] = mapped_column(Integer)
    # Resolved from the owner when the file is attached (the registry): the scope of the file,
    # and one query loads every attachment of a project page.
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    park_id: Mapped[int | None] = mapped_column(ForeignKey("parks.id", ondelete="CASCADE"),
                                                index=True)
    purpose: Mapped[str] = mapped_column(String(20), default=Purpose.OTHER.value)
    filename: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(10))  # pdf, jpeg, png, docx, xlsx, pptx, doc, xls
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    # Where the bytes are: the storage backend's name and its key.
    storage: Mapped[str] = mapped_column(String(20))
    storage_key: Mapped[str] = mapped_column(String(100))
    thumbnail_key: Mapped[str | None] = mapped_column(String(100))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    uploaded_by: Mapped["User | None"] = relationship()  # noqa: F821

    @property
    def is_image(self) -> bool:
        return self.kind in ("jpeg", "png")

    @property
    def has_thumbnail(self) -> bool:
        return self.thumbnail_key is not None


class AttachmentBlob(db.Model):
    """The bytes of a file kept by the database storage (every web node and worker reads it)."""

    __tablename__ = "attachment_blobs"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
