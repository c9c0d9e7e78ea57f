"""Milestone services: the app's working-day calendar and milestone plans.

Services flush but never commit.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable

from flask import current_app
from sqlalchemy import func, select

from crm.extensions import db
from crm.milestones.calendar import WorkCalendar
from crm.milestones.models import (
    Applicability, ApprovalItem, CalendarOverride, CalendarYear, Milestone,
)
from crm.milestones.sla import DEFAULT_WARNING_WORKDAYS

_cache_lock = threading.Lock()
_cache: dict[str, tuple[tuple, WorkCalendar]] = {}


def _calendar_fingerprint() -> tuple:
    """Changes whenever an override or a published year is added, edited or removed."""
    row = db.session.execute(select(
        select(func.count()).select_from(CalendarOverride).scalar_subquery(),
        select(func.max(CalendarOverride.created_at)).scalar_subquery(),
        select(func.max(CalendarOverride.updated_at)).scalar_subquery(),
        select(func.count()).select_from(CalendarYear).scalar_subquery(),
        select(func.max(CalendarYear.loaded_at)).scalar_subquery(),
    )).one()
    return tuple(row)


def build_calendar(exclude_days: Iterable[dt.date] = ()) -> WorkCalendar:
    """A calendar from the session's current overrides (uncommitted changes included), without
    the cache; ``exclude_days`` leaves out overrides about to be deleted."""
    excluded = set(exclude_days)
    overrides = {day: working for day, working in db.session.execute(
        select(CalendarOverride.day, CalendarOverride.is_workday)) if day not in excluded}
    years = db.session.scalars(select(CalendarYear.year)).all()
    return WorkCalendar(overrides, years)


def work_calendar() -> WorkCalendar:
    """The calendar with the database's overrides; rebuilt when overrides change.

    One small aggregate query per call detects changes made by any process.
    """
    key = current_app.config["SQLALCHEMY_DATABASE_URI"]
    fingerprint = _calendar_fingerprint()
    cached = _cache.get(key)
    if cached and cached[0] == fingerprint:
        return cached[1]
    with _cache_lock:
        calendar = build_calendar()
        _cache[key] = (fingerprint, calendar)
        return calendar


def warning_workdays() -> int:
    """Working days left at which a running milestone counts as due soon (configurable)."""
    return int(current_app.config.get("SLA_WARNING_WORKDAYS", DEFAULT_WARNING_WORKDAYS))


def applies(item: ApprovalItem, project) -> bool:
    """Whether a catalogue item belongs in a project's plan."""
    rule = item.applicability
    if rule == Applicability.ALWAYS:
        return True
    if rule in (Applicability.FILING, Applicability.VERIFICATION):
        return project.approval_mode == rule
    if rule == Applicability.EIA_REPORT_BOOK:
        return project.eia_category == "report_book"
    if rule == Applicability.EIA_REPORT_FORM:
        return project.eia_category == "report_form"
    return False


def catalogue_for(project) -> list[ApprovalItem]:
    """Active catalogue items for the project's district: a district row replaces the city row."""
    district_id = project.park.district_id
    rows = db.session.scalars(
        select(ApprovalItem).where(
            ApprovalItem.active.is_(True),
            (ApprovalItem.district_id.is_(None)) | (ApprovalItem.district_id == district_id),
        ).order_by(ApprovalItem.sort_order, ApprovalItem.id)
    ).all()
    chosen: dict[str, ApprovalItem] = {}
    for item in rows:
        if item.code not in chosen or item.district_id is not None:
            chosen[item.code] = item
    return sorted(chosen.values(), key=lambda i: (i.sort_order, i.id))


def create_plan(project) -> list[Milestone]:
    """Milestones for every applicable catalogue item the project does not have yet."""
    have = {m.approval_item_id for m in project.milestones}
    have_codes = {m.approval_item.code for m in project.milestones if m.approval_item}
    added = []
    for item in catalogue_for(project):
        if item.id in have or item.code in have_codes or not applies(item, project):
            continue
        milestone = Milestone(
            project=project, park_id=project.park_id, approval_item=item, name=item.name,
            department=item.department, stage=item.stage, sequence=item.sort_order,
            required=item.required, limit_value=item.committed_limit,
            limit_unit=item.committed_unit, statutory_value=item.statutory_limit,
            statutory_unit=item.statutory_unit,
        )
        db.session.add(milestone)
        added.append(milestone)
    db.session.flush()
    return added
