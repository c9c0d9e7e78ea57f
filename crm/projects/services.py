"""Project services: register and edit projects, change stages (by hand with a reason, or
automatic), and the progress log: entries, blockers and their resolution, annotations.

- A blocker stays open until a resolution entry linked to it is logged, or someone closes it
  with a note.
- A log entry may be edited by its author for EDIT_WINDOW after it was written; after that it
  is only annotated.  Deleting an entry is an admin action (permissions.LOG_DELETE), audited.

What a change sets off in other packages (a new project's approval plan and staff, the plan of
a project reaching ``signed``) is announced with crm/signals.py and done by crm/workflows.py.
Services flush but never commit; a refused change raises DomainError before changing anything.
"""

from __future__ import annotations

import datetime as dt
import decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from crm import signals
from crm.audit import services as audit
from crm.db import utcnow
from crm.errors import DomainError, Forbidden, InvalidState
from crm.extensions import db
from crm.projects.models import LogAnnotation, LogKind, ProgressLog, Project, Stage, StageChange
from crm.transaction import flush, lock, stale

# The columns a project form may set (the park and the stage have their own rules).
EDITABLE_FIELDS = (
    "name", "investor_name", "investor_credit_code", "code", "investment", "industry",
    "approval_mode", "eia_category", "status", "description", "contact_name", "contact_phone",
    "signed_on", "expected_start_on",
)
EDIT_WINDOW = dt.timedelta(hours=24)
MAX_TEXT = 2000

CODE_TAKEN = _l("Another project already has this project code.")

# What the audit trail calls the actions written here.
AUDIT_ACTIONS = {
    "project.stage": _l("changed the stage by hand"),
    "project.stage_auto": _l("moved to the next stage automatically"),
    "blocker.resolve": _l("resolved by a resolution entry"),
    "blocker.close": _l("closed with a note"),
    "blocker.reopen": _l("reopened (its resolution was deleted)"),
    "log.delete": _l("deleted by an administrator"),
}


def _check_fields(data: dict) -> None:
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")  # a programming error, not input


def _check_code_free(code: str | None, project_id: int | None) -> None:
    if not code:
        return
    query = select(Project.id).where(Project.code == code)
    if project_id is not None:
        query = query.where(Project.id != project_id)
    if db.session.scalar(query) is not None:
        raise DomainError(CODE_TAKEN, "code")


def _flush_project() -> None:
    """Flush (a stale version is Conflict); a code taken by a concurrent request (the unique
    index) is the code's error.  Either way the caller's transaction rolls back."""
    try:
        flush()
    except IntegrityError as exc:
        if "code" in str(exc.orig).lower():
            raise DomainError(CODE_TAKEN, "code") from exc
        raise stale() from exc


def _check_stage(stage: str) -> None:
    if stage not in {s.value for s in Stage}:
        raise DomainError(_l("Choose a stage from the list."), "stage")


# -- projects ----------------------------------------------------------------------------------

def create_project(data: dict, *, park_id: int, stage: str, actor_id: int | None) -> Project:
    """Register a project in a park at a stage; ``data`` holds EDITABLE_FIELDS values.

    Records its first stage and announces it (``project_registered``): the workflows draw up
    its approval plan from ``signed`` on and give it staff by the park's rule.
    """
    _check_fields(data)
    _check_stage(stage)
    _check_code_free(data.get("code"), None)
    project = Project(park_id=park_id, stage=stage, created_by_id=actor_id, **data)
    db.session.add(project)
    _flush_project()
    db.session.add(StageChange(**_first_stage(project.id, project.stage, actor_id)))
    db.session.flush()
    signals.project_registered.send(project, project=project, actor_id=actor_id)
    return project


def _first_stage(project_id: int, stage: str, actor_id: int | None) -> dict:
    """The stage change that records a new project's first stage."""
    return {"project_id": project_id, "from_stage": None, "to_stage": stage,
            "changed_by_id": actor_id, "automatic": False}


def create_projects(items: list[tuple[dict, int, str]], *, actor_id: int | None) -> list[Project]:
    """``create_project`` for many projects at once, (data, park_id, stage) each, written with
    a few bulk statements (audited as the session hook would), then announced one by one
    (``project_registered``).  Raises DomainError before writing anything when a code is
    taken (by a project in the database or by two of ``items``).  For bulk work (an import):
    run it inside ``plans.deferred()`` and ``staffing.deferred()`` so the reactions are bulk
    too."""
    if not items:
        return []
    codes = []
    for data, _park_id, stage in items:
        _check_fields(data)
        _check_stage(stage)
        if data.get("code"):
            codes.append(data["code"])
    if len(set(codes)) != len(codes) or (codes and db.session.scalar(
            select(Project.id).where(Project.code.in_(codes)).limit(1)) is not None):
        raise DomainError(CODE_TAKEN, "code")
    session = db.session
    rows = [{"park_id": park_id, "stage": stage, "created_by_id": actor_id, **data}
            for data, park_id, stage in items]
    ids = audit.insert_created(session, Project.__table__, rows, project_of=lambda pid, _row: pid)
    _insert_stage_changes([_first_stage(pid, row["stage"], actor_id)
                           for pid, row in zip(ids, rows)])
    projects = list(session.scalars(select(Project).where(Project.id.in_(ids))
                                    .order_by(Project.id)))
    for project in projects:
        signals.project_registered.send(project, project=project, actor_id=actor_id)
    return projects


