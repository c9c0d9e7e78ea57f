"""Sending the outbox: claim due deliveries, send each through its channel, record the outcome
(sent; failed with the error and a backoff; dead after too many tries), gather the digest.
Services: they flush and never commit; the job (crm/notifications/jobs.py) commits between
the steps, so a crash loses nothing:

- a claim is committed before the send; a claim older than ALERT_CLAIM_SECONDS (its worker
  died) is taken up again, with the same idempotency key;
- a send is recorded as soon as it is done.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale
from markupsafe import Markup
from sqlalchemy import and_, or_, select, update

from crm.auth.models import User
from crm.db import utcnow
from crm.extensions import db
from crm.milestones.queries import work_calendar
from crm.notifications import messages, outbox, schedule
from crm.notifications.channels import CHANNELS, Outgoing, SendFailed
from crm.notifications.models import Delivery, DeliveryStatus, ParkRobot

S = DeliveryStatus
DIGEST_KIND = "digest"
MAX_DIGEST_ITEMS = 200


def claim(now: dt.datetime, limit: int) -> list[int]:
    """Take up to ``limit`` due deliveries for this worker (other workers skip them)."""
    stale = now - dt.timedelta(seconds=current_app.config["ALERT_CLAIM_SECONDS"])
    ids = list(db.session.scalars(
        select(Delivery.id).where(or_(
            and_(Delivery.status.in_([S.PENDING.value, S.FAILED.value]),
                 Delivery.next_attempt_at <= now),
            and_(Delivery.status == S.SENDING.value, Delivery.claimed_at < stale)))
        .order_by(Delivery.next_attempt_at, Delivery.id).limit(limit)
        .with_for_update(skip_locked=True)))
    if ids:
        db.session.execute(update(Delivery).where(Delivery.id.in_(ids)).values(
            status=S.SENDING.value, claimed_at=now, attempts=Delivery.attempts + 1)
            .execution_options(synchronize_session=False))
    return ids


def _locale(user: User | None) -> str:
    return (user.locale if user is not None and user.locale
            else current_app.config["BABEL_DEFAULT_LOCALE"])


def _url(link: str | None) -> str | None:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + link if link else None


def _lines(delivery: Delivery) -> list[tuple[str, str | None]]:
    if delivery.kind != DIGEST_KIND:
        return [(messages.text(delivery.kind, delivery.params or {}), _url(delivery.link))]
    items = db.session.scalars(select(Delivery).where(Delivery.digest_id == delivery.id)
                               .order_by(Delivery.created_at, Delivery.id)
                               .limit(MAX_DIGEST_ITEMS))
    return [(messages.text(item.kind, item.params or {}), _url(item.link)) for item in items]


def render(delivery: Delivery, address: str, locale: str) -> Outgoing:
    """The message of a delivery in the recipient's language: subject, text and HTML (every
    user-written value escaped)."""
    with force_locale(locale):
        lines = _lines(delivery)
        if delivery.kind == DIGEST_KIND:
            subject = str(messages.DIGEST_SUBJECT) % {
                "date": (delivery.params or {}).get("date", ""), "count": len(lines)}
        else:
            subject = str(messages.SUBJECT) % {"text": lines[0][0] if lines else ""}
    text = "\n\n".join(line + (f"\n{url}" if url else "") for line, url in lines)
    items = Markup("").join(
        Markup("<li>{}{}</li>").format(line, Markup(' <a href="{}">{}</a>').format(url, url)
                                        if url else "")
        for line, url in lines)
    html = Markup("<html><body><ul>{}</ul></body></html>").format(items)
    return Outgoing(delivery.key, address, subject[:200], text, str(html))


def _address(delivery: Delivery) -> tuple[str | None, str]:
    """The delivery's address and the language to write in; no address: nothing to send to."""
    if delivery.user_id is not None:
        user = db.session.get(User, delivery.user_id)
        if user is None or not user.active or not user.email:
            return None, _locale(user)
        return user.email, _locale(user)
    robot = db.session.get(ParkRobot, delivery.park_id) if delivery.park_id else None
    return (robot.robot_key if robot else None), _locale(None)


