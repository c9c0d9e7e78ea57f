"""In-app notifications: written when something happens to people (crm/workflows.py routes
the domain events here), read by their recipient.  Services flush but never commit."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select, update

from crm import labels
from crm.agents.models import Assignment, AssignmentRole
from crm.auth.models import Role, User, user_parks
from crm.db import utcnow
from crm.documents.models import GeneratedDocument
from crm.projects.models import Project
from crm.extensions import db
from crm.notifications.models import Notification
from crm.notifications.outbox import Alert
from crm.notifications import outbox
from crm.supervision import queries as supervision
from crm.supervision.models import ProblemLevel

DEADLINE_KINDS = {"due_soon": "milestone_due_soon", "overdue": "milestone_overdue"}


def notify(user_ids: Iterable[int], kind: str, params: dict, *, link: str | None = None,
           project_id: int | None = None, park_id: int | None = None) -> int:
    """Tell each distinct recipient (in the app, and on the channels they chose) and the
    park's group when it hears of ``kind``; returns how many in-app notifications were added."""
    return outbox.record([Alert(list(user_ids), kind, params, link, project_id, park_id)])


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
    alerts = []
    for kind, staff_id, project, role in events:
        for user_id, locale in accounts.get(staff_id, []):
            # The role is named in the recipient's language; the message is translated on display.
            with force_locale(locale or default):
                role_label = labels.label("assignment_role", role)
            alerts.append(Alert([user_id], kind, {"project": project.name, "role": role_label},
                                f"/projects/{project.id}", project.id))
    return outbox.record(alerts)


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
    alerts = []
    for row, state in rows:
        chaser = owners.get(row.owner_staff_id) or leads.get(row.project_id)
        recipients = ([chaser] if chaser else []) + managers.get(row.park_id, [])
        alerts.append(Alert(recipients, DEADLINE_KINDS[state],
                            {"milestone": row.name, "project": row.project_name,
                             "due": row.due_on.isoformat()},
                            f"/projects/{row.project_id}#milestone-{row.id}", row.project_id,
                            row.park_id))
    return outbox.record(alerts)


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
                  link=f"/projects/{case.project_id}/cases/{case.id}", project_id=case.project_id,
                  park_id=case.park_id)


def _project_people(project_id: int, roles) -> list[int]:
    """The user ids of the people serving the project in ``roles`` now."""
    return list(db.session.scalars(
        select(User.id).join(Assignment, Assignment.staff_id == User.staff_id)
        .where(Assignment.project_id == project_id, Assignment.ended_at.is_(None),
               Assignment.role.in_([r.value for r in roles]), User.active.is_(True))))


def summary(text: str, length: int = 60) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= length else text[:length - 1] + "…"


def announce_blocker(log) -> int:
    """A blocker was logged: the chief consultant, the lead agent and the park's managers are
    told (not its author), and the park's group when it hears of blockers."""
    project = log.project
    recipients = _project_people(project.id, (AssignmentRole.CONSULTANT,
                                              AssignmentRole.LEAD_AGENT))
    recipients += park_managers([project.park_id]).get(project.park_id, [])
    recipients = [uid for uid in recipients if uid != log.author_id]
    return notify(recipients, "blocker_opened",
                  {"project": project.name, "summary": summary(log.text)},
                  link=f"/projects/{project.id}#log-{log.id}", project_id=project.id,
                  park_id=project.park_id)


def announce_document(document_id: int) -> int:
    """A PDF is ready: whoever asked for it is told."""
    document = db.session.get(GeneratedDocument, document_id)
    if document is None or document.requested_by_id is None:
        return 0
    title = labels.label("document_kind", document.kind)
    return notify([document.requested_by_id], "document_ready",
                  {"document": title,
                   "project": document.project.name if document.project else title},
                  link=f"/documents/{document.id}", project_id=document.project_id)


def announce_deadlines_moved(year: int, moved: dict[int, int]) -> int:
    """A loaded schedule moved deadlines: each project's chief consultant and lead agent are
    told how many of its deadlines moved (bulk: a few queries whatever the number)."""
    if not moved:
        return 0
    ids = sorted(moved)
    people: dict[int, list[int]] = defaultdict(list)
    projects: dict[int, tuple[str, int]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for project_id, user_id in db.session.execute(
            select(Assignment.project_id, User.id)
            .join(User, User.staff_id == Assignment.staff_id)
            .where(Assignment.project_id.in_(chunk), Assignment.ended_at.is_(None),
                   Assignment.role.in_([AssignmentRole.CONSULTANT.value,
                                        AssignmentRole.LEAD_AGENT.value]),
                   User.active.is_(True))):
            people[project_id].append(user_id)
        projects.update({pid: (name, park_id) for pid, name, park_id in db.session.execute(
            select(Project.id, Project.name, Project.park_id).where(Project.id.in_(chunk)))})
    return outbox.record(
        Alert(people.get(pid, []), "deadlines_moved",
              {"year": year, "count": moved[pid], "project": projects[pid][0]},
              f"/projects/{pid}", pid, projects[pid][1])
        for pid in ids if pid in projects)


def announce_round(round_, kind: str = "round_opened", owed: dict[int, int] | None = None) -> int:
    """The reporters of a round are told how many reports they owe: when it opens, the working
    day before it is due, and when they are late (one alert per person, however many)."""
    owed = supervision.missing_reporters(round_.id) if owed is None else owed
    params = {"round": round_.title, "due": round_.due_on.isoformat()}
    return outbox.record(Alert([user_id], kind, {**params, "count": count},
                               f"/rounds/{round_.id}", None, round_.park_id)
                         for user_id, count in sorted(owed.items()))


def announce_problems(problems, event: str) -> int:
    """A problem taken to a department, or escalated: its owner and the park's managers are
    told (and the leaders, once it reaches the city)."""
    managers = park_managers([p.park_id for p in problems])
    leaders = []
    if event == "escalated" and any(p.level == ProblemLevel.CITY for p in problems):
        leaders = list(db.session.scalars(select(User.id).where(
            User.role == Role.LEADER.value, User.active.is_(True))))
    kind = "problem_raised" if event == "raised" else "problem_escalated"
    return outbox.record(
        Alert([p.owner_id, *managers.get(p.park_id, []),
               *(leaders if p.level == ProblemLevel.CITY else [])], kind,
              {"project": p.project.name, "department": p.department,
               "summary": summary(p.summary)},
              f"/problems/{p.id}", p.project_id, p.park_id)
        for p in problems)
