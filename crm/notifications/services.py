"""In-app notifications: created by services and jobs, read by their recipient."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from crm.db import utcnow
from crm.extensions import db
from crm.notifications.models import Notification

# kind -> message template; params fill it at display time, in the reader's language.
MESSAGES = {
    "assigned": _l("You were assigned to %(project)s as %(role)s."),
    "unassigned": _l("You no longer serve %(project)s as %(role)s."),
    "milestone_due_soon": _l("%(milestone)s of %(project)s is due on %(due)s."),
    "milestone_overdue": _l("%(milestone)s of %(project)s is overdue (due %(due)s)."),
}


def notify(user_ids: Iterable[int], kind: str, params: dict, *, link: str | None = None,
           project_id: int | None = None) -> int:
    """Add one notification per distinct recipient; returns how many were added."""
    recipients = sorted({uid for uid in user_ids if uid is not None})
    for uid in recipients:
        db.session.add(Notification(user_id=uid, kind=kind, params=params, link=link,
                                    project_id=project_id))
    db.session.flush()
    return len(recipients)


def render(notification: Notification) -> str:
    template = MESSAGES.get(notification.kind)
    if template is None:
        return notification.kind
    try:
        return str(template) % notification.params
    except (KeyError, TypeError, ValueError):
        return str(template)


def unread_count(user_id: int) -> int:
    return db.session.scalar(select(func.count()).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def recent(user_id: int, limit: int = 50) -> list[Notification]:
    return list(db.session.scalars(
        select(Notification).where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)))


def mark_read(user_id: int, notification_id: int | None = None) -> int:
    """Mark one (or, without an id, every) unread notification of the user as read."""
    statement = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))
    if notification_id is not None:
        statement = statement.where(Notification.id == notification_id)
    result = db.session.execute(statement.values(read_at=utcnow()))
    return result.rowcount
