"""Per-park rollups: every park's figures computed in one pass (nine grouped queries over all
parks) and stored, so the leadership dashboard reads a few dozen rows instead of scanning a
million milestones per request.

The periodic job (crm.dashboard.jobs.refresh_rollups) keeps them fresh.  A page that finds
them older than ROLLUP_MAX_AGE_SECONDS (or computed for another day) shows them with their
age and has a worker recompute them (stale-while-revalidate: nothing city-wide is computed
inside a request); only rollups missing altogether, or a queue that cannot be reached, are
computed in the request.  Flushes, never commits.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

import logging

from redis.exceptions import RedisError

from crm.dashboard.queries import boards
from crm.dashboard.queries.figures import DEFAULT_PERIOD, ParkFigures, Slice, compute
from crm.dashboard.models import ParkRollup
from crm.db import utcnow
from crm.extensions import db
from crm.milestones.calendar import WorkCalendar
from crm.parks.models import Park
from crm.queue import enqueue, inline, redis_connection

QUEUED_KEY = "daiban:rollups:refresh-queued"
QUEUED_SECONDS = 120  # one queued refresh at a time; a lost one is retried after this
logger = logging.getLogger(__name__)


def queue_refresh() -> bool:
    """Have a worker recompute the rollups (once, however many pages ask at the same time).
    False when jobs run inline or the queue cannot be reached: the caller computes them."""
    if inline():
        return False
    try:
        if redis_connection().set(QUEUED_KEY, 1, nx=True, ex=QUEUED_SECONDS):
            enqueue("crm.dashboard.jobs.refresh_rollups")
    except RedisError:
        logger.warning("rollup refresh not queued; computed in the request", exc_info=True)
        return False
    return True


def refresh_done() -> None:
    """A refresh finished: the next stale page may queue another."""
    try:
        redis_connection().delete(QUEUED_KEY)
    except RedisError:
        pass  # the key expires by itself


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


def city_figures(park_condition, today: dt.date, calendar: WorkCalendar):
    """The city's rollups for the viewer, and whether a background refresh is under way: old
    rollups are served as they are while a worker recomputes them; missing ones (or no queue)
    are computed here (the caller commits)."""
    figures, staleness = boards.city(park_condition, today)
    if staleness == "missing" or staleness == "old" and not queue_refresh():
        refresh(today, calendar)
        figures, staleness = boards.city(park_condition, today)
    return figures, staleness == "old"
