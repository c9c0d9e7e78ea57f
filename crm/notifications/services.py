"""In-app notifications: written when something happens to people (crm/workflows.py routes
the domain events here), read by their recipient.  Services flush but never commit."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from crm import labels
from crm.agents.models import Assignment, AssignmentRole
from crm.auth.models import Role, User, user_parks
from crm.db import utcnow
from crm.extensions import db
from crm.notifications.models import Notification

# kind -> message template; params fill it at display time, in the reader's language.
MESSAGES = {
    "assigned": _l("You were assigned to %(project)s as %(role)s."),
    "unassigned": _l("You no longer serve %(project)s as %(role)s."),
    "milestone_due_soon": _l("%(milestone)s of %(project)s is due on %(due)s."),
    "milestone_overdue": _l("%(milestone)s of %(project)s is overdue (due %(due)s)."),
    "staff_unavailable": _l("%(name)s is no longer available and still serves %(count)s "
                            "projects: hand them over."),
    "case_opened": _l("A bad review of %(project)s to put right: classify it by %(due)s."),
}
DEADLINE_KINDS = {"due_soon": "milestone_due_soon", "overdue": "milestone_overdue"}


def notify(user_ids: Iterable[int], kind: str, params: dict, *, link: str | None = None,
           project_id: int | None = None) -> int:
    """Add one notification per distinct recipient; returns how many were added."""
    recipients = sorted({uid for uid in user_ids if uid is not None})
    for uid in recipients:
        db.session.add(Notification(user_id=uid, kind=kind, params=params, link=link,
                                    project_id=project_id))
    db.session.flush()
    return len(recipients)


def mark_read(user_id: int, notification_id: int | None = None) -> int:
    """Mark one (or, without an id, every) unread notification of the user as read."""
    statement = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))
    if notification_id is not None:
        statement = statement.where(Notification.id == notification_id)
    result = db.session.execute(statement.values(read_at=utcnow()))
    return result.rowcount


# -- what happened, to whom ---------------------------------------------------------------------

def park_managers(park_ids) -> dict[int, list[int]]:
    """The active park managers' user ids of each park (one query)."""
    managers: dict[int, list[int]] = defaultdict(list)
    ids = sorted(set(park_ids))
    if not ids:
        return managers
    for park_id, user_id in db.session.execute(
        select(user_parks.c.park_id, User.id).join(User, User.id == user_parks.c.user_id)
        .where(user_parks.c.park_id.in_(ids), User.role == Role.PARK_MANAGER.value,
               User.active.is_(True)).order_by(User.id)
    ):
        managers[park_id].append(user_id)
    return managers


def announce_assignments(events) -> int:
    """Notify the user accounts of the people concerned: (kind, staff_id, project, role)."""
    if not events:
        return 0
    rows = db.session.execute(select(User.id, User.staff_id, User.locale).where(
        User.staff_id.in_({e[1] for e in events}), User.active.is_(True))).all()
    accounts: dict[int, list[tuple[int, str | None]]] = {}
    for user_id, staff_id, locale in rows:
        accounts.setdefault(staff_id, []).append((user_id, locale))
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    sent = 0
    for kind, staff_id, project, role in events:
        for user_id, locale in accounts.get(staff_id, []):
            # The role is named in the recipient's language; the message is translated on display.
            with force_locale(locale or default):
                role_label = labels.label("assignment_role", role)
            sent += notify([user_id], kind, {"project": project.name, "role": role_label},
                           link=f"/projects/{project.id}", project_id=project.id)
    return sent


def announce_deadlines(rows) -> int:
    """Milestones that became due soon or overdue, ``rows`` of (MilestoneDue, state): each
    notifies its owner's user (else the project's lead agent's) and the park's managers."""
    if not rows:
        return 0
    milestones = [row for row, _state in rows]
    staff_ids = sorted({m.owner_staff_id for m in milestones if m.owner_staff_id})
    owners = dict(db.session.execute(select(User.staff_id, User.id).where(
        User.staff_id.in_(staff_ids), User.active.is_(True))).all()) if staff_ids else {}
    leads = dict(db.session.execute(
        select(Assignment.project_id, User.id)
        .join(User, User.staff_id == Assignment.staff_id)
        .where(Assignment.project_id.in_(sorted({m.project_id for m in milestones})),
               Assignment.ended_at.is_(None),
               Assignment.role == AssignmentRole.LEAD_AGENT.value, User.active.is_(True))
    ).all())
    managers = park_managers(m.park_id for m in milestones)
    sent = 0
    for row, state in rows:
        chaser = owners.get(row.owner_staff_id) or leads.get(row.project_id)
        recipients = ([chaser] if chaser else []) + managers.get(row.park_id, [])
        sent += notify(recipients, DEADLINE_KINDS[state],
                       {"milestone": row.name, "project": row.project_name,
                        "due": row.due_on.isoformat()},
                       link=f"/projects/{row.project_id}#milestone-{row.id}",
                       project_id=row.project_id)
    return sent


def announce_unavailable(staff, open_assignments: int, *, actor_id: int | None = None) -> int:
    """Tell the managers of the person's parks (but not the one who made the change) that
    the person's projects need handing over."""
    managers = park_managers(park.id for park in staff.parks)
    recipients = [uid for ids in managers.values() for uid in ids if uid != actor_id]
    return notify(recipients, "staff_unavailable",
                  {"name": staff.name, "count": open_assignments},
                  link=f"/parks/{staff.parks[0].id}/staff/{staff.id}/handover" if staff.parks else None)


def announce_case(case) -> int:
    """A bad review: the case's assignee and the park's managers are told (in-app)."""
    recipients = list(park_managers([case.park_id]).get(case.park_id, []))
    if case.assignee_staff_id is not None:
        recipients += db.session.scalars(select(User.id).where(
            User.staff_id == case.assignee_staff_id, User.active.is_(True))).all()
    return notify(recipients, "case_opened",
                  {"project": case.project.name, "due": case.due_on.isoformat()},
                  link=f"/projects/{case.project_id}/cases/{case.id}", project_id=case.project_id)
