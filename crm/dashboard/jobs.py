"""Dashboard jobs (run by RQ workers, each its own unit of work)."""

from __future__ import annotations

from crm.dashboard import services
from crm.extensions import db
from crm.i18n import today
from crm.milestones.queries import work_calendar


def refresh_rollups() -> dict:
    """Recompute the per-park rollups of the leadership dashboard."""
    parks = services.refresh(today(), work_calendar())
    db.session.commit()
    services.refresh_done()
    return {"parks": parks}
