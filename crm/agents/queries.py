"""Reads of staff and assignments shared by pages, PDFs, services and the API: loads, park
rosters, the workload table, the unassigned queue (one definition of "unassigned"), a
project's team and history.  Each figure is one aggregate query, whatever the size of the
park (pages run a constant number of queries)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple
from fractions import Fraction

from sqlalchemy import Float, and_, case, cast, distinct, exists, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from crm.agents.models import Assignment, AssignmentRole, Staff, StaffKind, staff_parks
from crm.auth.models import User
from crm.auth.scope import park_condition
from crm.db import LIKE_ESCAPE, contains_pattern
from crm.extensions import db
from crm.milestones.models import Milestone
from crm.milestones.queries import overdue_condition
from crm.projects.models import ProgressLog, Project, ProjectStatus, Stage


CONSULTANT = AssignmentRole.CONSULTANT.value
LEAD_AGENT = AssignmentRole.LEAD_AGENT.value
HELPER = AssignmentRole.HELPER.value
PRINCIPAL_ROLES = (CONSULTANT, LEAD_AGENT)
KIND_OF_ROLE = {CONSULTANT: StaffKind.CONSULTANT.value, LEAD_AGENT: StaffKind.AGENT.value,
                HELPER: StaffKind.AGENT.value}
# A person's load counts the projects in service (approved ones need no more service).
ACTIVE_PROJECT = Project.in_service


def loads(staff_ids) -> dict[int, int]:
    """Active projects per person (ids, or a subquery of ids): one aggregate query."""
    rows = db.session.execute(
        select(Assignment.staff_id, func.count(distinct(Assignment.project_id)))
        .join(Project, Project.id == Assignment.project_id)
        .where(Assignment.staff_id.in_(staff_ids), Assignment.ended_at.is_(None), ACTIVE_PROJECT)
        .group_by(Assignment.staff_id)
    ).all()
    return {staff_id: count for staff_id, count in rows}


def roster_ids(park_id: int):
    """Subquery: the ids of the staff who serve the park."""
    return select(staff_parks.c.staff_id).where(staff_parks.c.park_id == park_id)


def park_roster(park_id: int) -> list[Staff]:
    """Everyone who serves the park: consultants first, then agents; by name."""
    return list(db.session.scalars(
        select(Staff).where(Staff.id.in_(roster_ids(park_id)))
        .order_by(Staff.kind.desc(), Staff.active.desc(), Staff.name, Staff.id)
    ))


def rosters(park_ids) -> dict[int, list[Staff]]:
    """The active staff of several parks (one query), by park, by name."""
    result: dict[int, list[Staff]] = {pid: [] for pid in park_ids}
    if result:
        for park_id, person in db.session.execute(
                select(staff_parks.c.park_id, Staff).join(Staff, Staff.id == staff_parks.c.staff_id)
                .where(staff_parks.c.park_id.in_(list(result)), Staff.active.is_(True))
                .order_by(Staff.name, Staff.id)):
            result[park_id].append(person)
    return result


@dataclass
class WorkloadRow:
    staff: Staff
    load: int  # active projects served
    overdue: int  # overdue milestones on those projects
    last_log: dt.date | None  # latest progress log written by the person

    @property
    def ratio(self) -> Fraction:
        return Fraction(self.load, self.staff.capacity or 1)

    @property
    def percent(self) -> int:
        return round(100 * self.ratio)


SORT_KEYS = {
    "name": lambda r: (r.staff.name, r.staff.id),
    "load": lambda r: (r.load, r.staff.id),
    "capacity": lambda r: (r.staff.capacity, r.staff.id),
    "ratio": lambda r: (r.ratio, r.staff.id),
    "overdue": lambda r: (r.overdue, r.staff.id),
    # Never logged sorts as the oldest.
    "last_log": lambda r: (r.last_log or dt.date.min, r.staff.id),
}


def workload(park_id: int, today: dt.date, sort: str = "ratio", descending: bool = True) -> list[WorkloadRow]:
    """Per person on the park's roster: active projects, capacity, overdue milestones on the
    projects they serve, last progress log.  Four queries (roster + one per figure); a
    person's figures count all their projects, also those in other parks they serve."""
    roster = park_roster(park_id)
    ids = roster_ids(park_id)
    load = loads(ids)
    overdue = dict(db.session.execute(
        select(Assignment.staff_id, func.count(distinct(Milestone.id)))
        .join(Project, Project.id == Assignment.project_id)
        .join(Milestone, Milestone.project_id == Assignment.project_id)
        .where(Assignment.staff_id.in_(ids), Assignment.ended_at.is_(None), ACTIVE_PROJECT,
               overdue_condition(today))
        .group_by(Assignment.staff_id)
    ).all())
    # One index probe (author, date) per person's user: a join would walk every log.
    latest = (select(func.max(ProgressLog.happened_on))
              .where(ProgressLog.author_id == User.id).correlate(User).scalar_subquery())
    last_log: dict = {}
    for staff_id, day in db.session.execute(
            select(User.staff_id, latest).where(User.staff_id.in_(ids))):
        if day is not None and (last_log.get(staff_id) is None or day > last_log[staff_id]):
            last_log[staff_id] = day
    rows = [WorkloadRow(s, load.get(s.id, 0), overdue.get(s.id, 0), last_log.get(s.id))
            for s in roster]
    rows.sort(key=SORT_KEYS.get(sort, SORT_KEYS["ratio"]), reverse=descending)
    return rows


