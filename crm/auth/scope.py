"""The one place that decides what a user can see (DESIGN §4 Access).

- admin, leader: every park and project;
- park_manager: the parks they run and those parks' projects;
- consultant, agent: the projects they are actively assigned to (and the parks they serve).

Every list, detail page, API endpoint and export builds its query from these helpers.  A
record outside the scope answers 404 as if it did not exist.
"""

from __future__ import annotations

from flask import abort
from sqlalchemy import Select, false, select, true
from sqlalchemy.sql.elements import ColumnElement

from crm.agents.models import Assignment, staff_parks
from crm.auth.models import Role, User, user_parks
from crm.extensions import db
from crm.parks.models import Park
from crm.projects.models import Project

SEE_ALL = (Role.ADMIN, Role.LEADER)
ASSIGNED_ONLY = (Role.CONSULTANT, Role.AGENT)


def sees_all(user: User) -> bool:
    return user.role in SEE_ALL


def assigned_only(user: User) -> bool:
    """Whether the user sees only the projects they are assigned to (consultants, agents)."""
    return user.role in ASSIGNED_ONLY


def park_condition(user: User, park_id_column=Park.id) -> ColumnElement[bool]:
    """SQL condition on a park id column: the parks the user may see."""
    if sees_all(user):
        return true()
    if user.role == Role.PARK_MANAGER:
        return park_id_column.in_(select(user_parks.c.park_id).where(user_parks.c.user_id == user.id))
    if user.role in ASSIGNED_ONLY and user.staff_id is not None:
        return park_id_column.in_(
            select(staff_parks.c.park_id).where(staff_parks.c.staff_id == user.staff_id)
        )
    return false()


def project_condition(user: User, project_id_column=Project.id,
                      park_id_column=Project.park_id) -> ColumnElement[bool]:
    """SQL condition on a project: the projects the user may see.

    Pass other columns to scope rows that carry their own project and park ids (milestones,
    progress logs) without joining the projects table.
    """
    if sees_all(user):
        return true()
    if user.role == Role.PARK_MANAGER:
        return park_condition(user, park_id_column)
    if user.role in ASSIGNED_ONLY and user.staff_id is not None:
        return project_id_column.in_(
            select(Assignment.project_id).where(
                Assignment.staff_id == user.staff_id, Assignment.ended_at.is_(None)
            )
        )
    return false()


def visible_projects(user: User) -> Select:
    """select(Project) limited to the user's scope; add filters, order and paging to it."""
    return select(Project).where(project_condition(user))


def visible_parks(user: User) -> list[Park]:
    return list(db.session.scalars(select(Park).where(park_condition(user)).order_by(Park.id)))


def visible_park_ids(user: User) -> set[int]:
    return set(db.session.scalars(select(Park.id).where(park_condition(user))))


def get_project_or_404(user: User, project_id: int, *options) -> Project:
    project = db.session.scalar(
        select(Project).where(Project.id == project_id, project_condition(user)).options(*options)
    )
    if project is None:
        abort(404)
    return project


def get_park_or_404(user: User, park_id: int) -> Park:
    park = db.session.scalar(select(Park).where(Park.id == park_id, park_condition(user)))
    if park is None:
        abort(404)
    return park


def can_see_project(user: User, project_id: int) -> bool:
    return db.session.scalar(
        select(Project.id).where(Project.id == project_id, project_condition(user))
    ) is not None
