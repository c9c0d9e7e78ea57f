"""Park rosters: staff records, the parks they serve, leave and deactivation, and handing over
the projects of someone who leaves (deactivated, on long leave, or leaving a park).

Services flush but never commit; refusals raise DomainError (per form field) before anything
changes.  Someone who becomes unavailable while serving projects is announced
(``signals.staff_unavailable``: the workflows tell the park managers to hand them over).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, inspect, select

from crm import signals
from crm.agents.models import Assignment, Staff
from crm.agents.queries import HELPER, open_assignment_count
from crm.agents.services.staffing import (
    Pools, active_on_projects, announce, check_candidate, clean_text, end_assignment,
    start_assignment,
)
from crm.audit import services as audit
from crm.errors import DomainError, NotFound
from crm.db import parse_id, utcnow
from crm.extensions import db
from crm.transaction import lock
from crm.i18n import today as local_today
from crm.parks.models import Park
from crm.projects.models import Project, ProjectStatus


# What the audit trail calls the actions written here.
AUDIT_ACTIONS = {
    "staff.create": _l("added the staff member"),
    "staff.update": _l("changed the staff record"),
    "staff.leave": _l("recorded leave"),
    "staff.deactivate": _l("deactivated the staff member"),
    "roster.add": _l("added to a park's roster"),
    "roster.remove": _l("removed from a park's roster"),
}


def create_staff(park: Park, *, name: str, kind: str, phone: str | None, title: str | None,
                 capacity: int) -> Staff:
    """A new staff member serving ``park`` (fields are checked by the form)."""
    staff = Staff(name=name.strip(), kind=kind, phone=(phone or "").strip() or None,
                  title=(title or "").strip() or None, capacity=capacity, active=True)
    staff.parks = [park]
    db.session.add(staff)
    audit.tag(staff, "staff.create")
    db.session.flush()
    return staff


def add_to_park(park: Park, staff_id, *, anyone: bool = False) -> Staff:
    """An existing staff member also serves ``park`` from now on.

    A park manager may take only people who serve no park yet or whom an admin has released
    (``Staff.released``, cleared now); ``anyone`` (admins) may take anybody.  Anyone else is
    answered like an unknown id (nothing about another park's staff is given away).
    """
    staff_pk = parse_id(staff_id)
    staff = db.session.get(Staff, staff_pk, with_for_update=True) if staff_pk else None
    if staff is not None and park in staff.parks:
        raise DomainError(errors={"staff_id": _("%(name)s already serves this park.", name=staff.name)})
    if staff is None or not (anyone or staff.released or not staff.parks):
        raise NotFound(errors={"staff_id": _("There is no staff member with the id %(id)s.",
                                             id=str(staff_id)[:20])})
    staff.parks.append(park)
    staff.released = False
    audit.tag(staff, "roster.add", park.name)
    db.session.flush()
    return staff


def remove_from_park(park: Park, staff: Staff) -> None:
    """``staff`` no longer serves ``park``; refused while they serve projects there."""
    lock(staff)  # assignments in the park take the same row lock (Pools)
    if park not in staff.parks:
        raise DomainError(errors={"staff_id": _("%(name)s does not serve this park.", name=staff.name)})
    busy = db.session.scalar(
        select(func.count()).select_from(Assignment).join(Project, Project.id == Assignment.project_id)
        .where(Assignment.staff_id == staff.id, Assignment.ended_at.is_(None),
               Project.park_id == park.id, Project.status != ProjectStatus.DROPPED.value))
    if busy:
        raise DomainError(errors={"staff_id": _(
            "%(name)s still serves %(count)d projects in this park; hand them over first.",
            name=staff.name, count=busy)})
    staff.parks.remove(park)
    audit.tag(staff, "roster.remove", park.name)
    db.session.flush()


def update_staff(staff: Staff, *, capacity: int, on_leave_until: dt.date | None, active: bool,
                 phone: str | None, title: str | None, today: dt.date | None = None,
                 actor_id: int | None = None) -> bool:
    """Set capacity, leave, active flag and contact details (checked by the form).

    Returns True when the person just became unavailable (deactivated, or put on leave that
    covers today): their projects should then be handed over.
    """
    today = today or local_today()
    was_available = bool(staff.active) and not staff.on_leave(today)
    staff.capacity = capacity
    staff.on_leave_until = on_leave_until
    staff.active = active
    staff.phone = (phone or "").strip() or None
    staff.title = (title or "").strip() or None
    now_available = bool(staff.active) and not staff.on_leave(today)
    state = inspect(staff)
    changed = {a.key for a in state.mapper.column_attrs if state.attrs[a.key].history.has_changes()}
    if changed:
        audit.tag(staff, "staff.deactivate" if "active" in changed and not staff.active
                  else "staff.leave" if "on_leave_until" in changed else "staff.update")
    db.session.flush()
    became_unavailable = was_available and not now_available
    if became_unavailable:
        serving = open_assignment_count(staff.id)
        if serving:
            signals.staff_unavailable.send(staff, staff=staff, open_assignments=serving,
                                           actor_id=actor_id)
    return became_unavailable


# -- hand-over (deactivation, long leave) -----------------------------------------------------

AUTO, KEEP = "auto", "keep"


@dataclass(frozen=True)
class Handover:
    project: Project
    role: str
    previous: Staff
    successor: Staff | None  # None: a helper ended, or nobody eligible (the role is vacant)


def hand_over(staff: Staff, assignments: list[Assignment], choices: Mapping[int, str], *,
              actor_id: int | None, reason: str | None, handover_note: str | None,
              force: bool = False, today: dt.date | None = None) -> list[Handover]:
    """Move ``staff``'s given active assignments to other people, all or nothing.

    ``choices`` maps an assignment id to "auto" (the rule picks a successor; a helper role
    simply ends), "keep" (unchanged) or a staff id (picked by hand, checked like ``assign``).
    Errors are reported per row as ``choice_<assignment id>``.
    """
    today = today or local_today()
    errors: dict[str, str] = {}
    reason = clean_text(errors, "reason", reason, _("Give the reason for the hand-over."))
    handover_note = clean_text(errors, "handover_note", handover_note,
                          _("A reassignment needs a handover note for the new person."))
    pools = Pools()
    for park_id in sorted({a.project.park_id for a in assignments}):
        pools.roster(park_id)  # lock the rosters first (in a fixed order: no deadlock)
    for a in assignments:
        db.session.refresh(a)  # as committed now: a concurrent hand-over is seen, not redone
    serving = {pid: {a.staff_id for a in rows} - {staff.id}
               for pid, rows in active_on_projects({a.project_id for a in assignments}).items()}
    now = utcnow()
    plan: list[tuple[Assignment, Staff | None, bool, bool]] = []
    for a in assignments:
        name = f"choice_{a.id}"
        choice = str(choices.get(a.id, AUTO))
        if choice == KEEP:
            continue
        if a.staff_id != staff.id or not a.is_active:
            errors[name] = _("This assignment has already changed; reload the page.")
            continue
        on_project = serving.setdefault(a.project_id, set())
        if choice == AUTO:
            successor = None if a.role == HELPER else pools.pick(
                a.project.park_id, a.role, today, exclude=on_project | {staff.id})
            forced, automatic = False, successor is not None
        elif choice == str(staff.id):
            errors[name] = _("Choose someone other than %(name)s.", name=staff.name)
            continue
        else:
            successor, forced = check_candidate(errors, name, pools, a.project, a.role, choice, today,
                                             force, on_project)
            automatic = False
            if successor is None:
                continue
        if successor is not None:
            pools.took(successor, now)
            on_project.add(successor.id)
        plan.append((a, successor, forced, automatic))
    if errors:
        raise DomainError(errors=errors)
    for a, *_rest in plan:
        end_assignment(a, actor_id=actor_id, reason=reason)
    db.session.flush()
    outcomes, events = [], []
    for a, successor, forced, automatic in plan:
        events.append(("unassigned", staff.id, a.project, a.role))
        if successor is not None:
            start_assignment(a.project, a.role, successor, actor_id=actor_id, reason=reason,
                   handover_note=handover_note, forced=forced, automatic=automatic,
                   action="assignment.force" if forced else "assignment.reassign")
            events.append(("assigned", successor.id, a.project, a.role))
        outcomes.append(Handover(a.project, a.role, staff, successor))
    db.session.flush()
    announce(events)
    return outcomes
