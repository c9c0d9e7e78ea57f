"""Reads of projects and their progress logs, shared by pages, exports, PDFs and the API.

- The project list: filters read from the query string, the scoped and filtered query, its
  sort orders, one page of rows and the totals of the whole filtered set.  Every page runs
  the same few queries whatever the number of projects: the figures shown per row (next
  deadline, open blockers, lead agent) are correlated subqueries of the one page query, and
  the totals are one aggregate.
- The progress log: a project's feed, its open blockers (one definition of "open blocker").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from crm.agents.models import Assignment, AssignmentRole, Staff, staff_parks
from crm.auth.models import User
from crm.auth.scope import park_condition, project_condition, sees_all
from crm.db import LIKE_ESCAPE, contains_pattern, parse_id
from crm.extensions import db
from crm.i18n import local_day_start
from crm.milestones.models import Milestone, MilestoneStatus
from crm.parks.models import Park
from crm.projects.models import (
    INDUSTRIES, LogAnnotation, ProgressLog, Project, ProjectStatus, Stage,
)

FEED_PAGE = 30
# The list's deadline filter: a milestone overdue / due soon, or the whole-chain promise at
# risk / overdue (milestones.queries.projects_with_milestones / projects_with_promise).
SLA_FILTERS = ("overdue", "due_soon", "promise_at_risk", "promise_overdue")
PROMISE_PREFIX = "promise_"
SORTS = ("created", "name", "park", "stage", "investment", "due", "blockers")
MAX_SEARCH = 100


# The status filter's value for projects in service (在办): active and not yet approved.  The
# dashboards' project counts link here, so the list shows what the figure counts.
IN_SERVICE = "in_service"


@dataclass
class ProjectFilters:
    mine: bool = False
    park: int | None = None
    stage: str | None = None
    status: str | None = None
    industry: str | None = None
    sla: str | None = None
    staff: int | None = None
    since: dt.date | None = None  # created on or after (local date)
    q: str = ""
    sort: str = "created"
    desc: bool = True
    page: int = 1
    # Query parameters whose values made no sense; they were ignored.
    cleared: list[str] = field(default_factory=list)

    def args(self, **overrides) -> dict:
        """Query-string arguments reproducing these filters (for links and exports)."""
        values = {
            "view": "mine" if self.mine else "all", "park": self.park, "stage": self.stage,
            "status": self.status, "industry": self.industry, "sla": self.sla,
            "staff": self.staff, "since": self.since.isoformat() if self.since else None,
            "q": self.q or None, "sort": self.sort,
            "dir": "desc" if self.desc else "asc",
        }
        values.update(overrides)
        return {k: v for k, v in values.items() if v not in (None, "")}


def parse_filters(args, *, user, park_ids: set[int], staff_ids) -> ProjectFilters:
    """Filters from the query string.  A value that makes no sense (unknown stage, a park
    outside the user's scope, text where a number belongs) is dropped and named in
    ``cleared``; it never causes an error.  ``staff_ids(park_id)`` gives the staff that may
    be chosen once the park filter is known."""
    f = ProjectFilters()
    has_staff = user.staff_id is not None

    def pick(name, valid):
        raw = args.get(name, "")
        if raw == "":
            return None
        if valid(raw):
            return raw
        f.cleared.append(name)
        return None

    view = pick("view", lambda v: v in ("all", "mine") and (v == "all" or has_staff))
    f.mine = view == "mine" or (view is None and has_staff)
    park = pick("park", lambda v: parse_id(v) in park_ids)
    f.park = int(park) if park else None
    f.stage = pick("stage", lambda v: v in {s.value for s in Stage})
    f.status = pick("status", lambda v: v == IN_SERVICE or v in {s.value for s in ProjectStatus})
    f.industry = pick("industry", lambda v: v in INDUSTRIES)
    f.sla = pick("sla", lambda v: v in SLA_FILTERS)
    staff = pick("staff", lambda v: parse_id(v) in staff_ids(f.park))
    f.staff = int(staff) if staff else None
    since = pick("since", lambda v: _parse_date(v) is not None)
    f.since = _parse_date(since) if since else None
    f.q = " ".join((args.get("q") or "").split())[:MAX_SEARCH]
    f.sort = pick("sort", lambda v: v in SORTS) or "created"
    direction = pick("dir", lambda v: v in ("asc", "desc"))
    f.desc = direction != "asc" if direction else f.sort in ("created", "investment", "blockers")
    page = pick("page", lambda v: parse_id(v) is not None)
    f.page = int(page) if page else 1
    return f


def _parse_date(value: str) -> dt.date | None:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return None
    return day if 2000 <= day.year <= 2100 else None


# -- per-row figures (correlated subqueries) ----------------------------------------------

def next_due_column():
    return (select(func.min(Milestone.due_on))
            .where(Milestone.project_id == Project.id,
                   Milestone.status == MilestoneStatus.RUNNING.value)
            .correlate(Project).scalar_subquery())


def open_blockers_column():
    return (select(func.count(ProgressLog.id))
            .where(ProgressLog.project_id == Project.id, open_blocker_condition())
            .correlate(Project).scalar_subquery())


def lead_agent_column():
    return (select(Staff.name).join(Assignment, Assignment.staff_id == Staff.id)
            .where(Assignment.project_id == Project.id, Assignment.ended_at.is_(None),
                   Assignment.role == AssignmentRole.LEAD_AGENT.value)
            .correlate(Project).limit(1).scalar_subquery())


def _serves(staff_id: int):
    return select(Assignment.id).where(
        Assignment.project_id == Project.id, Assignment.staff_id == staff_id,
        Assignment.ended_at.is_(None)).exists()


def filtered(user, f: ProjectFilters, conditions=()) -> Select:
    """select(Project) in the user's scope with every filter applied (no order, no paging).

    ``conditions``: more SQL conditions on Project, from later packages (the deadline filter
    ``f.sla`` comes as milestones.queries.projects_with_milestones(...)).
    """
    query = select(Project).where(project_condition(user), *conditions)
    if f.mine:
        query = query.where(_serves(user.staff_id))
    if f.park:
        query = query.where(Project.park_id == f.park)
    if f.stage:
        query = query.where(Project.stage == f.stage)
    if f.status == IN_SERVICE:
        query = query.where(Project.in_service)
    elif f.status:
        query = query.where(Project.status == f.status)
    if f.industry:
        query = query.where(Project.industry == f.industry)
    if f.staff:
        query = query.where(_serves(f.staff))
    if f.since:
        query = query.where(Project.created_at >= local_day_start(f.since))
    if f.q:
        query = query.where(search_condition(f.q))
    return query


def search_condition(text: str):
    """Projects whose name, investor or code contains ``text`` (wildcards taken literally)."""
    pattern = contains_pattern(text)
    return or_(Project.name.ilike(pattern, escape=LIKE_ESCAPE),
               Project.investor_name.ilike(pattern, escape=LIKE_ESCAPE),
               Project.code.ilike(pattern, escape=LIKE_ESCAPE))


def _stage_order():
    return case({s.value: s.order for s in Stage}, value=Project.stage, else_=len(Stage))


def ordered(query: Select, f: ProjectFilters, next_due, blockers) -> Select:
    """Join the park (shown and sortable) and apply the sort order, id last for stability."""
    key = {
        "created": Project.created_at, "name": Project.name, "park": Park.short_name,
        "stage": _stage_order(), "investment": Project.investment, "due": next_due,
        "blockers": blockers,
    }[f.sort]
    key = key.desc() if f.desc else key.asc()
    if f.sort == "due":
        key = key.nulls_last()
    tie = Project.id.desc() if f.desc else Project.id.asc()
    return query.join(Park, Park.id == Project.park_id).order_by(key, tie)


@dataclass
class ProjectPage:
    rows: list  # (Project with park, next_due, open_blockers, lead_agent)
    count: int
    investment: int
    open_blockers: int
    page: int
    pages: int


def page_of(user, f: ProjectFilters, size: int, conditions=()) -> ProjectPage:
    """One page of the filtered list and the totals of the whole filtered set (two queries)."""
    query = filtered(user, f, conditions)
    scope = query.with_only_columns(Project.investment).subquery()
    # Open blockers of the filtered projects: from the open-blocker index to the projects
    # (a few thousand rows), not every log of every project in the set.
    blockers_total = (select(func.count(ProgressLog.id))
                      .join(Project, Project.id == ProgressLog.project_id)
                      .where(open_blocker_condition(), query.whereclause)
                      .scalar_subquery())
    count, investment, blockers = db.session.execute(
        select(func.count(), func.coalesce(func.sum(scope.c.investment), 0), blockers_total)
        .select_from(scope)
    ).one()
    pages = max((count + size - 1) // size, 1)
    page = min(f.page, pages)
    next_due, open_blockers, lead = next_due_column(), open_blockers_column(), lead_agent_column()
    rows = db.session.execute(
        ordered(query.add_columns(next_due, open_blockers, lead), f, next_due, open_blockers)
        .options(contains_eager(Project.park))
        .limit(size).offset((page - 1) * size)
    ).all()
    return ProjectPage(rows=rows, count=count, investment=investment or 0,
                       open_blockers=blockers or 0, page=page, pages=pages)


def newest_page(user, equals: dict, text: str | None, *, page: int,
                size: int) -> tuple[list[Project], int, int]:
    """The API's list: projects in the user's scope with the given column values (park,
    stage, status, industry; None: any) and search text, newest first; with the total count
    and investment of the whole filtered set."""
    columns = {"park": Project.park_id, "stage": Project.stage, "status": Project.status,
               "industry": Project.industry}
    query = select(Project).where(project_condition(user))
    for name, value in equals.items():
        if value is not None:
            query = query.where(columns[name] == value)
    if text:
        query = query.where(search_condition(text))
    matching = query.subquery()
    total, investment = db.session.execute(
        select(func.count(), func.coalesce(func.sum(matching.c.investment), 0))).one()
    items = db.session.scalars(
        query.order_by(Project.created_at.desc(), Project.id.desc())
        .limit(size).offset((page - 1) * size)).all()
    return list(items), total, investment


def export_statement(user, f: ProjectFilters, conditions=()):
    """The rows of the project list's spreadsheet, in the list's order (columns: name, code,
    investor, credit code, park, industry, stage, status, investment, lead agent, next due
    date, open blockers, contact, phone, signed on, expected start)."""
    next_due = next_due_column()
    blockers = open_blockers_column()
    return ordered(
        filtered(user, f, conditions).with_only_columns(
            Project.name, Project.code, Project.investor_name, Project.investor_credit_code,
            Park.name, Project.industry, Project.stage, Project.status, Project.investment,
            lead_agent_column(), next_due, blockers, Project.contact_name,
            Project.contact_phone, Project.signed_on, Project.expected_start_on),
        f, next_due, blockers)


def staff_choices(user, park_id: int | None) -> list[tuple[int, str, str]]:
    """(id, name, kind) of the staff serving the chosen park, or the user's parks.  For
    leadership (every park) the staff filter needs a park first: a city-wide list would
    hold thousands of names."""
    if park_id is None and sees_all(user):
        return []
    parks = select(staff_parks.c.staff_id).where(park_condition(user, staff_parks.c.park_id))
    if park_id:
        parks = parks.where(staff_parks.c.park_id == park_id)
    return [tuple(row) for row in db.session.execute(
        select(Staff.id, Staff.name, Staff.kind).where(Staff.id.in_(parks))
        .order_by(Staff.kind, Staff.name, Staff.id))]


def staff_in_scope(user, staff_id: int | None) -> list[tuple[int, str, str]]:
    """[(id, name, kind)] of one person serving a park in the user's scope, or []."""
    if staff_id is None:
        return []
    return [tuple(row) for row in db.session.execute(
        select(Staff.id, Staff.name, Staff.kind).where(
            Staff.id == staff_id,
            Staff.id.in_(select(staff_parks.c.staff_id)
                         .where(park_condition(user, staff_parks.c.park_id)))))]


def log_targets(user) -> list[tuple[int, str]]:
    """(id, name) of the projects the user logs on from a quick form: their own projects for
    staff, every visible project otherwise; dropped projects left out."""
    query = select(Project.id, Project.name).where(project_condition(user),
                                                   Project.status != ProjectStatus.DROPPED.value)
    if user.staff_id is not None:
        query = query.where(_serves(user.staff_id))
    return [tuple(row) for row in db.session.execute(query.order_by(Project.name, Project.id))]


# -- the progress log ----------------------------------------------------------------------

def open_blocker_condition():
    """A progress log that is an open blocker (``ProgressLog.is_open_blocker``)."""
    return ProgressLog.is_open_blocker


def in_service_condition():
    """A project being served: active and not yet approved (``Project.in_service``)."""
    return Project.in_service


def feed(project_id: int, page: int = 1, size: int = FEED_PAGE) -> tuple[list[ProgressLog], bool]:
    """A page of the project's log, newest first, with authors, milestones and annotations;
    and whether older entries exist.  Two queries whatever the size."""
    rows = db.session.scalars(
        select(ProgressLog).where(ProgressLog.project_id == project_id)
        .options(joinedload(ProgressLog.author), joinedload(ProgressLog.milestone),
                 joinedload(ProgressLog.resolved_by),
                 selectinload(ProgressLog.annotations).joinedload(LogAnnotation.author))
        .order_by(ProgressLog.created_at.desc(), ProgressLog.id.desc())
        .limit(size + 1).offset((max(page, 1) - 1) * size)
    ).all()
    return rows[:size], len(rows) > size


def open_blockers(project_id: int) -> list[ProgressLog]:
    return list(db.session.scalars(
        select(ProgressLog).where(ProgressLog.project_id == project_id, open_blocker_condition())
        .options(joinedload(ProgressLog.author))
        .order_by(ProgressLog.created_at, ProgressLog.id)
    ))


def log_export_statement(project_id: int):
    """A project's progress log, oldest first, for its spreadsheet (date, kind, approval item,
    hours, text, author, logged at, resolved at, resolution)."""
    return (
        select(ProgressLog.happened_on, ProgressLog.kind, Milestone.name, ProgressLog.hours,
               ProgressLog.text, User.display_name, ProgressLog.created_at,
               ProgressLog.resolved_at, ProgressLog.resolution_note)
        .outerjoin(Milestone, Milestone.id == ProgressLog.milestone_id)
        .outerjoin(User, User.id == ProgressLog.author_id)
        .where(ProgressLog.project_id == project_id)
        .order_by(ProgressLog.happened_on, ProgressLog.created_at, ProgressLog.id))


def open_blocker_counts(park_condition) -> dict[int, int]:
    """Open blockers per park, for the parks matching ``park_condition`` (a condition on
    ProgressLog.park_id, e.g. ``scope.park_condition(user, ProgressLog.park_id)``)."""
    return dict(db.session.execute(
        select(ProgressLog.park_id, func.count())
        .where(park_condition, open_blocker_condition())
        .group_by(ProgressLog.park_id)
    ).all())


def log_count(project_id: int) -> int:
    return db.session.scalar(
        select(func.count()).where(ProgressLog.project_id == project_id)) or 0


def project_log(project_id: int, log_id: int) -> ProgressLog | None:
    """A log entry of the project (None: no such entry there)."""
    return db.session.scalar(select(ProgressLog).where(
        ProgressLog.id == log_id, ProgressLog.project_id == project_id))


def get_project(project_id: int) -> Project | None:
    """A project by id, whatever the viewer's scope (callers have checked it)."""
    return db.session.get(Project, project_id)


def visible_log(user, log_id: int) -> ProgressLog | None:
    """A log entry of a project in the user's scope, with its project; None otherwise."""
    return db.session.scalar(
        select(ProgressLog).where(
            ProgressLog.id == log_id,
            project_condition(user, ProgressLog.project_id, ProgressLog.park_id))
        .options(joinedload(ProgressLog.project)))