class BusyRow(NamedTuple):
    staff_id: int
    name: str
    kind: str
    capacity: int
    load: int  # active projects served
    overdue: int  # overdue milestones on those projects


def busiest(today: dt.date, *, park_id: int | None = None, limit: int) -> list[BusyRow]:
    """The most loaded active people (of a park's roster, or of the city), load ratio first:
    one query, the figures aggregated in SQL and the ranking done by the database."""
    people = [Assignment.ended_at.is_(None), ACTIVE_PROJECT]
    condition = [Staff.active.is_(True)]
    if park_id is not None:
        people.append(Assignment.staff_id.in_(roster_ids(park_id)))
    # One pass over the people's open assignments: their active projects and, among those
    # projects' milestones, the overdue ones.
    per_person = (
        select(Assignment.staff_id,
               func.count(distinct(Assignment.project_id)).label("n"),
               func.count(distinct(Milestone.id)).label("overdue"))
        .join(Project, Project.id == Assignment.project_id)
        .outerjoin(Milestone, and_(Milestone.project_id == Assignment.project_id,
                                   overdue_condition(today)))
        .where(*people).group_by(Assignment.staff_id).subquery())
    load = func.coalesce(per_person.c.n, 0)
    query = select(Staff.id, Staff.name, Staff.kind, Staff.capacity, load,
                   func.coalesce(per_person.c.overdue, 0))
    if park_id is not None:
        # Start from the park's roster (its index), not from every staff member of the city:
        # the park's figure costs the same in a city of 10 parks and of 200.
        query = query.select_from(staff_parks).join(Staff, Staff.id == staff_parks.c.staff_id)
        condition = [Staff.active.is_(True), staff_parks.c.park_id == park_id]
    rows = db.session.execute(
        query
        .outerjoin(per_person, per_person.c.staff_id == Staff.id)
        .where(*condition)
        .order_by((cast(load, Float) / Staff.capacity).desc(), Staff.name, Staff.id)
        .limit(limit))
    return [BusyRow(*row) for row in rows]


def holder(project_id: int, role: str) -> int | None:
    """The staff member currently in ``role`` on the project."""
    return db.session.scalar(select(Assignment.staff_id).where(
        Assignment.project_id == project_id, Assignment.role == role,
        Assignment.ended_at.is_(None)))


def _holds(role: str):
    return exists().where(Assignment.project_id == Project.id, Assignment.role == role,
                          Assignment.ended_at.is_(None))


def _principals():
    """How many of the two principal roles the project has filled (0-2: the database allows
    at most one active consultant and one active lead agent per project)."""
    return (select(func.count()).select_from(Assignment)
            .where(Assignment.project_id == Project.id, Assignment.ended_at.is_(None),
                   Assignment.role.in_((CONSULTANT, LEAD_AGENT)))
            .correlate(Project).scalar_subquery())


def unassigned_condition():
    """An active project still being served (not yet approved) without an active chief
    consultant or without an active lead agent.

    One index lookup per project (the unique index of active principals), not a hash of
    every active assignment in the city."""
    return and_(Project.in_service, _principals() < 2)


def unassigned_query(park_id: int):
    """The park's unassigned queue, oldest first, with which roles are filled."""
    return (
        select(Project, _holds(CONSULTANT).label("has_consultant"), _holds(LEAD_AGENT).label("has_lead"))
        .where(Project.park_id == park_id, unassigned_condition())
        .order_by(Project.created_at, Project.id)
    )


def unassigned_count(park_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Project).where(
        Project.park_id == park_id, unassigned_condition())) or 0


def park_figures(park_ids: list[int]) -> dict[int, dict]:
    """Per park: roster size, active people, unassigned projects (two queries)."""
    figures = {pid: {"staff": 0, "active": 0, "unassigned": 0} for pid in park_ids}
    if not park_ids:
        return figures
    for park_id, total, active in db.session.execute(
            select(staff_parks.c.park_id, func.count(),
                   func.sum(case((Staff.active.is_(True), 1), else_=0)))
            .join(Staff, Staff.id == staff_parks.c.staff_id)
            .where(staff_parks.c.park_id.in_(park_ids)).group_by(staff_parks.c.park_id)):
        figures[park_id].update(staff=total, active=int(active or 0))
    for park_id, count in db.session.execute(
            select(Project.park_id, func.count())
            .where(Project.park_id.in_(park_ids), unassigned_condition())
            .group_by(Project.park_id)):
        figures[park_id]["unassigned"] = count
    return figures


