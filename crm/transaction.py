"""The unit of work: the one place a request (web or API) commits.

Services flush but never commit.  A view or API endpoint wraps its writes in::

    with transaction():
        services.change_something(...)

which commits when the block ends, or rolls back and re-raises when it raises.  A version
check or a unique index that fails at a flush or the commit (``StaleDataError``,
``IntegrityError``: someone saved or inserted the same row in between) becomes ``Conflict``,
the domain's "changed by someone else" error, so every caller answers it the same way.

``on_commit(fn)`` runs ``fn`` after the commit succeeded (and forgets it on a rollback): for
effects outside the database that must only happen once the data is there, such as handing a
job to the queue.  Jobs and CLI commands commit themselves (they are their own unit of work).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import contextmanager

from flask_babel import lazy_gettext as _l
from sqlalchemy import event, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, lazyload
from sqlalchemy.orm.exc import StaleDataError

from crm.errors import Conflict
from crm.extensions import db

log = logging.getLogger(__name__)

STALE = _l("Someone else changed this in the meantime. Nothing was saved: reload the page "
           "and try again.")
_AFTER_COMMIT = "crm_after_commit"


def stale(message=STALE) -> Conflict:
    return Conflict(message)


def flush(stale_message=STALE) -> None:
    """Flush, turning the mapper's version check into the domain's Conflict."""
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise stale(stale_message) from exc


def check_version(obj, expected: int | None) -> None:
    """Refuse (Conflict) a change made from a stale page: the version the user read, when
    given, must still be the record's."""
    if expected is not None and expected != obj.version:
        raise stale()


def lock(obj) -> None:
    """Re-read ``obj`` and hold its row until the transaction ends (PostgreSQL's row lock;
    SQLite serialises writers anyway), so a check-then-write on it cannot race a concurrent
    one: the second waits, then sees the first one's change.  Only the row itself is read
    (no eager joins: PostgreSQL locks no outer-joined rows)."""
    mapper = inspect(obj).mapper
    key = mapper.primary_key_from_instance(obj)
    db.session.execute(
        select(mapper.class_)
        .where(*(column == value for column, value in zip(mapper.primary_key, key)))
        .options(lazyload("*")).with_for_update()
        .execution_options(populate_existing=True)).scalar_one()


def on_commit(fn: Callable[[], object]) -> None:
    """Run ``fn`` once the current transaction has committed through ``commit()`` /
    ``transaction()``; dropped when it rolls back (a commit made some other way, by a job or
    a test, does not run it either)."""
    session = db.session
    root = session().get_transaction()
    if root is None:
        session.connection()  # begin the transaction the callback belongs to
        root = session().get_transaction()
    session.info.setdefault(_AFTER_COMMIT, []).append((root, fn))


def commit() -> None:
    """Commit the session, then run the after-commit callbacks.

    A version check or a unique constraint that fails only now (a concurrent writer got
    there first) is the domain's Conflict; nothing is saved.
    """
    session = db.session
    root = session().get_transaction()
    try:
        session.commit()
    except (StaleDataError, IntegrityError) as exc:
        session.rollback()
        raise stale() from exc
    except BaseException:
        session.rollback()
        raise
    callbacks = [fn for owner, fn in session.info.pop(_AFTER_COMMIT, [])
                 if root is not None and owner is root]
    for fn in callbacks:
        try:
            fn()
        except Exception:  # an effect after the commit must not undo or hide the commit
            log.exception("after-commit callback %r failed", fn)
            session.rollback()


@contextmanager
def transaction():
    """Commit on success; roll back and re-raise on any error.

    A version check or a unique index that refuses a write inside the block (someone else
    changed or inserted the same thing at the same moment) is raised as Conflict.
    """
    try:
        yield db.session
    except (StaleDataError, IntegrityError) as exc:
        db.session.rollback()
        raise stale() from exc
    except BaseException:
        db.session.rollback()
        raise
    commit()


def _forget_callbacks(session, previous_transaction) -> None:
    if not previous_transaction.nested:  # a savepoint rolled back: the transaction goes on
        session.info.pop(_AFTER_COMMIT, None)


def install(session_class=Session) -> None:
    """Forget after-commit callbacks when their transaction rolls back."""
    if not event.contains(session_class, "after_soft_rollback", _forget_callbacks):
        event.listen(session_class, "after_soft_rollback", _forget_callbacks)
