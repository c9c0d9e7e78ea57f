"""What a storage backend's writes owe the transaction they belong to: the bytes written by a
transaction that rolls back are removed, the bytes of a deleted attachment only once the
deletion is committed.  Backends register the effects; ``install`` hooks the session."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from crm.extensions import db


class Missing(LookupError):
    """The backend has no bytes under this key (a file removed by hand, a lost disk)."""


_WRITTEN = "attachments_written"  # undo callbacks: files written in this transaction
_DOOMED = "attachments_doomed"  # files to remove once the transaction commits


def unless_committed(undo: Callable[[], object]) -> None:
    """Run ``undo`` if the current transaction rolls back (a file written for it)."""
    db.session.info.setdefault(_WRITTEN, []).append(undo)


def once_committed(effect: Callable[[], object]) -> None:
    db.session.info.setdefault(_DOOMED, []).append(effect)


def _run(callbacks) -> None:
    """Best effort: a file or object that cannot be removed is left behind, never an error
    after the transaction has ended."""
    for fn in callbacks:
        try:
            fn()
        except Exception:  # noqa: BLE001 (OSError from a folder, S3Error or urllib3's from S3)
            pass


def _after_commit(session) -> None:
    session.info.pop(_WRITTEN, None)
    _run(session.info.pop(_DOOMED, []))


def _after_rollback(session, previous_transaction) -> None:
    if previous_transaction.nested:
        return  # a savepoint: the transaction goes on
    session.info.pop(_DOOMED, None)
    _run(session.info.pop(_WRITTEN, []))


def install(session_class=Session) -> None:
    """Session hooks (create_app): a file written by work that rolls back is removed; a deleted
    attachment's file is removed once the deletion is committed."""
    for name, fn in (("after_commit", _after_commit), ("after_soft_rollback", _after_rollback)):
        if not event.contains(session_class, name, fn):
            event.listen(session_class, name, fn)