def history(project_id: int) -> list[Assignment]:
    """Every assignment of the project, current first, then by start (one query)."""
    return list(db.session.scalars(
        select(Assignment).where(Assignment.project_id == project_id)
        .options(joinedload(Assignment.staff), joinedload(Assignment.assigned_by),
                 joinedload(Assignment.ended_by))
        .order_by(Assignment.ended_at.is_not(None), Assignment.started_at.desc(), Assignment.id.desc())
    ).unique())


def open_assignments(staff_id: int, condition) -> list[Assignment]:
    """The person's active assignments on projects not dropped, within ``condition`` (the
    viewer's project scope), with their projects and parks (one query)."""
    return list(db.session.scalars(
        select(Assignment).join(Project, Project.id == Assignment.project_id)
        .where(Assignment.staff_id == staff_id, Assignment.ended_at.is_(None),
               Project.status != ProjectStatus.DROPPED.value, condition)
        .options(joinedload(Assignment.project).joinedload(Project.park))
        .order_by(Project.park_id, Assignment.role, Project.name, Assignment.id)
    ).unique())


def open_assignment_count(staff_id: int, condition=None) -> int:
    """How many such assignments the person has (all, or only those matching ``condition``)."""
    query = (select(func.count()).select_from(Assignment)
             .join(Project, Project.id == Assignment.project_id)
             .where(Assignment.staff_id == staff_id, Assignment.ended_at.is_(None),
                    Project.status != ProjectStatus.DROPPED.value))
    if condition is not None:
        query = query.where(condition)
    return db.session.scalar(query) or 0


def park_staff_member(park_id: int, staff_id: int) -> Staff | None:
    """A person on the park's roster (None: no such person there)."""
    return db.session.scalar(select(Staff).where(Staff.id == staff_id,
                                                 Staff.id.in_(roster_ids(park_id))))


def _serves_a_park():
    return exists().where(staff_parks.c.staff_id == Staff.id)


def roster_candidates(park_id: int, text: str, *, anyone: bool = False,
                      limit: int = 20) -> list[Staff]:
    """Active people a park may add to its roster whose name (or, for people who serve no
    park yet, phone) contains ``text``: those who serve no park, and those an admin released
    (``anyone``: admins may add everybody).  Another park's staff stays invisible."""
    pattern = contains_pattern(text)
    unattached = ~_serves_a_park()
    matches = or_(Staff.name.ilike(pattern, escape=LIKE_ESCAPE),
                  unattached & Staff.phone.ilike(pattern, escape=LIKE_ESCAPE))
    query = select(Staff).where(~Staff.id.in_(roster_ids(park_id)), Staff.active.is_(True),
                                matches)
    if not anyone:
        query = query.where(or_(unattached, Staff.released.is_(True)))
    return list(db.session.scalars(query.options(selectinload(Staff.parks))
                                   .order_by(Staff.name, Staff.id).limit(limit)))


def serves_only(staff_id: int, park_ids) -> bool:
    """Whether every park the person serves is among ``park_ids`` (the parks of a manager:
    only then may the manager change the person's record)."""
    others = db.session.scalar(select(func.count()).select_from(staff_parks).where(
        staff_parks.c.staff_id == staff_id, staff_parks.c.park_id.not_in(list(park_ids))))
    return not others


def unassigned_page(park_id: int, size: int, page: int) -> list:
    """One page of the park's unassigned queue: (Project, has_consultant, has_lead) rows."""
    return db.session.execute(
        unassigned_query(park_id).limit(size).offset((page - 1) * size)).all()


def unassigned_projects(park_id: int, project_id: int | None = None,
                        limit: int = 200) -> list[Project]:
    """The park's unassigned projects, oldest first (one of them when ``project_id``)."""
    query = unassigned_query(park_id)
    if project_id:
        query = query.where(Project.id == project_id)
    return [row.Project for row in db.session.execute(query.limit(limit)).all()]


def staff_in_scope(user) -> list[Staff]:
    """The staff serving the parks the user may see, with their parks (two queries)."""
    in_scope = select(staff_parks.c.staff_id).where(park_condition(user, staff_parks.c.park_id))
    return list(db.session.scalars(
        select(Staff).where(Staff.id.in_(in_scope)).options(selectinload(Staff.parks))
        .order_by(Staff.id)))
