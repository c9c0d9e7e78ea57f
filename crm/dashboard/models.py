"""Per-park rollups: the park figures the leadership dashboard compares, computed by a
periodic job (crm.dashboard.rollups.refresh) instead of scanning every milestone per request."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import UTCDateTime
from crm.extensions import db


class ParkRollup(db.Model):
    """One park's figures as of ``computed_at`` (see crm.dashboard.figures.ParkFigures)."""

    __tablename__ = "park_rollups"

    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id", ondelete="CASCADE"),
                                         primary_key=True, autoincrement=False)
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # The day the figures were computed for (SLA states and periods depend on it).
    as_of: Mapped[dt.date] = mapped_column(db.Date)
    period_days: Mapped[int] = mapped_column(Integer)
    # ParkFigures.as_dict(): key figures, stages, average working days per stage, months.
    figures: Mapped[dict] = mapped_column(JSON)
