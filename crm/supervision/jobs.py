"""Supervision jobs (run by RQ workers, each its own unit of work)."""

from __future__ import annotations

from crm.extensions import db
from crm.i18n import today
from crm.milestones.queries import work_calendar
from crm.supervision.services import problems, rounds


def supervise() -> dict:
    """Hourly: close the rounds past their grace (their report is made), remind the reporters
    (once the day before the due date, once after it), escalate overdue problems a level."""
    day, calendar = today(), work_calendar()
    closed = rounds.close_due(day, calendar)
    db.session.commit()
    reminded = rounds.remind(day, calendar)
    db.session.commit()
    escalated = problems.escalate_overdue(day, calendar)
    db.session.commit()
    return {"closed": len(closed), "reminded": len(reminded), "escalated": len(escalated)}
