"""Staff assignment: the rule applied to a park's roster, manual assignment and reassignment,
helper agents.  The building blocks are shared with roster.py (hand-over).

A person's *load* is the number of active projects they actively serve, in any role
(agents/queries.py).  Services flush but never commit.  A refused change raises DomainError
before anything changes, with a translated message per form field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from crm import signals
from crm.agents.assignment import Candidate, pick
from crm.agents.models import Assignment, Staff
from crm.agents.queries import (
    CONSULTANT, HELPER, KIND_OF_ROLE, LEAD_AGENT, PRINCIPAL_ROLES, loads, roster_ids,
)
from crm.audit import services as audit
from crm.db import parse_id, utcnow
from crm.errors import DomainError
from crm.extensions import db
from crm.transaction import lock
from crm.i18n import today as local_today
from crm.projects.models import Project, ProjectStatus

MAX_TEXT = 1000

# What the audit trail calls the actions written here.
AUDIT_ACTIONS = {
    "assignment.assign": _l("assigned"),
    "assignment.reassign": _l("reassigned (with a handover note)"),
    "assignment.force": _l("assigned over capacity or during leave (with a reason)"),
    "assignment.end": _l("ended the assignment"),
    "assignment.helper_end": _l("ended the helper role"),
}


class Pools:
    """The rosters of the parks a change touches, with everyone's load, kept up to date in
    memory while one transaction assigns several projects.

    On PostgreSQL the roster rows are locked (FOR UPDATE), so two requests assigning in the
    same park take turns and nobody is pushed past capacity by a race.
    """

    def __init__(self, *, lock: bool = True):
        self.lock = lock
        self._rosters: dict[int, dict[int, Staff]] = {}
        self.load: dict[int, int] = {}
        self.last: dict[int, dt.datetime | None] = {}

    def roster(self, park_id: int) -> dict[int, Staff]:
        if park_id not in self._rosters:
            query = select(Staff).where(Staff.id.in_(roster_ids(park_id))).order_by(Staff.id)
            if self.lock:
                query = query.with_for_update(of=Staff)
            staff = list(db.session.scalars(query))
            new = [s.id for s in staff if s.id not in self.load]
            counted = loads(new) if new else {}
            for person in staff:
                if person.id in new:
                    self.load[person.id] = counted.get(person.id, 0)
                    self.last[person.id] = person.last_assigned_at
            self._rosters[park_id] = {s.id: s for s in staff}
        return self._rosters[park_id]

    def pick(self, park_id: int, role: str, today: dt.date, exclude: Iterable[int] = ()) -> Staff | None:
        roster = self.roster(park_id)
        skip = set(exclude)
        chosen = pick([
            Candidate(s.id, s.capacity, self.load[s.id], bool(s.active), s.on_leave_until,
                      self.last[s.id])
            for s in roster.values() if s.kind == KIND_OF_ROLE[role] and s.id not in skip
        ], today)
        return roster[chosen.staff_id] if chosen else None

    def took(self, staff: Staff, when: dt.datetime) -> None:
        self.load[staff.id] = self.load.get(staff.id, 0) + 1
        self.last[staff.id] = when


# -- building blocks --------------------------------------------------------------------------

def clean_text(errors: dict, name: str, value: str | None, required_message: str | None) -> str | None:
    value = (value or "").strip() or None
    if value is None and required_message:
        errors[name] = required_message
    elif value is not None and len(value) > MAX_TEXT:
        errors[name] = _("Use at most %(max)d characters.", max=MAX_TEXT)
    return value


def start_assignment(project: Project, role: str, staff: Staff, *, actor_id: int | None, action: str,
           reason: str | None = None, handover_note: str | None = None, forced: bool = False,
           automatic: bool = False) -> Assignment:
    now = utcnow()
    assignment = Assignment(project_id=project.id, project=project, staff_id=staff.id, staff=staff,
                            role=role, started_at=now, assigned_by_id=actor_id, reason=reason,
                            handover_note=handover_note, forced=forced, automatic=automatic)
    db.session.add(assignment)
    audit.tag(assignment, action, reason)
    staff.last_assigned_at = now
    return assignment


def end_assignment(assignment: Assignment, *, actor_id: int | None, reason: str | None,
         action: str = "assignment.end") -> None:
    assignment.ended_at = utcnow()
    assignment.ended_by_id = actor_id
    assignment.end_reason = reason
    audit.tag(assignment, action, reason)


def active_on_projects(project_ids: Iterable[int]) -> dict[int, list[Assignment]]:
    """The active assignments of each project (one query)."""
    result: dict[int, list[Assignment]] = {}
    ids = list(project_ids)
    if ids:
        for a in db.session.scalars(select(Assignment).where(
                Assignment.project_id.in_(ids), Assignment.ended_at.is_(None))):
            result.setdefault(a.project_id, []).append(a)
    return result


def check_candidate(errors: dict, name: str, pools: Pools, project: Project, role: str | None,
                 staff_id, today: dt.date, force: bool, serving: set[int]) -> tuple[Staff | None, bool]:
    """The person chosen by hand for ``role`` on ``project``, or an error under ``name``.

    Returns (staff, forced): ``forced`` when only "assign anyway" lets it through (on leave,
    or at capacity).  ``serving``: who already serves the project (in any role).
    """
    if staff_id is None or staff_id == "":
        errors[name] = _("Choose a staff member.")
        return None, False
    staff_pk = parse_id(staff_id)
    staff = pools.roster(project.park_id).get(staff_pk) if staff_pk else None
    if staff is None:
        # Someone of another park is answered like an unknown id: no name is given away.
        errors[name] = _("There is no staff member with the id %(id)s.", id=str(staff_id)[:20])
        return None, False
    values = {"name": staff.name}
    if role is None:
        pass  # the role itself is wrong; that error is reported on its own field
    elif staff.kind != KIND_OF_ROLE[role]:
        errors[name] = (_("%(name)s is a project agent; only a chief consultant can take this role.", **values)
                        if role == CONSULTANT else
                        _("%(name)s is a chief consultant; only project agents can be lead or helper agents.", **values))
    elif not staff.active:
        errors[name] = _("%(name)s is deactivated.", **values)
    elif staff.id in serving:
        errors[name] = _("%(name)s already serves this project.", **values)
    else:
        problem = None
        if staff.on_leave(today):
            problem = _("%(name)s is on leave until %(date)s.", date=staff.on_leave_until.isoformat(), **values)
        elif pools.load[staff.id] >= staff.capacity:
            problem = _("%(name)s already serves %(load)d active projects (capacity %(capacity)d).",
                        load=pools.load[staff.id], capacity=staff.capacity, **values)
        if problem is None:
            return staff, False
        if force:
            return staff, True
        errors[name] = problem + " " + _("Tick “Assign anyway” and give the reason to override.")
    return None, False


def announce(events: list[tuple[str, int, Project, str]]) -> None:
    """Announce who started or stopped serving which project: (kind, staff_id, project, role)
    with kind "assigned" or "unassigned" (the workflows notify the people concerned)."""
    if events:
        signals.assignments_changed.send(None, events=events)


# -- automatic assignment ---------------------------------------------------------------------

@dataclass
class AutoResult:
    project: Project
    assigned: dict[str, Staff] = field(default_factory=dict)  # role -> the person chosen
    unassigned: list[str] = field(default_factory=list)  # roles nobody eligible could take

    @property
    def complete(self) -> bool:
        return not self.unassigned


def _check_not_dropped(project: Project) -> None:
    if project.status == ProjectStatus.DROPPED.value:
        raise DomainError(_("A dropped project gets no staff."), "project")


def _by_rule(project: Project, pools: Pools, today: dt.date,
             current: list[Assignment]) -> AutoResult:
    """Who the rule gives the project for each principal role it lacks (nothing written)."""
    _check_not_dropped(project)
    filled = {a.role for a in current}
    serving = {a.staff_id for a in current}
    result = AutoResult(project)
    for role in PRINCIPAL_ROLES:
        if role in filled:
            continue
        chosen = pools.pick(project.park_id, role, today, exclude=serving)
        if chosen is None:
            result.unassigned.append(role)
            continue
        serving.add(chosen.id)
        result.assigned[role] = chosen
    return result


_DEFERRED = "staffing_deferred"


@contextmanager
def deferred(today: dt.date | None = None):
    """Within the block, ``auto_assign`` (without pools of its own) only notes its projects;
    they get their staff at the end, in bulk and in the order noted (``auto_assign_bulk``).
    For bulk work such as an import."""
    session = db.session
    if _DEFERRED in session.info:
        yield
        return
    pending = session.info[_DEFERRED] = []
    try:
        yield
    finally:
        session.info.pop(_DEFERRED, None)
    by_actor: dict = {}
    for project, actor_id in pending:
        by_actor.setdefault(actor_id, []).append(project)
    for actor_id, projects in by_actor.items():
        auto_assign_bulk(projects, actor_id, today=today)


def auto_assign(project: Project, actor_id: int | None = None, *, pools: Pools | None = None,
                today: dt.date | None = None) -> AutoResult:
    """Give the project, by the rule, a chief consultant and a lead agent for each it lacks.

    Safe right after the project is flushed (it needs ``id`` and ``park_id``).  A role nobody
    is eligible for stays empty, and the project waits in its park's unassigned queue.
    """
    pending = db.session.info.get(_DEFERRED)
    if pending is not None and pools is None:
        _check_not_dropped(project)
        pending.append((project, actor_id))
        return AutoResult(project)
    pools = pools or Pools()
    pools.roster(project.park_id)  # lock the park's roster first: concurrent changes take turns
    today = today or local_today()
    current = active_on_projects([project.id]).get(project.id, [])
    result = _by_rule(project, pools, today, current)
    events = []
    for role, chosen in result.assigned.items():
        assignment = start_assignment(project, role, chosen, actor_id=actor_id, action="assignment.assign",
                            automatic=True)
        pools.took(chosen, assignment.started_at)
        events.append(("assigned", chosen.id, project, role))
    db.session.flush()
    announce(events)
    return result


def auto_assign_bulk(projects: list[Project], actor_id: int | None = None,
                     today: dt.date | None = None) -> list[AutoResult]:
    """``auto_assign`` for many projects in order, loads kept current between them, the
    assignments written with a few bulk statements (audited as the session hook would) and
    announced at once."""
    if not projects:
        return []
    session = db.session
    pools = Pools()
    for park_id in sorted({p.park_id for p in projects}):
        pools.roster(park_id)  # the rosters' locks first, in a fixed order
    today = today or local_today()
    current = active_on_projects([p.id for p in projects])
    results, rows, events = [], [], []
    for project in projects:
        result = _by_rule(project, pools, today, current.get(project.id, []))
        results.append(result)
        for role, chosen in result.assigned.items():
            now = utcnow()
            rows.append({"project_id": project.id, "staff_id": chosen.id, "role": role,
                         "started_at": now, "assigned_by_id": actor_id, "forced": False,
                         "automatic": True})
            chosen.last_assigned_at = now
            pools.took(chosen, now)
            events.append(("assigned", chosen.id, project, role))
    if rows:
        audit.insert_created(session, Assignment.__table__, rows, action="assignment.assign",
                             project_of=lambda _id, row: row["project_id"])
        for project in projects:
            session.expire(project, ["assignments"])
        session.flush()  # the staff's last assignment (bookkeeping)
    announce(events)
    return results


def auto_assign_many(projects: Iterable[Project], actor_id: int | None = None,
                     today: dt.date | None = None) -> list[AutoResult]:
    """``auto_assign`` for several projects, with loads kept current between them."""
    pools = Pools()
    today = today or local_today()
    return [auto_assign(p, actor_id, pools=pools, today=today) for p in projects]


# -- by hand ----------------------------------------------------------------------------------

def assign(project: Project, role: str, staff_id, *, actor_id: int | None, reason: str | None,
           handover_note: str | None = None, force: bool = False,
           today: dt.date | None = None) -> Assignment:
    """Make someone from the park's roster the project's chief consultant or lead agent.

    Replacing someone needs a handover note; the previous assignment ends and stays as
    history.  A person on leave or at capacity needs ``force`` (recorded as forced).
    """
    today = today or local_today()
    errors: dict[str, str] = {}
    if role not in PRINCIPAL_ROLES:
        errors["role"] = _("Choose the chief consultant or the lead agent.")
        role = None
    reason = clean_text(errors, "reason", reason, _("Give the reason for this assignment."))
    pools = Pools()
    pools.roster(project.park_id)  # lock the park's roster first: concurrent changes take turns
    current_rows = active_on_projects([project.id]).get(project.id, [])
    current = next((a for a in current_rows if a.role == role), None) if role else None
    handover_note = clean_text(errors, "handover_note", handover_note,
                          _("A reassignment needs a handover note for the new person.") if current else None)
    promoted = None
    serving = {a.staff_id for a in current_rows}
    if role == LEAD_AGENT:  # a helper agent may become the lead agent
        promoted = next((a for a in current_rows if a.role == HELPER and str(a.staff_id) == str(staff_id)), None)
        if promoted:
            serving.discard(promoted.staff_id)
    if current and str(current.staff_id) == str(staff_id):
        errors["staff_id"] = _("%(name)s already holds this role.", name=current.staff.name)
    else:
        if promoted:  # the project already counts in their load
            pools.load[promoted.staff_id] -= 1
        staff, forced = check_candidate(errors, "staff_id", pools, project, role, staff_id, today,
                                     force, serving)
    if errors:
        raise DomainError(errors=errors)
    for old in (current, promoted):
        if old is not None:
            end_assignment(old, actor_id=actor_id, reason=reason)
    db.session.flush()  # free the one-active-per-role slot before taking it
    action = "assignment.force" if forced else "assignment.reassign" if current else "assignment.assign"
    new = start_assignment(project, role, staff, actor_id=actor_id, action=action, reason=reason,
                 handover_note=handover_note, forced=forced)
    db.session.flush()
    events = [("assigned", staff.id, project, role)]
    if current:
        events.append(("unassigned", current.staff_id, project, role))
    announce(events)
    return new


def add_helper(project: Project, staff_id, *, actor_id: int | None, reason: str | None,
               force: bool = False, today: dt.date | None = None) -> Assignment:
    """Add a helper agent (any number per project) from the park's roster."""
    today = today or local_today()
    errors: dict[str, str] = {}
    reason = clean_text(errors, "reason", reason, _("Give the reason for this assignment."))
    pools = Pools()
    pools.roster(project.park_id)  # lock first
    serving = {a.staff_id for a in active_on_projects([project.id]).get(project.id, [])}
    staff, forced = check_candidate(errors, "staff_id", pools, project, HELPER, staff_id, today,
                                 force, serving)
    if errors:
        raise DomainError(errors=errors)
    new = start_assignment(project, HELPER, staff, actor_id=actor_id, reason=reason, forced=forced,
                 action="assignment.force" if forced else "assignment.assign")
    db.session.flush()
    announce([("assigned", staff.id, project, HELPER)])
    return new


def end_helper(project: Project, assignment_id, *, actor_id: int | None, reason: str | None) -> Assignment:
    """A helper agent stops serving the project (the assignment stays as history)."""
    errors: dict[str, str] = {}
    reason = clean_text(errors, "reason", reason, _("Give the reason for this change."))
    assignment_pk = parse_id(assignment_id)
    assignment = db.session.get(Assignment, assignment_pk) if assignment_pk else None
    if assignment is not None:
        lock(assignment)  # ended by someone else meanwhile: refused, not ended twice
    if (assignment is None or assignment.project_id != project.id or assignment.role != HELPER
            or not assignment.is_active):
        errors["assignment_id"] = _("This helper agent does not serve the project (any more).")
    if errors:
        raise DomainError(errors=errors)
    end_assignment(assignment, actor_id=actor_id, reason=reason, action="assignment.helper_end")
    db.session.flush()
    announce([("unassigned", assignment.staff_id, project, HELPER)])
    return assignment