@dataclass(frozen=True)
class Prepared:
    """A claimed delivery ready to send, read inside a transaction and sent outside one."""

    id: int
    channel: str
    message: Outgoing | None  # None: nothing to send to (the reason in ``problem``)
    problem: str | None = None


def prepare(delivery_id: int) -> Prepared:
    """What to send for a claimed delivery, rendered in the recipient's language."""
    delivery = db.session.get(Delivery, delivery_id)
    address, locale = _address(delivery)
    if CHANNELS.get(delivery.channel) is None:
        return Prepared(delivery.id, delivery.channel, None, f"no channel {delivery.channel!r}")
    if address is None:
        return Prepared(delivery.id, delivery.channel, None,
                        "no address any more (the email or the robot was removed)")
    return Prepared(delivery.id, delivery.channel, render(delivery, address, locale))


def send(prepared: Prepared) -> str | None:
    """Send (outside any transaction: a slow server holds no lock).  The error, or None."""
    if prepared.message is None:
        return prepared.problem
    try:
        CHANNELS[prepared.channel].send(prepared.message, current_app.config)
    except SendFailed as exc:
        # Never a secret in the log: the address (a robot's key) is blotted out.
        return str(exc).replace(prepared.message.address, "…")
    return None


def record(prepared: Prepared, error: str | None, now: dt.datetime) -> bool:
    """The outcome of a send: sent; or failed (tried again after a backoff), dead after the
    last try or when there is nothing to send to.  True when sent."""
    config = current_app.config
    delivery = db.session.get(Delivery, prepared.id)
    delivery.claimed_at = None
    if error is None:
        delivery.status = S.SENT.value
        delivery.sent_at = now
    else:
        delivery.last_error = f"{now:%Y-%m-%d %H:%M} UTC #{delivery.attempts}: {error}"[:1000]
        if prepared.message is None or delivery.attempts >= config["ALERT_MAX_ATTEMPTS"]:
            delivery.status = S.DEAD.value
        else:
            delivery.status = S.FAILED.value
            delivery.next_attempt_at = now + schedule.retry_delay(
                delivery.attempts, base=config["ALERT_RETRY_BASE_SECONDS"],
                cap=config["ALERT_RETRY_CAP_SECONDS"])
    db.session.flush()
    return error is None


def resend(delivery: Delivery, now: dt.datetime | None = None) -> None:
    """An admin sends a failed or dead delivery again (at once, with a fresh count of tries;
    the same key, so a receiver that saw it does not show it twice)."""
    if delivery.status not in (S.FAILED.value, S.DEAD.value):
        raise ValueError("only failed deliveries are sent again")
    delivery.status = S.PENDING.value
    delivery.attempts = 0
    delivery.next_attempt_at = now or utcnow()
    db.session.flush()


def gather_digests(now: dt.datetime, *, calendar=None) -> int:
    """On a working day from the digest time on: each user's waiting digest items go into one
    digest email (at most one a day: later items wait for the next).  Returns the digests made."""
    local = now.astimezone(outbox.zone())
    if not schedule.digest_due(local, calendar or work_calendar(), outbox.digest_time()):
        return 0
    day = local.date().isoformat()
    users = list(db.session.scalars(
        select(Delivery.user_id).where(Delivery.status == S.DIGEST.value,
                                       Delivery.created_at <= now)
        .group_by(Delivery.user_id).order_by(Delivery.user_id)))
    if not users:
        return 0
    keys = {f"digest-{uid}-{day}": uid for uid in users}
    done = set(db.session.scalars(select(Delivery.key).where(Delivery.key.in_(list(keys)))))
    made = 0
    for key, uid in keys.items():
        if key in done:
            continue
        digest = Delivery(key=key, channel=outbox.EMAIL, user_id=uid, kind=DIGEST_KIND,
                          params={"date": day}, status=S.PENDING.value, attempts=0,
                          next_attempt_at=now, created_at=now)
        db.session.add(digest)
        db.session.flush()
        db.session.execute(update(Delivery).where(
            Delivery.user_id == uid, Delivery.status == S.DIGEST.value,
            Delivery.created_at <= now).values(status=S.DIGESTED.value, digest_id=digest.id)
            .execution_options(synchronize_session=False))
        made += 1
    return made
