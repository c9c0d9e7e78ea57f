"""Writing alerts: the in-app notifications and, in the same transaction, the outbox rows for
the other channels (each recipient's email by their preferences, the park's WeCom group by the
park's choice).  A worker sends the outbox (crm/notifications/delivery.py), so a request never
waits on a mail server, and a change that rolls back takes its alerts with it.

Bulk by construction: a sweep that raises thousands of alerts writes them with one INSERT per
table (and a few lookups), whatever their number.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import insert, select

from crm.auth.models import User
from crm.db import utcnow
from crm.extensions import db
from crm.milestones.queries import work_calendar
from crm.notifications import schedule
from crm.notifications.models import (AlertPreference, Delivery, DeliveryStatus, Notification,
                                      ParkRobot)

EMAIL, WECOM = "email", "wecom"
OFF, IMMEDIATE, DIGEST = "off", "immediate", "digest"
MODES = (OFF, IMMEDIATE, DIGEST)
# Without a choice of their own, people get escalations at once and the rest in the digest.
IMMEDIATE_BY_DEFAULT = frozenset({"milestone_escalated", "blocker_escalated"})
_CHUNK = 500


@dataclass(frozen=True)
class Alert:
    """One thing to tell: the users to tell in the app (and on their channels), and the park
    whose group hears of it."""

    user_ids: Sequence[int]
    kind: str
    params: dict
    link: str | None = None
    project_id: int | None = None
    park_id: int | None = None
    recipients: tuple[int, ...] = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "recipients",
                           tuple(sorted({uid for uid in self.user_ids if uid is not None})))


def default_mode(kind: str) -> str:
    return IMMEDIATE if kind in IMMEDIATE_BY_DEFAULT else DIGEST


def mail_configured() -> bool:
    return bool(current_app.config.get("MAIL_HOST"))


def _clock(value: str) -> dt.time:
    """HH:MM; "24:00" is the end of the day."""
    if value == "24:00":
        return dt.time.max
    hours, minutes = value.split(":")
    return dt.time(int(hours), int(minutes))


def window() -> tuple[dt.time, dt.time]:
    start, end = current_app.config["ALERT_WINDOW"]
    return _clock(start), _clock(end)


def digest_time() -> dt.time:
    return _clock(current_app.config["ALERT_DIGEST_AT"])


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def release_time(now: dt.datetime, urgent: bool, calendar=None) -> dt.datetime:
    """When an immediate message raised at ``now`` (UTC) may go out, in UTC (quiet hours)."""
    local = now.astimezone(zone())
    at = schedule.send_at(local, calendar or work_calendar(), urgent=urgent, window=window())
    return at.replace(tzinfo=zone()).astimezone(dt.UTC)


def new_key(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(12)}"


def _chunks(ids: Sequence[int]):
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


def _email_choices(user_ids: Sequence[int], kinds: set[str]):
    """(user ids with an email address, {(user id, kind): mode} of their own choices)."""
    with_email: set[int] = set()
    choices: dict[tuple[int, str], str] = {}
    for chunk in _chunks(user_ids):
        with_email.update(db.session.scalars(select(User.id).where(
            User.id.in_(chunk), User.email.is_not(None), User.email != "",
            User.active.is_(True))))
        choices.update({(uid, kind): mode for uid, kind, mode in db.session.execute(
            select(AlertPreference.user_id, AlertPreference.kind, AlertPreference.mode)
            .where(AlertPreference.user_id.in_(chunk), AlertPreference.channel == EMAIL,
                   AlertPreference.kind.in_(sorted(kinds))))})
    return with_email, choices


def record(alerts: Iterable[Alert], *, now: dt.datetime | None = None) -> int:
    """Write the alerts: in-app notifications and outbox rows.  Returns the number of in-app
    notifications.  Flushes (bulk inserts), never commits."""
    alerts = [a for a in alerts if a.recipients or a.park_id is not None]
    if not alerts:
        return 0
    now = now or utcnow()
    in_app = [dict(user_id=uid, kind=a.kind, params=a.params, link=a.link,
                   project_id=a.project_id, created_at=now)
              for a in alerts for uid in a.recipients]
    if in_app:
        db.session.execute(insert(Notification), in_app)
    urgent_kinds = set(current_app.config["ALERT_URGENT_KINDS"])
    calendar = work_calendar()
    release = {flag: release_time(now, flag, calendar) for flag in (False, True)}
    outbox = []

    def add(alert: Alert, channel: str, status: str, user_id=None, park_id=None):
        urgent = alert.kind in urgent_kinds
        outbox.append(dict(key=new_key(channel), channel=channel, user_id=user_id,
                           park_id=park_id, kind=alert.kind, params=alert.params,
                           link=alert.link, project_id=alert.project_id, urgent=urgent,
                           status=status, attempts=0, created_at=now,
                           next_attempt_at=release[urgent] if status == DeliveryStatus.PENDING.value
                           else None))

    if mail_configured():
        users = sorted({uid for a in alerts for uid in a.recipients})
        with_email, choices = _email_choices(users, {a.kind for a in alerts})
        for alert in alerts:
            for uid in alert.recipients:
                if uid not in with_email:
                    continue
                mode = choices.get((uid, alert.kind), default_mode(alert.kind))
                if mode != OFF:
                    add(alert, EMAIL, DeliveryStatus.DIGEST.value if mode == DIGEST
                        else DeliveryStatus.PENDING.value, user_id=uid)
    parks = sorted({a.park_id for a in alerts if a.park_id is not None})
    if parks:
        robots = {park_id: set(kinds or ()) for park_id, kinds in db.session.execute(
            select(ParkRobot.park_id, ParkRobot.kinds).where(ParkRobot.park_id.in_(parks)))}
        for alert in alerts:
            if alert.kind in robots.get(alert.park_id, ()):
                add(alert, WECOM, DeliveryStatus.PENDING.value, park_id=alert.park_id)
    if outbox:
        db.session.execute(insert(Delivery), outbox)
    return len(in_app)
