"""Milestone jobs (run by RQ workers, each its own unit of work)."""

from __future__ import annotations

from crm.extensions import db
from crm.i18n import today
from crm.milestones.services.sweep import sweep


def sla_sweep() -> dict:
    """Notify owners and park managers of milestones that became due soon or overdue."""
    result = sweep(today())
    db.session.commit()
    return {"milestones": result.milestones, "notifications": result.notifications}