def update_project(project: Project, data: dict, *, expected_version: int | None) -> Project:
    """Apply ``data`` (EDITABLE_FIELDS values) if the project is still at ``expected_version``.

    Raises Conflict when someone else saved it in between, whether before this request loaded
    it (the form's version is old) or during it (the versioned UPDATE matches no row).
    """
    _check_fields(data)
    if expected_version is None or project.version != expected_version:
        raise stale()
    if "code" in data:
        _check_code_free(data["code"], project.id)
    for key, value in data.items():
        setattr(project, key, value)
    _flush_project()
    return project


def change_stage(project: Project, to_stage: str, *, reason: str | None, actor_id: int | None,
                 automatic: bool = False) -> StageChange:
    """Move the project to ``to_stage`` and record it.

    By hand (``automatic=False``) a reason is required.  Announced as ``stage_changed`` (the
    workflows draw up the plan of a project reaching ``signed`` or later) and, on reaching
    ``approved``, as ``project_approved``.
    """
    _check_stage(to_stage)
    if to_stage == project.stage:
        raise DomainError(_l("The project is already in this stage."), "stage")
    reason = (reason or "").strip()
    if not automatic and not reason:
        raise DomainError(_l("Give the reason for changing the stage by hand."), "reason")
    change = StageChange(project_id=project.id, from_stage=project.stage, to_stage=to_stage,
                         changed_by_id=actor_id, automatic=automatic, reason=reason or None)
    db.session.add(change)
    project.stage = to_stage
    project.stage_changed_at = utcnow()
    audit.tag(project, "project.stage_auto" if automatic else "project.stage", reason or None)
    flush()
    _announce_stage(project, change, actor_id)
    return change


def _insert_stage_changes(rows: list[dict]) -> list[int]:
    return audit.insert_created(db.session, StageChange.__table__, rows,
                                project_of=lambda _id, row: row["project_id"])


def _announce_stage(project: Project, change: StageChange, actor_id: int | None) -> None:
    signals.stage_changed.send(project, project=project, change=change, actor_id=actor_id)
    if change.to_stage == Stage.APPROVED.value:
        signals.project_approved.send(project, project=project, actor_id=actor_id)


def advance_stages(moves: list[tuple[Project, list[str]]], *, actor_id: int | None) -> int:
    """Automatic stage changes of many projects at once, each project through its list of
    stages in order (``lifecycle.next_stage`` decides them): recorded, audited and announced
    one change at a time as ``change_stage`` does, written with a few bulk statements.  The
    caller holds the projects' locks (``forecasts.lock_plans``).  Returns the changes made."""
    session = db.session
    changes, events, updates = [], [], []
    for project, stages in moves:
        before = {"stage": project.stage, "stage_changed_at": project.stage_changed_at}
        for to_stage in stages:
            _check_stage(to_stage)
            now = utcnow()
            changes.append({"project_id": project.id, "from_stage": before["stage"],
                            "to_stage": to_stage, "changed_at": now, "changed_by_id": actor_id,
                            "automatic": True, "reason": None})
            after = {"stage": to_stage, "stage_changed_at": now}
            events.append(audit.event_row(
                session, entity_type="projects", entity_id=project.id, project_id=project.id,
                action="project.stage_auto", changes=audit.changed_values(before, after)))
            before = after
        if stages:
            updates.append({"b_id": project.id, "b_stage": before["stage"],
                            "b_at": before["stage_changed_at"], "b_version": project.version})
    if not changes:
        return 0
    audit.write_events(session, events)
    ids = _insert_stage_changes(changes)
    projects_table = Project.__table__
    session.execute(
        update(projects_table).where(projects_table.c.id == bindparam("b_id"))
        .values(stage=bindparam("b_stage"), stage_changed_at=bindparam("b_at"),
                version=bindparam("b_version") + 1, updated_at=utcnow()), updates)
    by_id = {p.id: p for p, _stages in moves}
    for values in updates:
        project = by_id[values["b_id"]]
        set_committed_value(project, "stage", values["b_stage"])
        set_committed_value(project, "stage_changed_at", values["b_at"])
        set_committed_value(project, "version", values["b_version"] + 1)
    records = {c.id: c for c in session.scalars(select(StageChange).where(StageChange.id.in_(ids)))}
    for change_id, values in zip(ids, changes):
        _announce_stage(by_id[values["project_id"]], records[change_id], actor_id)
    return len(changes)


# -- the progress log --------------------------------------------------------------------------

def add_log(project: Project, *, author_id: int | None, kind: str, happened_on: dt.date,
            text: str, hours: decimal.Decimal | None = None, milestone_id: int | None = None,
            resolves: ProgressLog | None = None) -> ProgressLog:
    """Log what was done on ``project``.  A resolution may close one of its open blockers."""
    if kind not in {k.value for k in LogKind}:
        raise DomainError(_l("Choose a kind from the list."), "kind")
    if resolves is not None:
        lock(resolves)  # two resolutions at once: one links, the other is refused
        if kind != LogKind.RESOLUTION or resolves.project_id != project.id \
                or not resolves.is_open_blocker:
            raise InvalidState(_l("Choose an open blocker of this project."), "resolves")
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
    if kind == LogKind.BLOCKER:
        signals.blocker_opened.send(log, log=log)
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
        raise Forbidden(_l("Only its author can edit an entry, and only for 24 hours; add an "
                           "annotation instead."))
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
    """Close an open blocker with a note (no resolution entry).  Of two closing it at once,
    one wins; the other is refused (the row is locked, then checked)."""
    lock(log)
    if not log.is_open_blocker:
        raise InvalidState(_l("This entry is not an open blocker."), "note")
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
