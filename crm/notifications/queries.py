"""Reading notifications: the unread count of the navigation bar, a user's latest, and each
one's message in the reader's language."""

from __future__ import annotations

from sqlalchemy import func, select

from crm.extensions import db
from crm.notifications.models import Notification
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
