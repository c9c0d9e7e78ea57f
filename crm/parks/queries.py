"""Reads of districts and parks (which parks a user sees is crm/auth/scope.py)."""

from __future__ import annotations

from sqlalchemy import select

from crm.extensions import db
from crm.parks.models import District


def districts() -> list[District]:
    """Every district, by division code."""
    return list(db.session.scalars(select(District).order_by(District.code)))
