"""The monthly callback sample (回访抽样): at the start of each month a reproducible random
share of each park's milestones finished in the month before, for the third-party surveyor
to call (``sampling.draw``).  Results are entered as ratings (``ratings.record_callback``).

Services flush but never commit.
"""

from __future__ import annotations

import datetime as dt
import re

from flask import current_app
from sqlalchemy import select

from crm.audit import services as audit
from crm.extensions import db
from crm.milestones.models import Milestone, MilestoneStatus
from crm.portal import sampling
from crm.portal.models import CallbackItem
from crm.transaction import flush


MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")  # YYYY-MM


def previous_month(today: dt.date) -> str:
    first = today.replace(day=1)
    return (first - dt.timedelta(days=1)).strftime("%Y-%m")


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """The first day of the month and the first day of the next."""
    first = dt.date.fromisoformat(month + "-01")
    return first, (first + dt.timedelta(days=32)).replace(day=1)


def draw(month: str) -> int:
    """Draw the month's sample unless it is drawn already; returns the items drawn."""
    if db.session.scalar(select(CallbackItem.id).where(CallbackItem.month == month).limit(1)):
        return 0
    first, after = month_bounds(month)
    rows = db.session.execute(
        select(Milestone.park_id, Milestone.id, Milestone.project_id)
        .where(Milestone.status == MilestoneStatus.DONE, Milestone.completed_on >= first,
               Milestone.completed_on < after)).all()
    config = current_app.config
    chosen = set(sampling.draw(((r.park_id, r.id) for r in rows), config["CALLBACK_SHARE"],
                               sampling.month_seed(month, config["CALLBACK_SEED"])))
    items = [CallbackItem(month=month, milestone_id=r.id, project_id=r.project_id,
                          park_id=r.park_id) for r in rows if r.id in chosen]
    db.session.add_all(items)
    flush()
    if items:
        audit.record(db.session, "callback.draw", items[0], note=f"{month}: {len(items)}")
    return len(items)
