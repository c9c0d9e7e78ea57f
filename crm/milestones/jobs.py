"""Milestone jobs (run by RQ workers, each its own unit of work)."""

from __future__ import annotations

from crm.extensions import db
from crm.i18n import today
from crm.milestones.queries import work_calendar
from crm.milestones.services.forecasts import CHUNK, refresh_projects, stale_ids
from crm.milestones.services.sweep import sweep


def sla_sweep() -> dict:
    """Notify owners and park managers of milestones that became due soon or overdue."""
    result = sweep(today())
    db.session.commit()
    return {"milestones": result.milestones, "notifications": result.notifications}


def refresh_forecasts() -> dict:
    """Forecasts computed before today (or never) recomputed: hourly, so once each morning.
    One transaction per chunk of projects, so no plan stays locked more than a moment (plans
    someone is changing are skipped: their change refreshes them)."""
    day, calendar, projects, last = today(), work_calendar(), 0, 0
    while ids := stale_ids(day, after=last, limit=CHUNK):
        projects += refresh_projects(ids, day, calendar, skip_locked=True)
        db.session.commit()
        last = ids[-1]
    return {"projects": projects}
