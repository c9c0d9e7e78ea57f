"""The enterprise's side: jobs run by RQ workers, each its own unit of work."""

from __future__ import annotations

from crm.extensions import db
from crm.i18n import today
from crm.portal.services import callbacks


def draw_callback_sample() -> dict:
    """Last month's callback sample, drawn once (the job runs daily; it does its work on the
    first run of a month)."""
    month = callbacks.previous_month(today())
    drawn = callbacks.draw(month)
    db.session.commit()
    return {"month": month, "items": drawn}
