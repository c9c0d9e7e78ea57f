"""Milestone jobs (run by RQ workers, each its own unit of work)."""

from __future__ import annotations

from crm.extensions import db
from crm.i18n import today
from crm.milestones.queries import work_calendar
from crm.milestones.services.forecasts import refresh_stale
from crm.milestones.services.sweep import sweep


def sla_sweep() -> dict:
    """Notify owners and park managers of milestones that became due soon or overdue."""
    result = sweep(today())
    db.session.commit()
    return {"milestones": result.milestones, "notifications": result.notifications}


def refresh_forecasts() -> dict:
    """Forecasts computed before today (or never) recomputed: hourly, so once each morning."""
    projects = refresh_stale(today(), work_calendar())
    db.session.commit()
    return {"projects": projects}
