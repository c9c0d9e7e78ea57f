"""Calendar maintenance: loading a year's official schedule, and recomputing every open
deadline when the calendar changes (an import, or an override edited in the back office).

The schedule file is plain text, one date per line with 休 (day off) or 班 (working day)::

    # 2027 schedule (State Council notice)
    2027-01-01 休 元旦
    2027-02-06 班

Blank lines and lines starting with ``#`` are ignored; anything after the mark is a comment
(``2027-02-06 班（调休）``); dates may also be written 2027/2/6 or 2027年2月6日.
A file with any bad line is refused as a whole, every bad line named by its number.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from crm import signals
from crm.audit import services as audit
from crm.db import utcnow
from crm.extensions import db
from crm.milestones import sla
from crm.milestones.calendar import WINDOW_END, WINDOW_START, WorkCalendar
from crm.errors import DomainError
from crm.milestones.models import CalendarOverride, CalendarYear, Milestone, MilestonePause
from crm.milestones.queries import PAUSED, RUNNING, build_calendar
from crm.i18n import today as local_today
from crm.milestones.services import forecasts
from crm.milestones.services.lifecycle import flush

DAY_OFF, WORKING_DAY = "休", "班"
MAX_ERRORS = 20
_LINE = re.compile(r"^(?P<date>[^\s,，]+)(?:[\s,，]+(?P<mark>[^\s,，]).*)?$")
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


# What the audit trail calls the actions written here.
AUDIT_ACTIONS = {
    "calendar.import": _l("loaded the official holiday schedule"),
    "milestone.recompute": _l("recomputed the deadline (the calendar changed)"),
}


def file_error(messages: list) -> DomainError:
    """The file cannot be loaded: translated messages with line numbers, on the file field."""
    return DomainError(errors={"file": list(messages)})


@dataclass(frozen=True)
class RecomputeResult:
    open: int  # running and paused milestones checked
    changed: int  # whose due date, frozen days or provisional mark changed
    moved: dict = field(default_factory=dict)  # project id -> milestones whose due date moved


@dataclass(frozen=True)
class ImportResult:
    year: int
    days_off: int
    working_days: int
    removed: int  # overrides of that year no longer in the schedule
    recompute: RecomputeResult


def decode(data: bytes) -> str:
    """A schedule file's text: UTF-8 (with or without BOM), else GB 18030 (Chinese Windows)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise file_error([_l("The file is not text (UTF-8 or GB 18030).")]) from exc


def parse_schedule(text: str, year: int) -> dict[dt.date, bool]:
    """{date: is working day} for ``year``; raises DomainError naming every bad line."""
    if not WINDOW_START.year < year < WINDOW_END.year:
        raise file_error([_l("The year must be between %(lo)d and %(hi)d.",
                                    lo=WINDOW_START.year + 1, hi=WINDOW_END.year - 1)])
    days: dict[dt.date, bool] = {}
    first_line: dict[dt.date, int] = {}
    errors = []
    for number, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = raw.strip().replace("\u3000", " ")
        if not line or line.startswith("#"):
            continue
        error = None
        match = _LINE.match(line)
        date_match = _DATE.match(match.group("date")) if match else None
        day = None
        if date_match:
            try:
                day = dt.date(*(int(g) for g in date_match.groups()))
            except ValueError:
                day = None
        if day is None:
            error = _l('Line %(n)d: "%(text)s" is not a date (write it as YYYY-MM-DD).',
                       n=number, text=(match.group("date") if match else line)[:40])
        elif match.group("mark") not in (DAY_OFF, WORKING_DAY):
            error = _l("Line %(n)d: write 休 (day off) or 班 (working day) after the date.",
                       n=number)
        elif day.year != year:
            error = _l("Line %(n)d: %(date)s is not in %(year)d.", n=number,
                       date=day.isoformat(), year=year)
        elif day in days:
            error = _l("Line %(n)d: %(date)s is already on line %(first)d.", n=number,
                       date=day.isoformat(), first=first_line[day])
        if error is not None:
            errors.append(error)
            if len(errors) >= MAX_ERRORS:
                break
            continue
        days[day] = match.group("mark") == WORKING_DAY
        first_line[day] = number
    if not errors and not days:
        errors.append(_l("The file lists no dates."))
    if errors:
        raise file_error(errors)
    return days


