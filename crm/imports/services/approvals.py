"""A ledger's approval progress (the second sheet): each row moves one milestone of a project
forward to what the ledger records — accepted, paused, resumed, completed — by the milestone
lifecycle's own rules (``lifecycle.apply_start`` … ``apply_complete``: the checks, the
deadline facts from the working-day calendar, the outcome), the project's stage advancing as
``lifecycle.next_stage`` says.

The rows are taken project by project, a few hundred projects at a time: their plans are read
with a few queries and locked (``forecasts.lock_plans``), every row is applied to the plans in
memory (a refused row is undone there and leaves nothing behind), then the changes are written
with a few bulk statements — the milestones, their pauses, the audit events tagged with the
batch as the session hook would write them, the stage changes (``advance_stages``); the
forecasts are refreshed once at the end of the import (``forecasts.deferred``).
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select, update

from crm.audit import services as audit
from crm.db import utcnow
from crm.errors import DomainError
from crm.extensions import db
from crm.imports.columns import normalise
from crm.imports.services import values
from crm.imports.services.rows import NEW, UNCHANGED, UPDATE, Row
from crm.milestones import graph
from crm.milestones.models import ApprovalItem, Milestone, MilestoneDependency, MilestonePause
from crm.milestones.queries import PAUSED, PENDING, RUNNING, DONE, work_calendar
from crm.milestones.services import forecasts, lifecycle, plans
from crm.projects.models import Project
from crm.projects.services import advance_stages

CHUNK = 500  # projects whose rows are applied and written together
LOOKUP_CHUNK = 500

NO_PROJECT = _l("No project in your parks has this code or name (projects on the first sheet "
                "count once imported).")
AMBIGUOUS = _l("Several projects in your parks have this name; give the project code.")
NO_ITEM = _l("This approval item is not in the project's plan, which has: %(items)s.")
NEED_ACCEPTED = _l("Give the acceptance date (受理日期) too.")
NEED_REASON = _l("Give the reason for the pause.")
ACCEPTED_DIFFERS = _l("Already accepted on %(date)s in Daiban; correct it on the milestone's page.")
COMPLETED_DIFFERS = _l("Already completed on %(date)s in Daiban; reopen it on the milestone's page.")
PARALLEL_REASON = _l("Accepted before its prerequisites were issued, as recorded in the "
                     "imported ledger.")
SERVICE_FIELDS = {"reason_code": "pause_reason"}  # service field -> progress column
DATES = ("accepted_on", "paused_on", "resumed_on", "completed_on")

# The milestone columns the lifecycle rules change, and those they read.
CHANGED = ("status", "accepted_on", "parallel_reason", "due_on", "due_provisional",
           "remaining_workdays", "notified_state", "completed_on", "outcome", "workdays_used",
           "approval_doc_no", "issuing_department")
READ = ("id", "project_id", "name", "stage", "sequence", "required", "limit_value",
        "limit_unit", "extension_workdays", "version")
PAUSE_COLUMNS = ("id", "milestone_id", "paused_on", "resumed_on", "reason_code")


class _Plain:
    """A row as an object the lifecycle rules can read and change."""

    def __init__(self, **fields):
        self.__dict__.update(fields)


class _Read:
    """What one progress row says, read from its cells."""

    def __init__(self, row: Row, choices):
        self.row = row
        self.item = row.read("item", values.text)
        self.dates = {name: row.read(name, values.date) for name in DATES}
        self.reason = choices.code("pause_reason", row.read("pause_reason", values.text))
        self.document = row.read("approval_doc_no", values.text)
        self.key = None
        if not row.problems:
            self.key = (row.read("project_code", values.text), row.read("project_name", values.text),
                        row.read("investor_credit_code", values.text))


class Approvals:
    """One run over a ledger's progress rows, for one user's parks."""

    def __init__(self, *, park_ids: set[int], actor_id: int | None, today, choices):
        self.park_ids = sorted(park_ids)
        self.actor_id = actor_id
        self.today = today
        self.choices = choices

    def rows(self, rows: list[Row], record: Callable[[Row, str | None], None]) -> None:
        """Every row (in the order things happened: ``ledger.progress_order``), each counted
        through ``record`` (its result, or None with its problems)."""
        read = [_Read(row, self.choices) for row in rows]
        found = self._projects({r.key for r in read if r.key is not None})
        by_project: dict[int, list[_Read]] = {}
        for r in read:
            if r.key is not None:
                project_id = self._found(r, found[r.key])
                if project_id is not None:
                    by_project.setdefault(project_id, []).append(r)
                    continue
            record(r.row, None)
        ids = list(by_project)
        for first in range(0, len(ids), CHUNK):
            chunk = ids[first:first + CHUNK]
            with plans.deferred():
                _Chunk(self, chunk).run({pid: by_project.pop(pid) for pid in chunk}, record)

    # -- which project ----------------------------------------------------------------------

    def _projects(self, keys: set) -> dict:
        """(code, name, credit code) -> the ids of the projects in the user's parks it names
        (by code when there is one, else by name, and credit code when given)."""
        codes = sorted({code.upper() for code, _name, _credit in keys if code})
        names = sorted({name for code, name, _credit in keys if not code and name})
        by_code: dict[str, list[int]] = {}
        by_name: dict[str, list[tuple[int, str | None]]] = {}
        for part in _parts(codes):
            for pid, code in db.session.execute(select(Project.id, Project.code).where(
                    Project.code.in_(part), Project.park_id.in_(self.park_ids))):
                by_code.setdefault(code, []).append(pid)
        for part in _parts(names):
            for pid, name, credit in db.session.execute(
                    select(Project.id, Project.name, Project.investor_credit_code)
                    .where(Project.name.in_(part), Project.park_id.in_(self.park_ids))
                    .order_by(Project.id)):
                by_name.setdefault(name, []).append((pid, credit))
        found = {}
        for key in keys:
            code, name, credit = key
            if code:
                found[key] = by_code.get(code.upper(), [])[:1]
            elif name:
                found[key] = [pid for pid, c in by_name.get(name, [])
                              if not credit or c == credit.upper()]
            else:
                found[key] = []
        return found

    @staticmethod
    def _found(r: _Read, ids: list[int]) -> int | None:
        code, name, _credit = r.key
        if len(ids) > 1:
            r.row.refuse("project_name", AMBIGUOUS)
            return None
        if not ids:
            r.row.refuse("project_code" if code or not name else "project_name", NO_PROJECT)
            return None
        return ids[0]


def _parts(values_: list):
    for first in range(0, len(values_), LOOKUP_CHUNK):
        yield values_[first:first + LOOKUP_CHUNK]


class _Chunk:
    """The plans of a few hundred projects, in memory while their rows are applied."""

    def __init__(self, run: Approvals, project_ids: list[int]):
        self.run_ = run
        self.calendar = work_calendar()
        session = db.session
        forecasts.lock_plans(project_ids)
        self.projects = {p.id: p for p in session.scalars(
            select(Project).where(Project.id.in_(project_ids)))}
        self.plans: dict[int, list[_Plain]] = {pid: [] for pid in project_ids}
        self.milestones: dict[int, _Plain] = {}
        for row in session.execute(
                select(*(Milestone.__table__.c[c] for c in READ + CHANGED), ApprovalItem.code)
                .outerjoin(ApprovalItem, ApprovalItem.id == Milestone.approval_item_id)
                .where(Milestone.project_id.in_(project_ids))
                .order_by(Milestone.project_id, Milestone.sequence, Milestone.id)):
            milestone = _Plain(**row._mapping, pauses=[], wanted={
                normalise(n) for n in (row.name, row.code) if n})
            self.plans[milestone.project_id].append(milestone)
            self.milestones[milestone.id] = milestone
        if self.milestones:
            for row in session.execute(
                    select(*(MilestonePause.__table__.c[c] for c in PAUSE_COLUMNS))
                    .join(Milestone, Milestone.id == MilestonePause.milestone_id)
                    .where(Milestone.project_id.in_(project_ids))
                    .order_by(MilestonePause.paused_on, MilestonePause.id)):
                self.milestones[row.milestone_id].pauses.append(_Plain(**row._mapping))
        self.needs: dict[int, list[int]] = {}
        for milestone_id, requires_id in session.execute(
                select(MilestoneDependency.milestone_id, MilestoneDependency.requires_id)
                .where(MilestoneDependency.project_id.in_(project_ids))
                .order_by(MilestoneDependency.id)):
            self.needs.setdefault(milestone_id, []).append(requires_id)
        self.before: dict[int, dict] = {}  # milestone id -> its columns as read
        self.events: list[tuple] = []  # (milestone or pause, action, note, changes)
        self.finished: set[int] = set()  # projects with a milestone completed

    def run(self, rows: dict[int, list[_Read]], record) -> None:
        for project_id, reads in rows.items():
            for r in reads:
                record(r.row, self._row(project_id, r))
        self._write()

    # -- one row, in memory ---------------------------------------------------------------------

    def _row(self, project_id: int, r: _Read) -> str | None:
        row, dates = r.row, r.dates
        plan = self.plans[project_id]
        wanted = normalise(r.item or "")
        milestone = next((m for m in plan if wanted in m.wanted), None)
        if milestone is None:
            row.refuse("item", NO_ITEM % {"items": "、".join(m.name for m in plan) or "—"})
            return None
        was_pending = milestone.status == PENDING
        if was_pending and dates["accepted_on"] is None and any(dates.values()):
            row.refuse("accepted_on", NEED_ACCEPTED)
            return None
        if dates["paused_on"] and not r.reason:
            row.refuse("pause_reason", NEED_REASON)
            return None
        saved = _state(milestone)
        events, finished = len(self.events), set(self.finished)
        self.before.setdefault(milestone.id, {c: getattr(milestone, c) for c in CHANGED})
        try:
            changed = self._advance(row, milestone, r)
        except DomainError as exc:
            row.refuse_error(exc, SERVICE_FIELDS)
        if row.problems:  # undo the row in memory
            _restore(milestone, saved)
            del self.events[events:]
            self.finished = finished
            return None
        if not changed:
            return UNCHANGED
        return NEW if was_pending else UPDATE

    def _step(self, milestone, apply, *args, **kwargs):
        """One transition by the lifecycle's rule, with its audit event(s)."""
        before = {c: getattr(milestone, c) for c in CHANGED}
        resumed = {id(p): p.resumed_on for p in milestone.pauses}
        result = apply(milestone, *args, calendar=self.calendar, **kwargs)
        record, (action, note) = (None, result) if isinstance(result, lifecycle.Tagged) else result
        if record is not None:
            record.milestone_id = milestone.id
            self.events.append((record, "create", None, None))
        for pause in milestone.pauses:
            if id(pause) in resumed and pause.resumed_on != resumed[id(pause)]:
                self.events.append((pause, "update", None, audit.changed_values(
                    {"resumed_on": resumed[id(pause)]}, {"resumed_on": pause.resumed_on})))
        after = {c: getattr(milestone, c) for c in CHANGED}
        self.events.append((milestone, action, note, audit.changed_values(before, after)))

    def _advance(self, row: Row, milestone, r: _Read) -> bool:
        """Move the milestone forward to what the row records; False when it already is."""
        today, run = self.run_.today, self.run_
        accepted, paused, resumed, completed = (r.dates[k] for k in DATES)
        changed = False
        if accepted is not None:
            if milestone.status == PENDING:
                statuses = {m.id: m.status for m in self.plans[milestone.project_id]}
                waiting = sorted((self.milestones[i] for i in graph.waiting_on(
                    milestone.id, statuses, self.needs)), key=lambda m: (m.sequence, m.id))
                self._step(milestone, lifecycle.apply_start, accepted_on=accepted, today=today,
                           parallel_reason=str(PARALLEL_REASON) if waiting else None,
                           waiting=waiting)
                changed = True
            elif milestone.accepted_on != accepted:
                row.refuse("accepted_on", ACCEPTED_DIFFERS % {
                    "date": milestone.accepted_on.isoformat() if milestone.accepted_on else "—"})
                return False
        if paused is not None and all(p.paused_on != paused for p in milestone.pauses) \
                and milestone.status == RUNNING:
            self._step(milestone, lifecycle.apply_pause, paused_on=paused, reason_code=r.reason,
                       today=today, document_ref=None, note=None, actor_id=run.actor_id)
            changed = True
        if resumed is not None and milestone.status == PAUSED:
            self._step(milestone, lifecycle.apply_resume, resumed_on=resumed, today=today)
            changed = True
        if completed is not None:
            if milestone.status != DONE:
                self._step(milestone, lifecycle.apply_complete, completed_on=completed,
                           today=today, approval_doc_no=r.document, issuing_department=None)
                self.finished.add(milestone.project_id)
                changed = True
            elif milestone.completed_on != completed:
                row.refuse("completed_on", COMPLETED_DIFFERS % {
                    "date": milestone.completed_on.isoformat()})
        return changed

    # -- the chunk's writes -----------------------------------------------------------------------

    def _write(self) -> None:
        session = db.session
        new_pauses = [e[0] for e in self.events if e[1] == "create"]
        if new_pauses:
            rows = [{"milestone_id": p.milestone_id, "paused_on": p.paused_on,
                     "resumed_on": p.resumed_on, "reason_code": p.reason_code,
                     "document_ref": p.document_ref, "note": p.note,
                     "created_by_id": p.created_by_id} for p in new_pauses]
            for pause, pause_id, values_ in zip(new_pauses, audit.insert_ids(
                    session, MilestonePause.__table__, rows), rows):
                pause.id, pause.values = pause_id, values_
        resumed = [{"b_id": p.id, "b_resumed": p.resumed_on} for p, action, *_ in self.events
                   if action == "update" and p.id is not None and not hasattr(p, "values")]
        if resumed:
            table = MilestonePause.__table__
            session.execute(update(table).where(table.c.id == bindparam("b_id"))
                            .values(resumed_on=bindparam("b_resumed")), resumed)
        changed = [m for m in self.milestones.values() if m.id in self.before
                   and any(getattr(m, c) != self.before[m.id][c] for c in CHANGED)]
        if changed:
            table = Milestone.__table__
            session.execute(
                update(table).where(table.c.id == bindparam("b_id")).values(
                    **{c: bindparam(f"b_{c}") for c in CHANGED},
                    version=bindparam("b_version") + 1, updated_at=utcnow()),
                [{"b_id": m.id, "b_version": m.version, **{f"b_{c}": getattr(m, c) for c in CHANGED}}
                 for m in changed])
            _expire({m.id for m in changed}, {p.id for m in changed for p in m.pauses})
        audit.write_events(session, [self._event(*e) for e in self.events])
        moves = []
        for project_id in sorted(self.finished):
            project = self.projects[project_id]
            required: dict[str, list[str]] = {}
            for m in self.plans[project_id]:
                if m.required:
                    required.setdefault(m.stage, []).append(m.status)
            stages, stage = [], project.stage
            while (stage := lifecycle.next_stage(stage, required.get(stage, ()))) is not None:
                stages.append(stage)
            if stages:
                moves.append((project, stages))
        advance_stages(moves, actor_id=self.run_.actor_id)
        touched = {m.project_id for m in changed}
        forecasts.refresh_projects(sorted(touched), self.run_.today, self.calendar)

    def _event(self, obj, action: str, note, changes) -> dict:
        session = db.session
        if isinstance(obj, MilestonePause) and hasattr(obj, "values"):
            if action == "create":
                return audit.event_row(session, entity_type="milestone_pauses", entity_id=obj.id,
                                   project_id=None, action="create",
                                   changes=audit.created_changes(obj.values), created=True)
        if isinstance(obj, (MilestonePause, _Plain)) and not hasattr(obj, "project_id"):
            return audit.event_row(session, entity_type="milestone_pauses", entity_id=obj.id,
                               project_id=None, action=action, changes=changes, note=note)
        return audit.event_row(session, entity_type="milestones", entity_id=obj.id,
                           project_id=obj.project_id, action=action, changes=changes, note=note)


def _state(milestone) -> tuple:
    return ({c: getattr(milestone, c) for c in CHANGED}, list(milestone.pauses),
            [(p, p.resumed_on) for p in milestone.pauses])


def _restore(milestone, saved: tuple) -> None:
    columns, pauses, resumed = saved
    for c, value in columns.items():
        setattr(milestone, c, value)
    milestone.pauses[:] = pauses
    for pause, value in resumed:
        pause.resumed_on = value


def _expire(milestone_ids: set[int], pause_ids: set[int]) -> None:
    """Loaded models read the rows written here afresh."""
    for obj in list(db.session.identity_map.values()):
        if (isinstance(obj, Milestone) and obj.id in milestone_ids) or \
                (isinstance(obj, MilestonePause) and obj.id in pause_ids):
            db.session.expire(obj)
