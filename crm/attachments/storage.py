"""Where the bytes of attachments live: one interface, chosen by ``ATTACHMENT_STORAGE``.

- ``database`` (AttachmentBlob rows): every web node and worker reads the same bytes; the
  write is part of the request's transaction.  The choice when web and workers share no disk.
- ``folder`` (the default): files under ``ATTACHMENT_FOLDER`` (default instance/attachments),
  written atomically; a file written by a transaction that then rolls back is removed, and a
  deleted attachment's file goes only once the deletion is committed.
- ``s3``: an S3-compatible store (crm/attachments/s3.py, settings ``ATTACHMENT_S3_*``), with
  the folder's promises.

Each attachment records the backend that holds it, so changing the setting never loses older
files: they are read from where they were written.

Another backend plugs in with ``register_backend(name, factory)``; ``factory(app)`` returns
an object with ``save``, ``load`` and ``delete``.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from flask import current_app
from sqlalchemy import delete

from crm.attachments.effects import (  # noqa: F401 (Missing, install: the package's names)
    Missing, install, once_committed, unless_committed,
)
from crm.attachments.models import AttachmentBlob
from crm.extensions import db


class Backend(Protocol):
    name: str

    def save(self, key: str, data: bytes) -> None: ...

    def load(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...


def new_key(suffix: str = "") -> str:
    """A random key, spread over 256 folders: ``ab/3f9c…`` (never derived from user input)."""
    token = secrets.token_hex(16)
    return f"{token[:2]}/{token}{suffix}"


class DatabaseBackend:
    name = "database"

    def save(self, key: str, data: bytes) -> None:
        db.session.add(AttachmentBlob(key=key, size=len(data), content=data))

    def load(self, key: str) -> bytes:
        content = db.session.scalar(db.select(AttachmentBlob.content).where(AttachmentBlob.key == key))
        if content is None:
            raise Missing(key)
        return bytes(content)

    def delete(self, key: str) -> None:
        db.session.execute(delete(AttachmentBlob).where(AttachmentBlob.key == key))


class FolderBackend:
    name = "folder"

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise Missing(key)  # keys are ours, but never leave the folder
        return path

    def save(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        unless_committed(lambda: path.unlink(missing_ok=True))

    def load(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise Missing(key) from None

    def delete(self, key: str) -> None:
        path = self._path(key)
        once_committed(lambda: path.unlink(missing_ok=True))


def _folder(app) -> FolderBackend:
    return FolderBackend(app.config.get("ATTACHMENT_FOLDER")
                         or os.path.join(app.instance_path, "attachments"))


def _s3(app):
    from crm.attachments.s3 import S3Backend  # the client only where it is used

    return S3Backend.from_config(app)


_FACTORIES: dict[str, Callable] = {
    "database": lambda app: DatabaseBackend(),
    "folder": _folder,
    "s3": _s3,
}


def register_backend(name: str, factory: Callable) -> None:
    """Make another backend available under ``name`` (``factory(app)`` -> a Backend)."""
    _FACTORIES[name] = factory


def backend(name: str | None = None) -> Backend:
    """The backend called ``name`` (an attachment's ``storage``), or the configured one for
    new files."""
    app = current_app._get_current_object()
    name = name or app.config["ATTACHMENT_STORAGE"]
    if name not in _FACTORIES:
        raise RuntimeError(f"ATTACHMENT_STORAGE={name!r}: choose one of {sorted(_FACTORIES)}")
    return _FACTORIES[name](app)
