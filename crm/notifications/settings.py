"""Who hears what, where: a user's email address and choices, a park's WeCom group robot.
Services: they flush and never commit.  The robot's key is a secret: kept, used by the
worker, and only ever shown masked."""

from __future__ import annotations

import re
import urllib.parse

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from crm.db import utcnow
from crm.extensions import db
from crm.notifications import outbox
from crm.notifications.messages import CHOOSABLE
from crm.notifications.models import AlertPreference, Delivery, DeliveryStatus, ParkRobot

WECOM_HOST = "qyapi.weixin.qq.com"
WECOM_PATH = "/cgi-bin/webhook/send"
_KEY = re.compile(r"[0-9A-Za-z-]{8,64}")
BAD_EMAIL = _l("Enter an email address such as name@example.gov.cn.")
BAD_ROBOT = _l("Paste the group robot's webhook address from WeCom: "
               "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…")


def normalise_email(value: str) -> str:
    """The address as it will be stored; ValueError (with the user's message) when invalid."""
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValueError(str(BAD_EMAIL)) from None


def robot_key(url: str) -> str:
    """The key of a WeCom group robot's webhook address; ValueError when the address is not
    one (only https, only WeCom's host and path: alerts never go anywhere else)."""
    parts = urllib.parse.urlsplit(url.strip())
    keys = urllib.parse.parse_qs(parts.query).get("key", [])
    if (parts.scheme != "https" or parts.hostname != WECOM_HOST or parts.port not in (None, 443)
            or parts.path != WECOM_PATH or parts.username or parts.password
            or len(keys) != 1 or not _KEY.fullmatch(keys[0])):
        raise ValueError(str(BAD_ROBOT))
    return keys[0]


def mask(key: str) -> str:
    """What the page shows of a robot's key: its last four characters."""
    return "…" + key[-4:]


def preferences(user_id: int) -> dict[str, str]:
    """The user's email mode of every choosable kind (their choice, else the default)."""
    chosen = dict(db.session.execute(
        select(AlertPreference.kind, AlertPreference.mode).where(
            AlertPreference.user_id == user_id, AlertPreference.channel == outbox.EMAIL)).all())
    return {kind: chosen.get(kind, outbox.default_mode(kind)) for kind in CHOOSABLE}


def save_preferences(user, email: str | None, modes: dict[str, str]) -> None:
    """Store the user's address and their choices (rows only where they differ from the
    default).  Without an address, waiting digest items are dropped (nowhere to send them)."""
    user.email = email or None
    db.session.execute(delete(AlertPreference).where(AlertPreference.user_id == user.id,
                                                     AlertPreference.channel == outbox.EMAIL))
    for kind, mode in modes.items():
        if kind in CHOOSABLE and mode in outbox.MODES and mode != outbox.default_mode(kind):
            db.session.add(AlertPreference(user_id=user.id, kind=kind, channel=outbox.EMAIL,
                                           mode=mode))
    if user.email is None:
        db.session.execute(delete(Delivery).where(
            Delivery.user_id == user.id, Delivery.status == DeliveryStatus.DIGEST.value))
    db.session.flush()


def park_robot(park_id: int) -> ParkRobot | None:
    return db.session.get(ParkRobot, park_id)


def save_robot(park_id: int, url: str | None, kinds: list[str], actor_id: int) -> ParkRobot:
    """Set the park's robot (a new address replaces the key; none keeps it) and its kinds."""
    robot = park_robot(park_id)
    if robot is None:
        if not url:
            raise ValueError(str(BAD_ROBOT))
        robot = ParkRobot(park_id=park_id)
        db.session.add(robot)
    if url:
        robot.robot_key = robot_key(url)
    robot.kinds = [kind for kind in CHOOSABLE if kind in set(kinds)]
    robot.updated_by_id = actor_id
    robot.updated_at = utcnow()
    db.session.flush()
    return robot


def remove_robot(park_id: int) -> None:
    """The park's group no longer hears anything; its unsent messages are dropped."""
    db.session.execute(delete(Delivery).where(
        Delivery.park_id == park_id, Delivery.status.in_(
            [DeliveryStatus.PENDING.value, DeliveryStatus.FAILED.value, DeliveryStatus.DEAD.value])))
    db.session.execute(delete(ParkRobot).where(ParkRobot.park_id == park_id))
    db.session.flush()


def test_robot(park) -> Delivery:
    """A test message to the park's group, sent by the worker at once (asked for now, so
    not held for quiet hours)."""
    now = utcnow()
    delivery = Delivery(key=outbox.new_key(outbox.WECOM), channel=outbox.WECOM, park_id=park.id,
                        kind="robot_test", params={"park": park.name}, urgent=True,
                        status=DeliveryStatus.PENDING.value, attempts=0, next_attempt_at=now,
                        created_at=now)
    db.session.add(delivery)
    db.session.flush()
    return delivery
