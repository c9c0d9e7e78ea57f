"""Per-park rollups: every park's figures computed in one pass (nine grouped queries over all
parks) and stored, so the leadership dashboard reads a few dozen rows instead of scanning a
million milestones per request.

The periodic job (crm.dashboard.jobs.refresh_rollups) keeps them fresh; a page that finds
them older than ROLLUP_MAX_AGE_SECONDS (or computed for another day) refreshes them before
reading (queries/boards.py), so the figures shown are never older than that even when no
worker runs.  Flushes, never commits.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from crm.dashboard.queries.figures import DEFAULT_PERIOD, ParkFigures, Slice, compute
from crm.dashboard.models import ParkRollup
from crm.db import utcnow
from crm.extensions import db
from crm.milestones.calendar import WorkCalendar
from crm.parks.models import Park


def refresh(today: dt.date, calendar: WorkCalendar) -> int:
    """Recompute and store every park's rollup (the caller commits).  Returns the park count."""
    park_ids = list(db.session.scalars(select(Park.id)))
    figures = compute(Slice(period_days=DEFAULT_PERIOD), today, calendar)
    now = utcnow()
    rows = [{"park_id": pid, "computed_at": now, "as_of": today, "period_days": DEFAULT_PERIOD,
             "figures": figures.get(pid, ParkFigures()).as_dict()} for pid in park_ids]
    if rows:
        insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        statement = insert(ParkRollup)
        db.session.execute(statement.on_conflict_do_update(
            index_elements=[ParkRollup.park_id],
            set_={c: statement.excluded[c] for c in ("computed_at", "as_of", "period_days",
                                                     "figures")}), rows)
    db.session.execute(delete(ParkRollup).where(ParkRollup.park_id.not_in(park_ids)))
    return len(rows)
