"""The SLA sweep: milestones that became due soon or overdue notify their owner (else the lead
agent) and the park's managers, once per state; a constant number of queries."""

import datetime as dt

from sqlalchemy import select

from tests import factories
from tests.conftest import count_queries

D = dt.date
TODAY = D(2025, 10, 20)  # Monday



def _inbox(db_session, user_id):
    from crm.notifications.models import Notification

    return db_session.execute(select(Notification.kind, Notification.params["milestone"].as_string())
                           .where(Notification.user_id == user_id)
                           .order_by(Notification.id)).all()


def _setup(db_session, world):
    from crm.projects.models import Project

    project = db_session.get(Project, world.projects["b1"].id)  # park B; lead agent agent_b
    owner = factories.staff([project.park], "agent", "周代办")
    owner_user = factories.user("owner_b", "agent", staff=owner)
    running = dict(status="running", accepted_on=D(2025, 10, 1))
    soon = factories.milestone(project, "环评审批", due_on=D(2025, 10, 22), owner_staff_id=owner.id,
                               **running)  # 2 working days left
    late = factories.milestone(project, "节能审查", due_on=D(2025, 10, 17), **running)
    fine = factories.milestone(project, "用地预审", due_on=D(2025, 10, 23), **running)  # 3 left
    factories.milestone(project, "施工许可", status="done", due_on=D(2025, 10, 1),
                        completed_on=D(2025, 10, 2), outcome="missed")
    db_session.commit()
    return soon, late, fine, owner_user


def test_sweep_notifies_owner_lead_agent_and_managers_once_per_state(db_session, world):
    from crm.milestones.services.sweep import sweep

    soon, late, fine, owner_user = _setup(db_session, world)
    result = sweep(TODAY)
    db_session.commit()
    assert (result.milestones, result.notifications) == (2, 4)
    assert _inbox(db_session, owner_user.id) == [("milestone_due_soon", "环评审批")]
    assert _inbox(db_session, world.users["agent_b"].id) == [("milestone_overdue", "节能审查")]
    assert sorted(_inbox(db_session, world.users["manager_b"].id)) == [
        ("milestone_due_soon", "环评审批"), ("milestone_overdue", "节能审查")]
    assert _inbox(db_session, world.users["manager_a"].id) == []  # another park's manager
    assert (soon.notified_state, late.notified_state, fine.notified_state) == (
        "due_soon", "overdue", None)
    # The same day again: nothing new.
    assert sweep(TODAY).notifications == 0
    # Next day: "fine" is due soon now; the day after "soon" is overdue.
    assert sweep(TODAY + dt.timedelta(days=1)).milestones == 1
    db_session.commit()
    result = sweep(TODAY + dt.timedelta(days=4))
    db_session.commit()
    assert result.milestones == 2  # soon and fine both overdue
    assert _inbox(db_session, owner_user.id)[-1] == ("milestone_overdue", "环评审批")


def test_a_deadline_moved_later_is_announced_again(db_session, world):
    from crm.milestones.services.sweep import sweep

    soon, *_ = _setup(db_session, world)
    sweep(TODAY)
    db_session.commit()
    soon.due_on = D(2025, 11, 20)  # e.g. a pause was resolved, the deadline moved
    db_session.commit()
    sweep(TODAY)
    db_session.commit()
    db_session.refresh(soon)
    assert soon.notified_state is None
    soon.due_on = D(2025, 10, 21)
    db_session.commit()
    assert sweep(TODAY).milestones == 1


def test_sweep_queries_do_not_grow_with_the_number_of_milestones(app, db_session, world):
    from crm.milestones.services.sweep import sweep
    from crm.projects.models import Project

    _setup(db_session, world)

    def run():
        with count_queries(app) as counter:
            sweep(TODAY)
        db_session.rollback()
        return counter

    small = run()
    project = db_session.get(Project, world.projects["a1"].id)  # park A, another lead agent and manager
    for n in range(15):
        factories.milestone(project, f"节点{n}", status="running", due_on=D(2025, 10, 17 - n % 3))
    db_session.commit()
    large = run()
    inserts = [s for s in large.statements if s.lstrip().upper().startswith("INSERT")]
    others = [s for s in large.statements if not s.lstrip().upper().startswith("INSERT")]
    small_others = [s for s in small.statements if not s.lstrip().upper().startswith("INSERT")]
    # Reads and updates are constant; only the notification inserts (and their audit) grow.
    assert len(others) <= len(small_others) + 2, others
    assert inserts


def test_the_sweep_job_commits_its_notifications(app, world):
    from crm.extensions import db
    from crm.milestones.jobs import sla_sweep
    from crm.projects.models import Project

    assert ("crm.milestones.jobs.sla_sweep", 600) in app.extensions["periodic_jobs"]
    with app.app_context():
        project = db.session.get(Project, world.projects["b1"].id)
        factories.milestone(project, "节能审查", status="running", due_on=D(2020, 1, 6))
        db.session.commit()
        assert sla_sweep() == {"milestones": 1, "notifications": 2}
        db.session.rollback()
        assert len(_inbox(db.session, world.users["manager_b"].id)) == 1
