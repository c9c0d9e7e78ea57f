"""Stored forecasts: each open milestone's expected issue date, slack and place on the critical
path, and each project's forecast approval date and promise (crm/milestones/graph.py computes,
this module reads the plans and writes the answers).

Refreshed for a project whenever its plan changes (the lifecycle services call
``refresh_projects``), for every project when a calendar schedule is loaded, and every morning
(pending milestones cannot start before today, so their forecasts move with the days).  The
answers are derived data: written with plain UPDATE statements that neither bump a milestone's
version (nobody's open form goes stale) nor enter the change history.

Services flush but never commit.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from contextlib import contextmanager

from redis.exceptions import RedisError
from sqlalchemy import bindparam, delete, insert, select

from crm.extensions import db
from crm.i18n import today as local_today
from crm.milestones import graph
from crm.milestones.calendar import WorkCalendar
from crm.milestones.models import (
    ApprovalItem, CommitmentRule, Milestone, MilestoneDependency, ProjectForecast,
)
from crm.projects.models import Project
from crm.queue import enqueue

CHUNK = 2000  # projects per round trip in a bulk refresh
STALE = dt.date(2000, 1, 1)  # computed_on of a forecast to be recomputed by the next refresh
logger = logging.getLogger(__name__)


def _rules() -> list[CommitmentRule]:
    return list(db.session.scalars(select(CommitmentRule).where(CommitmentRule.active.is_(True))
                                   .order_by(CommitmentRule.id)))


def choose_rule(rules: Sequence[CommitmentRule], park_id: int, approval_mode: str | None):
    """The promise that applies: a park's own rule before the city-wide one, a rule for the
    project's approval mode before one for any mode."""
    fitting = [r for r in rules if r.park_id in (None, park_id)
               and r.approval_mode in (None, approval_mode)]
    if not fitting:
        return None
    return max(fitting, key=lambda r: (r.park_id is not None, r.approval_mode is not None, -r.id))


def compute(project, rows, needs, rules, today: dt.date, calendar: WorkCalendar):
    """(PlanForecast, ProjectForecast values) for one project from its milestone rows."""
    plan = graph.forecast(graph.nodes(rows), needs, today, calendar)
    values = {"project_id": project.id, "park_id": project.park_id, "forecast_on": plan.finish,
              "provisional": plan.provisional, "rule_id": None, "promise_start_on": None,
              "promise_due_on": None, "promise_end_on": None, "end_forecast_on": None,
              "promise_margin_workdays": None, "computed_on": today}
    rule = choose_rule(rules, project.park_id, project.approval_mode)
    by_code = {r.code: r for r in rows if r.code}
    if rule is not None and rule.start_code in by_code and rule.end_code in by_code:
        start, end = by_code[rule.start_code], by_code[rule.end_code]
        values["rule_id"] = rule.id
        if start.status == "done" and start.completed_on is not None:
            values["promise_start_on"] = start.completed_on
            values["promise_due_on"] = calendar.add_workdays(start.completed_on,
                                                             rule.limit_workdays)
        if end.status == "done":
            values["promise_end_on"] = end.completed_on
        else:
            values["end_forecast_on"] = plan.items[end.id].finish
            values["promise_margin_workdays"] = graph.promise_margin(
                values["promise_due_on"], values["end_forecast_on"], calendar)
    return plan, values


def lock_plans(project_ids: Sequence[int], *, skip_locked: bool = False) -> list[int]:
    """Hold the rows of these projects (ascending ids) until the transaction ends: whoever
    changes a plan locks its project before any of its milestones, so two changes to one
    plan (each refreshes the forecasts of every milestone in it) wait for each other instead
    of deadlocking.  With ``skip_locked`` (the background refresh), the projects someone is
    changing are left out: their own change refreshes them.  Returns the ids held."""
    if not project_ids:
        return []
    return list(db.session.scalars(
        select(Project.id).where(Project.id.in_(project_ids)).order_by(Project.id)
        .with_for_update(skip_locked=skip_locked)))


_DEFERRED = "forecasts_deferred"


@contextmanager
def deferred(*, refresh: bool = True):
    """Within the block, plan changes only note their projects; their forecasts are refreshed
    once at the end (or not at all with ``refresh`` False: a dry run that rolls back).  For
    bulk work such as an import, where each milestone transition would otherwise recompute its
    project's whole plan.  The rules of a transition never read the stored forecasts."""
    session = db.session
    outer = _DEFERRED in session.info
    pending = session.info.setdefault(_DEFERRED, set())
    try:
        yield
    finally:
        if not outer:
            session.info.pop(_DEFERRED, None)
    if refresh and not outer and pending:
        db.session.flush()
        from crm.milestones.queries import work_calendar

        refresh_projects(pending, local_today(), work_calendar())


def refresh_projects(project_ids: Iterable[int] | None, today: dt.date,
                     calendar: WorkCalendar, *, skip_locked: bool = False) -> int:
    """Recompute and store the forecasts of these projects (None: every project).  Returns
    the number of projects refreshed.  A plan with a dependency cycle keeps no forecast.
    Inside ``deferred()``, the projects are only noted."""
    pending = db.session.info.get(_DEFERRED)
    if pending is not None and project_ids is not None:
        pending.update(project_ids)
        return 0
    if project_ids is None:
        ids = list(db.session.scalars(select(Project.id).order_by(Project.id)))
    else:
        ids = sorted(set(project_ids))
    rules = _rules()
    done = 0
    for first in range(0, len(ids), CHUNK):
        chunk = lock_plans(ids[first:first + CHUNK], skip_locked=skip_locked)
        _refresh_chunk(chunk, rules, today, calendar)
        done += len(chunk)
    return done


