"""Shared fixture and helpers of the agents tests (rosters, assignment)."""

import pytest
from sqlalchemy import func, select


@pytest.fixture
def ctx(app, world):
    """A request context (services translate their messages) with the world's rows loaded."""
    from crm.extensions import db
    from crm.models import Park, Project, Staff, User

    with app.test_request_context():
        class Ctx:
            session = db.session
            park_a = db.session.get(Park, world.park_a.id)
            park_b = db.session.get(Park, world.park_b.id)
            p = {k: db.session.get(Project, v.id) for k, v in world.projects.items()}
            s = {k: db.session.get(Staff, v.id) for k, v in world.staff.items()}
            u = {k: db.session.get(User, v.id) for k, v in world.users.items()}
        yield Ctx
        db.session.rollback()


def active_rows(project):
    from crm.agents.models import Assignment
    from crm.extensions import db

    return {(a.role, a.staff_id) for a in db.session.scalars(select(Assignment).where(
        Assignment.project_id == project.id, Assignment.ended_at.is_(None)))}


def snapshot():
    """Row counts a refused change must leave alone."""
    from crm.extensions import db
    from crm.models import Assignment, AuditEvent, Notification

    db.session.flush()
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (Assignment, Notification, AuditEvent))


def notifications_of(user):
    from crm.extensions import db
    from crm.models import Notification

    return [(n.kind, n.params["project"], n.params["role"]) for n in db.session.scalars(
        select(Notification).where(Notification.user_id == user.id).order_by(Notification.id))]


def audit_actions(entity_type="assignments"):
    from crm.extensions import db
    from crm.models import AuditEvent

    return [e.action for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == entity_type).order_by(AuditEvent.id))]
