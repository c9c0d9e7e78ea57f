"""Reading notifications: the unread count of the navigation bar, a user's latest, and each
one's message in the reader's language."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from crm.auth.models import User
from crm.parks.models import Park

from crm.extensions import db
from crm.milestones.models import Milestone
from crm.notifications.models import Delivery, Escalation, Notification
from crm.projects.models import ProgressLog
from crm.notifications import messages


def message(notification: Notification) -> str:
    return messages.text(notification.kind, notification.params or {})


def unread_count(user_id: int) -> int:
    return db.session.scalar(select(func.count()).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def recent(user_id: int, limit: int = 50) -> list[Notification]:
    return list(db.session.scalars(
        select(Notification).where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)))


def is_recipient(user_id: int, notification_id: int) -> bool:
    return db.session.scalar(select(Notification.id).where(
        Notification.id == notification_id, Notification.user_id == user_id)) is not None


def delivery_counts() -> dict[str, int]:
    """Deliveries by status (the delivery log's header)."""
    return dict(db.session.execute(
        select(Delivery.status, func.count()).group_by(Delivery.status)).all())


def delivery_page(status: str | None, page: int, size: int):
    """A page of the delivery log, newest first: (rows of (Delivery, user's name, park's
    name), whether there are more).  One query."""
    recipient = aliased(User)
    statement = (select(Delivery, recipient.display_name, Park.name)
                 .outerjoin(recipient, recipient.id == Delivery.user_id)
                 .outerjoin(Park, Park.id == Delivery.park_id)
                 .order_by(Delivery.id.desc()).offset((page - 1) * size).limit(size + 1))
    if status:
        statement = statement.where(Delivery.status == status)
    rows = db.session.execute(statement).all()
    return rows[:size], len(rows) > size


def delivery_message(item: Delivery) -> str:
    return messages.text(item.kind, item.params or {})


def project_escalations(project_id: int, limit: int = 20) -> list:
    """The escalation steps taken for a project's milestones and blockers, newest first:
    rows of (Escalation, the milestone's name or the blocker's text).  One query."""
    return db.session.execute(
        select(Escalation, func.coalesce(Milestone.name, ProgressLog.text))
        .outerjoin(Milestone, (Escalation.subject == "milestone")
                   & (Milestone.id == Escalation.subject_id))
        .outerjoin(ProgressLog, (Escalation.subject == "blocker")
                   & (ProgressLog.id == Escalation.subject_id))
        .where(Escalation.project_id == project_id)
        .order_by(Escalation.fired_at.desc(), Escalation.id.desc()).limit(limit)).all()
