"""Supervision jobs (run by RQ workers, each its own unit of work)."""

from __future__ import annotations

import datetime as dt

from crm.db import utcnow
from crm.extensions import db
from crm.i18n import today
from crm.milestones.queries import work_calendar
from crm.supervision.models import Round
from crm.supervision.services import problems, rounds


# A large round whose reports are not written this long after opening lost its job.
PREPARE_STALLED_AFTER = dt.timedelta(minutes=10)


def prepare_round(round_id: int) -> bool:
    """Write the reports of a large round just opened (enqueued when its opening commits)."""
    round_ = db.session.get(Round, round_id)
    if round_ is None:
        return False
    done = rounds.prepare_reports(round_)
    db.session.commit()
    return done


def supervise() -> dict:
    """Hourly: write the reports of a large round whose job was lost, close the rounds past
    their grace (their report is made), remind the reporters (once the day before the due
    date, once after it), escalate overdue problems a level."""
    day, calendar = today(), work_calendar()
    for stalled in rounds.preparing_rounds(utcnow() - PREPARE_STALLED_AFTER):
        rounds.prepare_reports(stalled)
        db.session.commit()
    closed = rounds.close_due(day, calendar)
    db.session.commit()
    reminded = rounds.remind(day, calendar)
    db.session.commit()
    escalated = problems.escalate_overdue(day, calendar)
    db.session.commit()
    return {"closed": len(closed), "reminded": len(reminded), "escalated": len(escalated)}
