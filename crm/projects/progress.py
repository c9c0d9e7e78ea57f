"""Progress log services: log entries, blockers and their resolution, annotations.

- A blocker stays open until a resolution entry linked to it is logged, or someone closes it
  with a note.
- A log entry may be edited by its author for EDIT_WINDOW after it was written; after that it
  is only annotated.  Deleting an entry is an admin action (permissions.LOG_DELETE), audited.

Services flush but never commit.
"""

from __future__ import annotations

import datetime as dt
import decimal

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from crm.audit import services as audit
from crm.db import utcnow
from crm.extensions import db
from crm.projects.models import LogAnnotation, LogKind, ProgressLog, Project

EDIT_WINDOW = dt.timedelta(hours=24)
MAX_TEXT = 2000
FEED_PAGE = 30


class LogLocked(Exception):
    """The entry may not be edited (not the author, or written more than 24 hours ago)."""


class NotAnOpenBlocker(ValueError):
    """The entry is not a blocker, or the blocker is already resolved."""


def open_blocker_condition():
    return (ProgressLog.kind == LogKind.BLOCKER.value) & ProgressLog.resolved_at.is_(None)


def add_log(project: Project, *, author_id: int | None, kind: str, happened_on: dt.date,
            text: str, hours: decimal.Decimal | None = None, milestone_id: int | None = None,
            resolves: ProgressLog | None = None) -> ProgressLog:
    """Log what was done on ``project``.  A resolution may close one of its open blockers."""
    if kind not in {k.value for k in LogKind}:
        raise ValueError(f"unknown log kind {kind!r}")
    if resolves is not None:
        if kind != LogKind.RESOLUTION or resolves.project_id != project.id:
            raise NotAnOpenBlocker(resolves.id)
        if not resolves.is_open_blocker:
            raise NotAnOpenBlocker(resolves.id)
    log = ProgressLog(project_id=project.id, park_id=project.park_id, author_id=author_id,
                      kind=kind, happened_on=happened_on, hours=hours, text=text,
                      milestone_id=milestone_id)
    db.session.add(log)
    db.session.flush()
    if resolves is not None:
        resolves.resolved_at = log.created_at
        resolves.resolved_by_id = author_id
        resolves.resolved_by_log_id = log.id
        resolves.resolution_note = text
        audit.tag(resolves, "blocker.resolve")
        db.session.flush()
    return log


def _resolved_by(log: ProgressLog) -> list[ProgressLog]:
    """The blockers that ``log`` (a resolution entry) resolved."""
    return list(db.session.scalars(
        select(ProgressLog).where(ProgressLog.resolved_by_log_id == log.id)))


def can_edit(log: ProgressLog, user_id: int, now: dt.datetime | None = None) -> bool:
    now = now or utcnow()
    return log.author_id is not None and log.author_id == user_id \
        and now - log.created_at < EDIT_WINDOW


def edit_log(log: ProgressLog, *, user_id: int, happened_on: dt.date, text: str,
             hours: decimal.Decimal | None, milestone_id: int | None) -> ProgressLog:
    if not can_edit(log, user_id):
        raise LogLocked(log.id)
    log.happened_on = happened_on
    log.text = text
    log.hours = hours
    log.milestone_id = milestone_id
    if log.kind == LogKind.RESOLUTION:
        # The blockers this entry resolved quote it as their resolution note.
        for blocker in _resolved_by(log):
            blocker.resolution_note = text
    db.session.flush()
    return log


def annotate(log: ProgressLog, *, author_id: int | None, text: str) -> LogAnnotation:
    annotation = LogAnnotation(log=log, author_id=author_id, text=text)
    db.session.add(annotation)
    db.session.flush()
    return annotation


def close_blocker(log: ProgressLog, *, actor_id: int | None, note: str) -> ProgressLog:
    """Close an open blocker with a note (no resolution entry)."""
    if not log.is_open_blocker:
        raise NotAnOpenBlocker(log.id)
    log.resolved_at = utcnow()
    log.resolved_by_id = actor_id
    log.resolution_note = note
    audit.tag(log, "blocker.close", note)
    db.session.flush()
    return log


def delete_log(log: ProgressLog, *, reason: str) -> None:
    """Delete an entry (admins).  Blockers it resolved open again."""
    for blocker in _resolved_by(log):
        blocker.resolved_at = None
        blocker.resolved_by_id = None
        blocker.resolved_by_log_id = None
        blocker.resolution_note = None
        audit.tag(blocker, "blocker.reopen", reason)
    audit.tag(log, "log.delete", reason)
    db.session.delete(log)
    db.session.flush()


# -- reading -------------------------------------------------------------------------------

def feed(project_id: int, page: int = 1, size: int = FEED_PAGE) -> tuple[list[ProgressLog], bool]:
    """A page of the project's log, newest first, with authors, milestones and annotations;
    and whether older entries exist.  Two queries whatever the size."""
    rows = db.session.scalars(
        select(ProgressLog).where(ProgressLog.project_id == project_id)
        .options(joinedload(ProgressLog.author), joinedload(ProgressLog.milestone),
                 joinedload(ProgressLog.resolved_by),
                 selectinload(ProgressLog.annotations).joinedload(LogAnnotation.author))
        .order_by(ProgressLog.created_at.desc(), ProgressLog.id.desc())
        .limit(size + 1).offset((max(page, 1) - 1) * size)
    ).all()
    return rows[:size], len(rows) > size


def open_blockers(project_id: int) -> list[ProgressLog]:
    return list(db.session.scalars(
        select(ProgressLog).where(ProgressLog.project_id == project_id, open_blocker_condition())
        .options(joinedload(ProgressLog.author))
        .order_by(ProgressLog.created_at, ProgressLog.id)
    ))


def open_blocker_counts(park_condition) -> dict[int, int]:
    """Open blockers per park, for the parks matching ``park_condition`` (a condition on
    ProgressLog.park_id, e.g. ``scope.park_condition(user, ProgressLog.park_id)``)."""
    return dict(db.session.execute(
        select(ProgressLog.park_id, func.count())
        .where(park_condition, open_blocker_condition())
        .group_by(ProgressLog.park_id)
    ).all())