def stale_ids(today: dt.date, *, after: int = 0, limit: int | None = None) -> list[int]:
    """The projects (ids above ``after``, in order) whose forecast was computed before today or
    never: pending milestones cannot start before today, so their forecasts move each morning."""
    return list(db.session.scalars(
        select(Project.id).outerjoin(ProjectForecast, ProjectForecast.project_id == Project.id)
        .where(Project.id > after,
               (ProjectForecast.project_id.is_(None)) | (ProjectForecast.computed_on < today))
        .order_by(Project.id).limit(limit)))


def refresh_stale(today: dt.date, calendar: WorkCalendar) -> int:
    """Refresh every stale project but those someone is changing (their change refreshes
    them) in this transaction; returns how many."""
    stale = stale_ids(today)
    return refresh_projects(stale, today, calendar, skip_locked=True) if stale else 0


def mark_stale() -> None:
    """Every stored forecast to be recomputed by the next refresh (a promise rule changed)."""
    db.session.execute(ProjectForecast.__table__.update().values(computed_on=STALE))


def queue_refresh() -> None:
    """Ask a worker to recompute the stale forecasts now rather than within the hour; the
    hourly job catches up if the queue cannot be reached (the change itself is saved)."""
    try:
        enqueue("crm.milestones.jobs.refresh_forecasts")
    except RedisError:
        logger.warning("forecast refresh not queued; the hourly job will do it", exc_info=True)


def _expire(milestone_ids: set[int]) -> None:
    """Loaded milestones read their new forecast on next access."""
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Milestone) and obj.id in milestone_ids:
            db.session.expire(obj, ["forecast_on", "slack_workdays", "critical"])


def _refresh_chunk(ids: list[int], rules, today: dt.date, calendar: WorkCalendar) -> None:
    projects = db.session.execute(
        select(Project.id, Project.park_id, Project.approval_mode).where(Project.id.in_(ids))).all()
    rows_by_project = defaultdict(list)
    for row in db.session.execute(
            select(Milestone.id, Milestone.project_id, Milestone.status, Milestone.limit_value,
                   Milestone.limit_unit, Milestone.due_on, Milestone.completed_on,
                   Milestone.remaining_workdays, Milestone.forecast_on,
                   Milestone.slack_workdays, Milestone.critical, ApprovalItem.code)
            .outerjoin(ApprovalItem, ApprovalItem.id == Milestone.approval_item_id)
            .where(Milestone.project_id.in_(ids))
            .order_by(Milestone.project_id, Milestone.sequence, Milestone.id)):
        rows_by_project[row.project_id].append(row)
    needs_by_project: dict = defaultdict(lambda: defaultdict(list))
    for project_id, milestone_id, requires_id in db.session.execute(
            select(MilestoneDependency.project_id, MilestoneDependency.milestone_id,
                   MilestoneDependency.requires_id)
            .where(MilestoneDependency.project_id.in_(ids))):
        needs_by_project[project_id][milestone_id].append(requires_id)

    milestone_updates, forecasts = [], []
    for project in projects:
        rows = rows_by_project.get(project.id, [])
        try:
            plan, values = compute(project, rows, needs_by_project[project.id], rules, today,
                                   calendar)
        except graph.CycleError:
            continue
        forecasts.append(values)
        for row in rows:
            item = plan.items[row.id]
            open_item = row.status not in ("done", "waived")
            wanted = (item.finish if open_item else None, item.slack if open_item else None,
                      item.critical)
            if wanted != (row.forecast_on, row.slack_workdays, row.critical):
                milestone_updates.append({"b_id": row.id, "b_forecast": wanted[0],
                                          "b_slack": wanted[1], "b_critical": wanted[2]})
    table = Milestone.__table__
    if milestone_updates:
        db.session.execute(
            table.update().where(table.c.id == bindparam("b_id")).values(
                forecast_on=bindparam("b_forecast"), slack_workdays=bindparam("b_slack"),
                critical=bindparam("b_critical")),
            milestone_updates)
        _expire({u["b_id"] for u in milestone_updates})
    _store(ids, forecasts, today)


FORECAST_FIELDS = ("park_id", "forecast_on", "provisional", "rule_id", "promise_start_on",
                   "promise_due_on", "promise_end_on", "end_forecast_on",
                   "promise_margin_workdays")


def _store(ids: list[int], forecasts: list[dict], today: dt.date) -> None:
    """Write the projects' forecasts: the changed ones replaced, the others only marked as
    computed today (one statement), so a refresh that moves nothing writes little."""
    table = ProjectForecast.__table__
    stored = {row[0]: tuple(row[1:]) for row in db.session.execute(
        select(table.c.project_id, *(table.c[name] for name in FORECAST_FIELDS))
        .where(table.c.project_id.in_(ids)))}
    changed = [v for v in forecasts
               if stored.get(v["project_id"]) != tuple(v[name] for name in FORECAST_FIELDS)]
    kept = {v["project_id"] for v in forecasts} - {v["project_id"] for v in changed}
    gone = set(stored) - {v["project_id"] for v in forecasts}  # a plan that now loops
    replace = [v["project_id"] for v in changed if v["project_id"] in stored] + sorted(gone)
    if replace:
        db.session.execute(delete(table).where(table.c.project_id.in_(replace)))
    if changed:
        db.session.execute(insert(table), changed)
    if kept:
        db.session.execute(table.update().where(table.c.project_id.in_(sorted(kept)))
                           .values(computed_on=today))
    if replace or changed or kept:
        for obj in list(db.session.identity_map.values()):
            if isinstance(obj, ProjectForecast) and obj.project_id in ids:
                db.session.expire(obj)
