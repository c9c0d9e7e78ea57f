"""Automatic audit trail.

Every insert, update and delete of an audited model is recorded, with the changed fields, by a
session hook, so no service can forget it.  A service that performs a domain action (a stage
change, a milestone pause) names it with ``tag(obj, action, note)`` before the flush; the
event then carries that action name and note instead of the generic "update".
"""

from __future__ import annotations

import datetime as dt
import decimal

from flask import has_request_context
from sqlalchemy import event, func, insert, inspect, select
from sqlalchemy.orm import Session, object_session

from crm.audit.models import AuditEvent

# Columns never written to the trail: secrets, blobs and bookkeeping.
_SKIPPED = {"password_hash", "session_token", "token_hash", "calendar_salt", "calendar_token_hash",
            "content", "version", "updated_at", "created_at"}
_SECRET = {"password_hash", "session_token", "token_hash", "calendar_salt", "calendar_token_hash"}

_TAGS_KEY = "audit_tags"
ACTOR_KEY = "audit_actor_id"
BATCH_KEY = "audit_import_batch_id"


def tag(obj, action: str, note: str | None = None) -> None:
    """Name the domain action of the next change of ``obj`` (and an optional note)."""
    session = object_session(obj)
    if session is None:
        raise ValueError(f"{obj!r} is not in a session; add it before tagging")
    session.info.setdefault(_TAGS_KEY, {})[id(obj)] = (action, note)


def record(session: Session, action: str, entity, note: str | None = None, changes=None) -> None:
    """Record an event that is not a row change (a download, a failed attempt...)."""
    session.add(
        AuditEvent(
            user_id=_actor_id(session),
            entity_type=_entity_type(entity),
            entity_id=getattr(entity, "id", None),
            project_id=_project_id(entity),
            action=action,
            changes=changes or {},
            note=note,
            import_batch_id=session.info.get(BATCH_KEY),
        )
    )


def set_actor(session: Session, user_id: int | None) -> None:
    """Who acts in this session when there is no logged-in user (CLI, jobs)."""
    session.info[ACTOR_KEY] = user_id


def set_import_batch(session: Session, batch_id: int | None) -> None:
    """Tag every change recorded in this session with an import batch (None: stop tagging);
    the batch's revert finds what it wrote by this tag."""
    if batch_id is None:
        session.info.pop(BATCH_KEY, None)
    else:
        session.info[BATCH_KEY] = batch_id


def _actor_id(session: Session) -> int | None:
    if ACTOR_KEY in session.info:
        return session.info[ACTOR_KEY]
    if has_request_context():
        from flask_login import current_user

        if current_user and current_user.is_authenticated:
            return current_user.id
    return None


def _entity_type(obj) -> str:
    return getattr(obj, "__tablename__", type(obj).__name__.lower())


def _project_id(obj) -> int | None:
    if _entity_type(obj) == "projects":
        return obj.id
    return getattr(obj, "project_id", None)


_PLAIN = (str, int, float, bool, type(None))


def _jsonable(value):
    if type(value) in _PLAIN:
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _column_changes(obj, *, created: bool = False, deleted: bool = False) -> dict:
    state = inspect(obj)
    changes = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in _SKIPPED and key not in _SECRET:
            continue
        if key in _SECRET:
            if not created and not deleted and state.attrs[key].history.has_changes():
                changes[key] = ["***", "***"]
            continue
        if deleted:
            value = state.attrs[key].loaded_value
            changes[key] = [_jsonable(value), None]
            continue
        history = state.attrs[key].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if created:
            if new is None:
                continue
            changes[key] = [None, _jsonable(new)]
        elif _jsonable(old) != _jsonable(new):
            changes[key] = [_jsonable(old), _jsonable(new)]
    # Many-to-many memberships (a staff member's parks, a manager's parks).
    for rel in state.mapper.relationships:
        if rel.secondary is None or deleted:
            continue
        history = state.attrs[rel.key].history
        if history.added or history.deleted:
            changes[rel.key] = [
                sorted(str(o) for o in history.deleted), sorted(str(o) for o in history.added)
            ]
    return changes


def _collect(session: Session) -> list[dict]:
    tags = session.info.get(_TAGS_KEY, {})
    actor = _actor_id(session)
    rows = []
    for objects, kind in ((session.new, "create"), (session.dirty, "update"), (session.deleted, "delete")):
        for obj in objects:
            if not getattr(obj, "__audited__", True) or isinstance(obj, AuditEvent):
                continue
            if kind == "update" and not session.is_modified(obj):
                continue
            changes = _column_changes(obj, created=kind == "create", deleted=kind == "delete")
            action, note = tags.pop(id(obj), (kind, None))
            if kind == "update" and not changes and action == "update":
                continue
            rows.append(
                {"obj": obj, "kind": kind, "action": action, "note": note, "changes": changes,
                 "user_id": actor}
            )
    return rows


