"""Alert jobs (run by RQ workers, each its own unit of work): send the outbox, gather the
daily digests, climb the escalation ladder."""

from __future__ import annotations

from crm.db import utcnow
from crm.extensions import db
from crm.i18n import today
from crm.milestones.queries import work_calendar
from crm.notifications import delivery, escalation

BATCH = 100


def deliver_alerts(limit: int = 1000) -> dict:
    """Send what is due: claims are committed before each batch is sent, each outcome as soon
    as it is known (a crash loses at most the claim, taken up again later)."""
    sent = failed = 0
    while sent + failed < limit:
        now = utcnow()
        ids = delivery.claim(now, min(BATCH, limit - sent - failed))
        db.session.commit()
        if not ids:
            break
        for delivery_id in ids:
            prepared = delivery.prepare(delivery_id)
            db.session.commit()  # end the transaction before the (maybe slow) send
            error = delivery.send(prepared)
            if delivery.record(prepared, error, utcnow()):
                sent += 1
            else:
                failed += 1
            db.session.commit()
    return {"sent": sent, "failed": failed}


def send_digests() -> dict:
    """Each user's daily digest, on working days from ALERT_DIGEST_AT; then send them."""
    made = delivery.gather_digests(utcnow())
    db.session.commit()
    result = deliver_alerts() if made else {"sent": 0, "failed": 0}
    return {"digests": made, **result}


def escalate() -> dict:
    """Take the escalation steps reached since the last run."""
    result = escalation.escalate(today(), work_calendar())
    db.session.commit()
    return {"steps": result.steps, "notifications": result.notifications}
