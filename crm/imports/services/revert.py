"""Undo an imported batch from the audit trail: every change the commit made is an audit
event tagged with the batch (crm/audit/services.py ``set_import_batch``).

- projects the batch created are deleted (their plan, staff, history go with them: the
  foreign keys cascade);
- any other record it created (a pause, a stage change, a staff member, an assignment) is
  deleted; every field it changed gets back its value from before the batch.

Only while nothing later has changed those records: a later audit event on one of the batch's
projects or records (other than reading it) blocks the revert, and the page lists them.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import TypeDecorator, delete, insert, or_, select

from crm.audit import services as audit
from crm.audit.models import AuditEvent
from crm.db import utcnow
from crm.errors import InvalidState
from crm.extensions import db
from crm.i18n import today as local_today
from crm.imports.models import BatchStatus, ImportBatch
from crm.milestones.queries import work_calendar
from crm.milestones.services import forecasts
from crm.projects.models import Project
from crm.transaction import flush, lock

CHUNK = 500
REVERT = "import.revert"
# Events that record a reading or a bookkeeping step, not a change: they block nothing.
NOT_CHANGES = {"document.download", "enterprise_link.miss", "callback.draw"}
# Bookkeeping columns: a later change of only these blocks nothing, and the revert leaves them
# as they are (when someone last received an assignment: the assignment rule's tie-break).
BOOKKEEPING = {"last_assigned_at"}


def _bookkeeping(event: AuditEvent) -> bool:
    return not event.created_row and bool(event.changes) and set(event.changes) <= BOOKKEEPING
BLOCKED = _l("Changed since the import: revert is no longer possible.")

# What the audit trail calls the actions written here.
AUDIT_ACTIONS = {REVERT: _l("restored by reverting a spreadsheet import")}


@dataclass(frozen=True)
class Blocker:
    event_id: int
    occurred_at: dt.datetime
    user_id: int | None
    entity_type: str
    entity_id: int | None
    project_id: int | None
    action: str


def _events(batch: ImportBatch) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.import_batch_id == batch.id).order_by(AuditEvent.id)))


def _chunks(values: list):
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


def blockers(batch: ImportBatch, events: list[AuditEvent] | None = None,
             limit: int = 50) -> list[Blocker]:
    """The later changes (up to ``limit``) to what the batch wrote."""
    events = _events(batch) if events is None else events
    if not events:
        return []
    last = events[-1].id
    projects = sorted({e.project_id for e in events if e.project_id is not None})
    others = sorted({(e.entity_type, e.entity_id) for e in events
                     if e.project_id is None and e.entity_id is not None})
    conditions = [AuditEvent.project_id.in_(chunk) for chunk in _chunks(projects)]
    for chunk in _chunks(others):
        conditions.append(or_(*((AuditEvent.entity_type == t) & (AuditEvent.entity_id == i)
                                for t, i in chunk)))
    found: list[Blocker] = []
    for condition in conditions:
        rows = db.session.scalars(select(AuditEvent).where(
            AuditEvent.id > last, condition, AuditEvent.action.not_in(NOT_CHANGES),
            or_(AuditEvent.import_batch_id.is_(None), AuditEvent.import_batch_id != batch.id))
            .order_by(AuditEvent.id).execution_options(yield_per=500))
        for e in rows:
            if not _bookkeeping(e):
                found.append(Blocker(e.id, e.occurred_at, e.user_id, e.entity_type,
                                     e.entity_id, e.project_id, e.action))
            if len(found) >= limit:
                break
        rows.close()
        if len(found) >= limit:
            break
    return sorted(found, key=lambda b: b.event_id)[:limit]


def _models() -> dict:
    return {m.local_table.name: m.class_ for m in db.Model.registry.mappers}


def _python(column, value):
    """An audit event's JSON value back as the column's Python value."""
    if value is None:
        return None
    column_type = column.type
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    try:
        kind = column_type.python_type
    except NotImplementedError:
        return value
    if kind is dt.datetime:
        return dt.datetime.fromisoformat(value)
    if kind is dt.date:
        return dt.date.fromisoformat(value)
    if kind is decimal.Decimal:
        return decimal.Decimal(value)
    return value


def _restore(obj, changes: dict) -> None:
    mapper = type(obj).__mapper__
    for key, (old, _new) in changes.items():
        if key in BOOKKEEPING:
            continue
        if key in mapper.columns:
            setattr(obj, key, _python(mapper.columns[key], old))
        elif key in mapper.relationships and mapper.relationships[key].secondary is not None:
            related = mapper.relationships[key].mapper.class_
            removed, added = set(old or ()), set(_new or ())
            items = getattr(obj, key)
            for item in list(items):
                if str(item) in added:
                    items.remove(item)
            for item in db.session.scalars(select(related)):
                if str(item) in removed and item not in items:
                    items.append(item)


def revert(batch: ImportBatch, *, actor_id: int | None) -> int:
    """Undo the batch; returns how many records were deleted or restored."""
    lock(batch)
    if batch.status != BatchStatus.COMMITTED:
        raise InvalidState(_l("Only an imported batch can be reverted, once."), "status")
    events = _events(batch)
    if blockers(batch, events, limit=1):
        raise InvalidState(BLOCKED, "status")
    created = sorted({e.entity_id for e in events
                      if e.entity_type == "projects" and e.created_row})
    created_set = set(created)
    models = _models()
    audit.set_import_batch(db.session, batch.id)
    touched = 0
    try:
        for event in reversed(events):
            if event.project_id in created_set or event.entity_id is None:
                continue
            model = models.get(event.entity_type)
            obj = db.session.get(model, event.entity_id) if model is not None else None
            if obj is None:
                continue
            if event.created_row:
                db.session.delete(obj)
            else:
                _restore(obj, event.changes or {})
                audit.tag(obj, REVERT, f"#{batch.id}")
            touched += 1
            flush()
        now = utcnow()
        for chunk in _chunks(created):
            db.session.execute(insert(AuditEvent), [
                {"occurred_at": now, "user_id": actor_id, "entity_type": "projects",
                 "entity_id": pid, "project_id": pid, "action": REVERT, "changes": {},
                 "note": f"#{batch.id}", "import_batch_id": batch.id} for pid in chunk])
            db.session.execute(delete(Project).where(Project.id.in_(chunk)))
        touched += len(created)
    finally:
        audit.set_import_batch(db.session, None)
    db.session.expire_all()
    kept = sorted({e.project_id for e in events if e.project_id is not None} - created_set)
    if kept:
        forecasts.refresh_projects(kept, local_today(), work_calendar())
    batch.status = BatchStatus.REVERTED.value
    batch.reverted_at = utcnow()
    flush()
    return touched