def _before_flush(session, flush_context, instances):
    session.info["audit_pending"] = _collect(session)


_SESSION_ACTOR = object()


def event_row(session: Session, *, entity_type: str, entity_id, project_id: int | None,
              action: str, changes: dict, note: str | None = None, created: bool = False,
              user_id=_SESSION_ACTOR, now: dt.datetime | None = None) -> dict:
    """One audit event's values, as the session hook writes them (the session's import batch
    and, unless given, its actor)."""
    return {
        "occurred_at": now or dt.datetime.now(dt.timezone.utc),
        "user_id": _actor_id(session) if user_id is _SESSION_ACTOR else user_id,
        "entity_type": entity_type,
        "entity_id": entity_id if isinstance(entity_id, int) else None,
        "project_id": project_id,
        "action": action,
        "changes": changes,
        "note": note,
        "import_batch_id": session.info.get(BATCH_KEY),
        "created_row": True if created else None,
    }


def created_changes(values: dict) -> dict:
    """The changes of a row inserted with ``values`` (a bulk insert's row), as the hook
    records an inserted object's: every column set, bookkeeping and secrets left out."""
    return {key: [None, _jsonable(value)] for key, value in values.items()
            if value is not None and key not in _SKIPPED}


def changed_values(before: dict, after: dict) -> dict:
    """The changes between two states of a row's columns, as the hook records an update."""
    changes = {}
    for key, new in after.items():
        old = before.get(key)
        if old is new or key in _SKIPPED:
            continue
        if _jsonable(old) != _jsonable(new):
            changes[key] = [_jsonable(old), _jsonable(new)]
    return changes


def insert_created(session: Session, table, rows: list[dict], *, project_of,
                   action: str = "create", note: str | None = None) -> list[int]:
    """Insert ``rows`` into ``table`` (bulk writers that bypass the session and its hook) and
    audit each as the hook audits an inserted object; ``project_of(id, row)`` names its
    project.  Returns the new rows' ids, in the order of ``rows``."""
    if not rows:
        return []
    ids = insert_ids(session, table, rows)
    actor, now = _actor_id(session), dt.datetime.now(dt.timezone.utc)
    write_events(session, [
        event_row(session, entity_type=table.name, entity_id=new_id,
                  project_id=project_of(new_id, row), action=action,
                  changes=created_changes(row), note=note, created=True, user_id=actor, now=now)
        for new_id, row in zip(ids, rows)])
    return ids


def insert_ids(session: Session, table, rows: list[dict]) -> list[int]:
    """Insert ``rows``; their new ids, in the order of ``rows``.

    PostgreSQL: the ids are drawn from the table's sequence first, then the rows are sent as
    one pipelined batch (a RETURNING in row order would make SQLAlchemy send statements of a
    thousand rows each, which the driver parses slowly).  SQLite: multi-row statements whose
    ids are asked for unordered and sorted — it numbers the rows it inserts one after the
    other, in the order sent (a new rowid is one more than the largest, under the
    transaction's write lock)."""
    if session.get_bind().dialect.name == "postgresql":
        sequence = func.pg_get_serial_sequence(table.name, "id")
        ids = sorted(session.execute(select(func.nextval(sequence)).select_from(
            func.generate_series(1, len(rows)))).scalars())
        session.execute(insert(table), [{**row, "id": new_id} for new_id, row in zip(ids, rows)])
        return ids
    return sorted(session.execute(insert(table).returning(table.c.id), rows).scalars())


def write_events(session: Session, values: list[dict]) -> None:
    """Insert audit events built by ``event_row`` (bulk writers that bypass the session hook)."""
    if values:
        session.connection().execute(insert(AuditEvent), values)


def _after_flush(session, flush_context):
    rows = session.info.pop("audit_pending", [])
    if not rows:
        return
    now = dt.datetime.now(dt.timezone.utc)
    values = []
    for row in rows:
        obj = row["obj"]
        state = inspect(obj)
        # New rows have no identity key until the flush finishes; their primary key is set.
        key = state.identity or state.mapper.primary_key_from_instance(obj)
        values.append(event_row(session, entity_type=_entity_type(obj),
                            entity_id=key[0] if key else None, project_id=_project_id(obj),
                            action=row["action"], changes=row["changes"], note=row["note"],
                            created=row["kind"] == "create", user_id=row["user_id"], now=now))
    write_events(session, values)


def _after_rollback(session, previous_transaction=None):
    session.info.pop("audit_pending", None)
    session.info.pop(_TAGS_KEY, None)


_HOOKS = (("before_flush", _before_flush), ("after_flush", _after_flush),
          ("after_soft_rollback", _after_rollback))


def install(session_class=Session) -> None:
    """Attach the audit hooks to a session class; safe to call once per app."""
    for name, fn in _HOOKS:
        if not event.contains(session_class, name, fn):
            event.listen(session_class, name, fn)
