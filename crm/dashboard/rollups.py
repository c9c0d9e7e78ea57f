"""Per-park rollups: every park's figures computed in one pass (nine grouped queries over all
parks) and stored, so the leadership dashboard reads a few dozen rows instead of scanning a
million milestones per request.

The periodic job (crm.jobs.refresh_rollups) keeps them fresh; a page that finds them older
than ROLLUP_MAX_AGE_SECONDS (or computed for another day) refreshes them before reading, so
the figures shown are never older than that even when no worker runs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from crm.dashboard.figures import DEFAULT_PERIOD, ParkFigures, Slice, compute
from crm.dashboard.models import ParkRollup
from crm.db import utcnow
from crm.extensions import db
from crm.milestones.calendar import WorkCalendar
from crm.parks.models import Park


@dataclass
class ParkRow:
    park_id: int
    name: str
    short_name: str
    figures: ParkFigures


@dataclass
class CityFigures:
    parks: list[ParkRow]
    total: ParkFigures
    computed_at: dt.datetime | None  # the oldest park's rollup time
    period_days: int


def max_age() -> dt.timedelta:
    return dt.timedelta(seconds=current_app.config["ROLLUP_MAX_AGE_SECONDS"])


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


def _stale(rollups, park_count: int, today: dt.date) -> bool:
    if len(rollups) < park_count:
        return True
    oldest = min((r.computed_at for r in rollups), default=None)
    return (oldest is None or utcnow() - oldest > max_age()
            or any(r.as_of != today for r in rollups))


def _read(park_condition) -> list:
    """Rows (columns, not ORM objects: a city has hundreds of parks) of the visible parks."""
    return list(db.session.execute(
        select(ParkRollup.computed_at, ParkRollup.as_of, ParkRollup.figures,
               Park.id, Park.name, Park.short_name)
        .join(Park, Park.id == ParkRollup.park_id)
        .where(park_condition).order_by(Park.id)).all())


def city(park_condition, today: dt.date, calendar: WorkCalendar) -> CityFigures:
    """The parks' rollups (refreshed first when stale) and their sum.  Two queries when fresh."""
    park_count = db.session.scalar(select(db.func.count()).select_from(Park).where(park_condition))
    rollups = _read(park_condition)
    if _stale(rollups, park_count, today):
        refresh(today, calendar)
        db.session.commit()
        rollups = _read(park_condition)
    parks = [ParkRow(r.id, r.name, r.short_name, ParkFigures.from_dict(r.figures))
             for r in rollups]
    total = ParkFigures()
    for row in parks:
        total.add(row.figures)
    computed_at = min((r.computed_at for r in rollups), default=None)
    return CityFigures(parks, total, computed_at, DEFAULT_PERIOD)
