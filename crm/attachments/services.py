"""Attaching a file (checked by its content, stored through the configured backend, a
thumbnail for images), removing one, and the audit trail's words for both."""

from __future__ import annotations

import hashlib
import io
import warnings

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from crm.attachments import filetypes, storage
from crm.attachments.models import PURPOSES, Attachment
from crm.attachments.owners import Owner, owner_types
from crm.audit import services as audit
from crm.auth.models import Role
from crm.errors import DomainError, Forbidden

UPLOAD, DELETE, DOWNLOAD = "attachment.upload", "attachment.delete", "attachment.download"
AUDIT_ACTIONS = {
    UPLOAD: _l("attached the file"),
    DELETE: _l("removed the attached file"),
    DOWNLOAD: _l("downloaded the attached file"),
}
THUMBNAIL_SIZE = (320, 320)


class TooLarge(DomainError):
    """The file is over ATTACHMENT_MAX_BYTES (a form's few bytes let it through the request
    limit): 413 like a request over the limit."""

    status = 413
    code = "too_large"


def max_bytes() -> int:
    return int(current_app.config["ATTACHMENT_MAX_BYTES"])


def size_text(size: int) -> str:
    """20 MB, 350 KB, 12 B (decimal-free for whole megabytes)."""
    if size >= 1024 * 1024:
        value = size / (1024 * 1024)
        return f"{value:.0f} MB" if value == int(value) or value >= 10 else f"{value:.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} B"


def too_large_message() -> str:
    return str(_l("The file is larger than %(size)s, the most an attachment may be: send a "
                  "smaller file (a scan at a lower resolution, a PDF instead of photos).",
                  size=size_text(max_bytes())))


def _refuse(message, field: str = "file"):
    raise DomainError(message, field)


# -- images --------------------------------------------------------------------------------------

def _thumbnail(data: bytes) -> tuple[bytes, int, int]:
    """A JPEG thumbnail and the image's size; Refused for a damaged image or one whose pixel
    count is beyond ATTACHMENT_MAX_PIXELS (a small file can claim a huge canvas)."""
    from PIL import Image, ImageOps

    limit = int(current_app.config["ATTACHMENT_MAX_PIXELS"])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:  # reads the header only
                width, height = probe.size
                if width * height > limit:
                    raise filetypes.Refused(_l(
                        "The image is %(w)d × %(h)d pixels, more than the %(mp)d megapixels "
                        "accepted: send a smaller image.", w=width, h=height,
                        mp=limit // 1_000_000))
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.draft("RGB", THUMBNAIL_SIZE)  # JPEG: decode at a fraction of the size
                image = ImageOps.exif_transpose(image)
                image.thumbnail(THUMBNAIL_SIZE)
                out = io.BytesIO()
                image.convert("RGB").save(out, "JPEG", quality=80, optimize=True)
    except filetypes.Refused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise filetypes.Refused(_l("The image claims more pixels than can be accepted.")) from None
    except Exception:  # Pillow raises many kinds on damaged data
        raise filetypes.Refused(_l("The image is damaged and cannot be shown.")) from None
    return out.getvalue(), width, height


# -- writes --------------------------------------------------------------------------------------

def attach(owner: Owner, *, data: bytes, filename: str | None, purpose: str | None,
           actor_id: int | None) -> Attachment:
    """Check the file and attach it to ``owner``; DomainError (per field) when refused, before
    anything is written."""
    if len(data) > max_bytes():
        raise TooLarge(too_large_message(), "file")
    kind = owner_types().get(owner.type)
    purpose = purpose or (kind.purposes[0] if kind else "other")
    if purpose not in PURPOSES or (kind and purpose not in kind.purposes):
        _refuse(_l("Choose what the file is."), "purpose")
    try:
        found = filetypes.identify(data, filename)
        thumb = _thumbnail(data) if found.kind.image else None
    except filetypes.Refused as refused:
        _refuse(refused.message)
    backend = storage.backend()
    key = storage.new_key()
    attachment = Attachment(
        owner_type=owner.type, owner_id=owner.id, project_id=owner.project_id,
        park_id=owner.park_id, purpose=purpose, filename=found.filename, kind=found.kind.code,
        content_type=found.kind.content_type, size=len(data),
        sha256=hashlib.sha256(data).hexdigest(), storage=backend.name, storage_key=key,
        uploaded_by_id=actor_id)
    backend.save(key, data)
    if thumb is not None:
        thumb_bytes, attachment.width, attachment.height = thumb
        attachment.thumbnail_key = key + ".thumb"
        backend.save(attachment.thumbnail_key, thumb_bytes)
    from crm.extensions import db

    db.session.add(attachment)
    audit.tag(attachment, UPLOAD, attachment.filename)
    db.session.flush()
    return attachment


def may_delete(attachment: Attachment, user) -> bool:
    """Admins and park managers remove any file they can see; staff the files they attached."""
    if user.role in (Role.ADMIN, Role.PARK_MANAGER):
        return True
    return attachment.uploaded_by_id is not None and attachment.uploaded_by_id == user.id


def remove(attachment: Attachment, user) -> None:
    from crm.extensions import db

    if not may_delete(attachment, user):
        raise Forbidden(_l("Only whoever attached the file, a park manager or an "
                           "administrator may remove it."))
    _forget_bytes(attachment)
    audit.tag(attachment, DELETE, attachment.filename)
    db.session.delete(attachment)
    db.session.flush()


def _forget_bytes(attachment: Attachment) -> None:
    backend = storage.backend(attachment.storage)
    backend.delete(attachment.storage_key)
    if attachment.thumbnail_key:
        backend.delete(attachment.thumbnail_key)


def record_download(attachment: Attachment) -> None:
    from crm.extensions import db

    audit.record(db.session, DOWNLOAD, attachment, note=attachment.filename)


# -- owners that go away ------------------------------------------------------------------------

def _owners_deleted(session: Session, flush_context, instances) -> None:
    """Before a flush that deletes a milestone or a log entry (or another owner): its files go
    with it (their bytes once the deletion is committed)."""
    by_model = {kind.model: kind.name for kind in _registered()}
    doomed: dict[str, list[int]] = {}
    for obj in session.deleted:
        name = by_model.get(type(obj))
        if name is not None and obj.id is not None:
            doomed.setdefault(name, []).append(obj.id)
    for name, ids in doomed.items():
        for attachment in session.scalars(select(Attachment).where(
                Attachment.owner_type == name, Attachment.owner_id.in_(ids))):
            _forget_bytes(attachment)
            session.delete(attachment)


def _registered():
    try:
        return list(owner_types().values())
    except RuntimeError:  # no application context (plain SQLAlchemy use)
        return []


def install() -> None:
    """The session hooks (create_app): storage cleanup and owners' files."""
    storage.install()
    if not event.contains(Session, "before_flush", _owners_deleted):
        event.listen(Session, "before_flush", _owners_deleted)