def import_schedule(text: str, year: int, *, actor_id: int | None = None,
                    source: str | None = None) -> ImportResult:
    """Make ``text`` the official schedule of ``year``: its overrides replace that year's,
    the year counts as published, and every open deadline is recomputed.  Flushes only."""
    days = parse_schedule(text, year)
    existing = {o.day: o for o in db.session.scalars(select(CalendarOverride).where(
        CalendarOverride.day >= dt.date(year, 1, 1), CalendarOverride.day <= dt.date(year, 12, 31)))}
    note = f"{year} schedule" + (f" ({source})" if source else "")
    removed = 0
    for day, override in existing.items():
        if day not in days:
            db.session.delete(override)
            removed += 1
    for day, working in sorted(days.items()):
        override = existing.get(day)
        if override is None:
            db.session.add(CalendarOverride(day=day, is_workday=working, note=note[:100],
                                            created_by_id=actor_id))
        elif override.is_workday != working:
            override.is_workday = working
            override.note = note[:100]
    published = db.session.get(CalendarYear, year)
    if published is None:
        published = CalendarYear(year=year)
        db.session.add(published)
    published.note = note[:200]
    published.loaded_by_id = actor_id
    published.loaded_at = utcnow()
    audit.tag(published, "calendar.import", note)
    flush()
    calendar = build_calendar()
    recompute = recompute_open(calendar)
    forecasts.refresh_projects(None, local_today(), calendar)
    if recompute.moved:
        signals.deadlines_moved.send(None, year=year, moved=recompute.moved)
    working_days = sum(days.values())
    return ImportResult(year, len(days) - working_days, working_days, removed, recompute)


def recompute_open(calendar: WorkCalendar) -> RecomputeResult:
    """Recompute the deadline facts of every running and paused milestone with ``calendar``.

    Reads plain rows in two queries, computes in bulk with the pure rules, and updates (through
    the ORM: version-checked and audited) only the milestones whose facts changed.  Finished
    milestones keep their due date and outcome.
    """
    open_statuses = (RUNNING, PAUSED)
    rows = db.session.execute(
        select(Milestone.id, Milestone.accepted_on, Milestone.limit_value, Milestone.limit_unit,
               Milestone.due_on, Milestone.due_provisional, Milestone.remaining_workdays,
               Milestone.extension_workdays)
        .where(Milestone.status.in_(open_statuses), Milestone.accepted_on.is_not(None))
    ).all()
    pauses: dict[int, list[sla.Pause]] = defaultdict(list)
    for milestone_id, paused_on, resumed_on in db.session.execute(
        select(MilestonePause.milestone_id, MilestonePause.paused_on, MilestonePause.resumed_on)
        .join(Milestone, Milestone.id == MilestonePause.milestone_id)
        .where(Milestone.status.in_(open_statuses))
    ):
        pauses[milestone_id].append((paused_on, resumed_on))
    dues = sla.due_dates_bulk(
        ((r.accepted_on, r.limit_value, r.limit_unit, pauses.get(r.id, ())) for r in rows), calendar)
    changed: dict[int, sla.Schedule] = {}
    for row, due in zip(rows, dues):
        if due is not None:
            due = sla.extended(due, row.extension_workdays, calendar)
            facts = sla.Schedule(due, calendar.range_provisional(row.accepted_on, due), None)
        else:
            facts = sla.schedule(row.accepted_on, row.limit_value, row.limit_unit,
                                 pauses[row.id], calendar, row.extension_workdays)
        if (facts.due_on, facts.provisional, facts.remaining_frozen) != (
                row.due_on, bool(row.due_provisional), row.remaining_workdays):
            changed[row.id] = facts
    ids = sorted(changed)
    moved: dict[int, int] = defaultdict(int)
    for start in range(0, len(ids), 500):
        for milestone in db.session.scalars(select(Milestone).where(Milestone.id.in_(ids[start:start + 500]))):
            facts = changed[milestone.id]
            if facts.due_on != milestone.due_on:
                milestone.notified_state = None
                moved[milestone.project_id] += 1
            note = f"{milestone.due_on} -> {facts.due_on}" if facts.due_on != milestone.due_on else None
            milestone.due_on = facts.due_on
            milestone.due_provisional = facts.provisional
            milestone.remaining_workdays = facts.remaining_frozen
            audit.tag(milestone, "milestone.recompute", note)
        flush()
    return RecomputeResult(len(rows), len(ids), dict(moved))
