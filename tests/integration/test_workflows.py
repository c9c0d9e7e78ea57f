"""Cross-domain reactions happen through the events of crm/signals.py and the receivers of
crm/workflows.py, in the same transaction as the change that caused them."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

import pytest


@contextmanager
def received(signal):
    calls = []

    def receiver(sender, **kwargs):
        calls.append(kwargs)

    signal.connect(receiver)
    try:
        yield calls
    finally:
        signal.disconnect(receiver)


def test_every_reaction_is_connected_by_the_app(app):
    import weakref

    from crm import workflows

    for signal, receiver in workflows.RECEIVERS:
        connected = [r() if isinstance(r, weakref.ref) else r for r in signal.receivers.values()]
        assert receiver in connected, receiver


def test_a_registered_project_gets_its_plan_and_staff_in_the_same_transaction(app, world):
    from crm import signals
    from crm.extensions import db
    from crm.projects import services
    from crm.transaction import transaction

    data = {"name": "新项目", "investor_name": "投资方", "investment": 20000,
            "industry": "new_energy"}
    with app.app_context():
        with received(signals.project_registered) as calls:
            with transaction():
                project = services.create_project(data, park_id=world.park_a.id, stage="signed",
                                                  actor_id=None)
        project = db.session.merge(project)
        assert len(calls) == 1 and calls[0]["project"].id == project.id
        assert project.milestones, "the plan was drawn up"
        assert {a.role for a in project.assignments if a.is_active} == {"consultant", "lead_agent"}


def test_a_failing_reaction_undoes_the_change(app, world, monkeypatch):
    """The plan and the staff are part of the registration: if a reaction fails, nothing of
    the project is saved."""
    from sqlalchemy import func, select

    from crm import workflows
    from crm.extensions import db
    from crm.projects import services
    from crm.projects.models import Project
    from crm.transaction import transaction

    def broken(project):
        raise RuntimeError("the catalogue is unreachable")

    monkeypatch.setattr(workflows.plans, "create_plan", broken)
    data = {"name": "不会保存", "investor_name": "投资方", "investment": 20000,
            "industry": "new_energy"}
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Project))
        with pytest.raises(RuntimeError):
            with transaction():
                services.create_project(data, park_id=world.park_a.id, stage="signed",
                                        actor_id=None)
        assert db.session.scalar(select(func.count()).select_from(Project)) == before


def test_hooks_fire_for_blockers_and_approved_projects(app, world):
    from crm import signals
    from crm.extensions import db
    from crm.projects import services
    from crm.projects.models import Project

    with app.app_context():
        project = db.session.get(Project, world.projects["a1"].id)
        with received(signals.blocker_opened) as opened:
            services.add_log(project, author_id=None, kind="blocker",
                             happened_on=dt.date(2026, 1, 5), text="缺少材料")
            services.add_log(project, author_id=None, kind="visit",
                             happened_on=dt.date(2026, 1, 5), text="走访")
        assert [c["log"].text for c in opened] == ["缺少材料"]
        with received(signals.project_approved) as approved:
            services.change_stage(project, "permitting", reason="手动", actor_id=None)
            services.change_stage(project, "approved", reason="手动", actor_id=None)
        assert [c["project"].id for c in approved] == [project.id]
        db.session.rollback()


def test_a_staff_member_who_becomes_unavailable_is_announced_to_the_other_managers(app, world):
    from sqlalchemy import select

    from crm.agents.models import Staff
    from crm.agents.services import roster
    from crm.extensions import db
    from crm.notifications.models import Notification
    from crm.transaction import transaction

    with app.app_context():
        agent = db.session.get(Staff, world.staff["agent_a"].id)  # lead agent of a1
        manager = world.users["manager_a"].id
        with transaction():
            assert roster.update_staff(agent, capacity=agent.capacity, on_leave_until=None,
                                       active=False, phone=agent.phone, title=agent.title,
                                       actor_id=None)
        sent = db.session.scalars(select(Notification).where(
            Notification.kind == "staff_unavailable")).all()
        assert [n.user_id for n in sent] == [manager]
        # The manager who made the change is not told about it.
        db.session.query(Notification).delete()
        agent.active = True
        db.session.commit()
        with transaction():
            roster.update_staff(agent, capacity=agent.capacity, on_leave_until=None,
                                active=False, phone=agent.phone, title=agent.title,
                                actor_id=manager)
        assert db.session.scalars(select(Notification).where(
            Notification.kind == "staff_unavailable")).all() == []
