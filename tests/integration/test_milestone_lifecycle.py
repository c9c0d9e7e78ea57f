"""The milestone lifecycle services: transitions, refusals naming the field, stored deadline facts,
audit, optimistic locking, and the automatic stage advance."""

import datetime as dt

import pytest
from sqlalchemy import func, select, text

from crm.errors import Conflict

from tests import factories
from tests.conftest import DB_KIND

D = dt.date
TODAY = D(2025, 10, 20)



def _project(db_session, world, key="b1"):
    from crm.projects.models import Project

    return db_session.get(Project, world.projects[key].id)


def _events(db_session, milestone_id):
    from crm.audit.models import AuditEvent

    return db_session.scalars(select(AuditEvent.action).where(
        AuditEvent.entity_type == "milestones", AuditEvent.entity_id == milestone_id)
        .order_by(AuditEvent.id)).all()


def _refused(call, field):
    from crm.errors import DomainError as MilestoneError

    with pytest.raises(MilestoneError) as info:
        call()
    assert info.value.field == field, (info.value.field, str(info.value))
    return str(info.value)


def test_start_is_back_dated_never_in_the_future(db_session, world):
    from crm.milestones.services import lifecycle

    m = factories.milestone(_project(db_session, world), limit_value=10)
    db_session.commit()
    _refused(lambda: lifecycle.start(m, accepted_on=TODAY + dt.timedelta(days=1), today=TODAY, parallel_reason="测试：并联办理"),
             "accepted_on")
    _refused(lambda: lifecycle.start(m, accepted_on=None, today=TODAY, parallel_reason="测试：并联办理"), "accepted_on")
    _refused(lambda: lifecycle.start(m, accepted_on=D(2000, 6, 1), today=TODAY, parallel_reason="测试：并联办理"), "accepted_on")
    db_session.rollback()
    assert db_session.get(type(m), m.id).status == "pending"  # nothing saved
    lifecycle.start(m, accepted_on=D(2025, 9, 22), today=TODAY, version=m.version, parallel_reason="测试：并联办理")
    db_session.commit()
    assert (m.status, m.due_on, m.due_provisional, m.remaining_workdays) == (
        "running", D(2025, 10, 11), False, None)
    assert _events(db_session, m.id)[-1] == "milestone.start"
    _refused(lambda: lifecycle.start(m, accepted_on=D(2025, 9, 22), today=TODAY, parallel_reason="测试：并联办理"), "status")


def test_pause_freezes_and_resume_moves_the_deadline_over_the_holiday(db_session, world):
    from crm.milestones.services import lifecycle
    from crm.milestones.models import MilestonePause

    m = factories.milestone(_project(db_session, world), limit_value=10)
    lifecycle.start(m, accepted_on=D(2025, 9, 22), today=TODAY, parallel_reason="测试：并联办理")
    db_session.commit()
    _refused(lambda: lifecycle.resume(m, resumed_on=TODAY, today=TODAY), "status")  # not paused
    _refused(lambda: lifecycle.pause(m, paused_on=D(2025, 9, 29), reason_code="holiday",
                                     today=TODAY), "reason_code")
    _refused(lambda: lifecycle.pause(m, paused_on=D(2025, 9, 21), reason_code="supplement",
                                     today=TODAY), "paused_on")  # before acceptance
    _refused(lambda: lifecycle.pause(m, paused_on=TODAY + dt.timedelta(days=1),
                                     reason_code="supplement", today=TODAY), "paused_on")
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(MilestonePause)) == 0
    lifecycle.pause(m, paused_on=D(2025, 9, 29), reason_code="supplement",
                    document_ref="补正通知〔2025〕12号", today=TODAY,
                    actor_id=world.users["agent_b"].id)
    db_session.commit()
    assert (m.status, m.due_on, m.remaining_workdays) == ("paused", None, 5)
    _refused(lambda: lifecycle.complete(m, completed_on=TODAY, today=TODAY), "status")
    _refused(lambda: lifecycle.resume(m, resumed_on=D(2025, 9, 28), today=TODAY), "resumed_on")
    db_session.rollback()
    lifecycle.resume(m, resumed_on=D(2025, 10, 9), today=TODAY)
    db_session.commit()
    assert (m.status, m.due_on, m.remaining_workdays) == ("running", D(2025, 10, 14), None)
    assert m.pauses[0].resumed_on == D(2025, 10, 9)
    assert _events(db_session, m.id)[-2:] == ["milestone.pause", "milestone.resume"]
    # A second pause cannot start inside the first.
    _refused(lambda: lifecycle.pause(m, paused_on=D(2025, 10, 8), reason_code="testing",
                                     today=TODAY), "paused_on")


def test_complete_records_outcome_days_used_and_is_never_before_acceptance(db_session, world):
    from crm.milestones.services import lifecycle

    project = _project(db_session, world)
    met = factories.milestone(project, limit_value=10, stage="land")
    missed = factories.milestone(project, limit_value=3, stage="land")
    for m in (met, missed):
        lifecycle.start(m, accepted_on=D(2025, 9, 22), today=TODAY, parallel_reason="测试：并联办理")
    db_session.commit()
    _refused(lambda: lifecycle.complete(met, completed_on=D(2025, 9, 19), today=TODAY),
             "completed_on")
    _refused(lambda: lifecycle.complete(met, completed_on=TODAY + dt.timedelta(days=2),
                                        today=TODAY), "completed_on")
    _refused(lambda: lifecycle.complete(met, completed_on=D(2025, 9, 30), today=TODAY,
                                        approval_doc_no="x" * 101), "approval_doc_no")
    db_session.rollback()
    lifecycle.complete(met, completed_on=D(2025, 9, 30), today=TODAY,
                       approval_doc_no="通自然资规〔2025〕88号", issuing_department="自然资源和规划局")
    lifecycle.complete(missed, completed_on=D(2025, 10, 9), today=TODAY)
    db_session.commit()
    assert (met.status, met.outcome, met.workdays_used) == ("done", "met", 7)
    assert (missed.outcome, missed.due_on, missed.workdays_used) == ("missed", D(2025, 9, 25), 8)
    assert met.approval_doc_no == "通自然资规〔2025〕88号"
    assert _events(db_session, met.id)[-1] == "milestone.complete"


def test_waive_needs_a_reason_and_reopen_goes_back(db_session, world):
    from crm.milestones.services import lifecycle

    project = _project(db_session, world)
    never_started = factories.milestone(project, stage="permitting")
    paused = factories.milestone(project, stage="permitting")
    lifecycle.start(paused, accepted_on=D(2025, 10, 13), today=TODAY, parallel_reason="测试：并联办理")
    lifecycle.pause(paused, paused_on=D(2025, 10, 14), reason_code="enterprise", today=TODAY)
    db_session.commit()
    _refused(lambda: lifecycle.waive(never_started, reason="   ", today=TODAY), "reason")
    db_session.rollback()
    lifecycle.waive(never_started, reason="本项目无需办理", today=TODAY)
    lifecycle.waive(paused, reason="企业撤回申请", today=TODAY)
    db_session.commit()
    assert never_started.status == paused.status == "waived"
    assert paused.pauses[0].resumed_on == TODAY  # the open pause is closed
    assert paused.due_on is None and paused.remaining_workdays is None
    _refused(lambda: lifecycle.waive(paused, reason="again", today=TODAY), "status")
    _refused(lambda: lifecycle.reopen(paused, reason="", today=TODAY), "reason")
    db_session.rollback()
    lifecycle.reopen(never_started, reason="误操作", today=TODAY)
    lifecycle.reopen(paused, reason="企业重新申请", today=TODAY)
    db_session.commit()
    assert never_started.status == "pending" and never_started.waive_reason is None
    assert paused.status == "running" and paused.due_on is not None
    assert _events(db_session, paused.id)[-1] == "milestone.reopen"


def test_reopen_of_a_done_milestone_clears_the_outcome(db_session, world):
    from crm.milestones.services import lifecycle

    m = factories.milestone(_project(db_session, world), limit_value=3, stage="permitting")
    lifecycle.start(m, accepted_on=D(2025, 9, 22), today=TODAY, parallel_reason="测试：并联办理")
    lifecycle.complete(m, completed_on=D(2025, 10, 9), today=TODAY, approval_doc_no="A-1")
    db_session.commit()
    _refused(lambda: lifecycle.pause(m, paused_on=TODAY, reason_code="other", today=TODAY), "status")
    lifecycle.reopen(m, reason="批文有误", today=TODAY)
    db_session.commit()
    assert (m.status, m.outcome, m.completed_on, m.workdays_used, m.approval_doc_no) == (
        "running", None, None, None, None)
    assert m.due_on == D(2025, 9, 25)


def test_a_stale_form_version_is_refused_and_nothing_is_lost(db_session, world):
    from crm.milestones.services import lifecycle

    m = factories.milestone(_project(db_session, world))
    db_session.commit()
    seen = m.version
    lifecycle.start(m, accepted_on=D(2025, 10, 13), today=TODAY, version=seen, parallel_reason="测试：并联办理")
    db_session.commit()
    with pytest.raises(Conflict):
        lifecycle.waive(m, reason="两人同时操作", today=TODAY, version=seen)
    db_session.rollback()
    assert db_session.get(type(m), m.id).status == "running"


def test_a_concurrent_flush_is_caught_by_the_version_column(app, db_session, world):
    """Another transaction commits between our read and our write: the mapper's version check
    fails the flush, and the service answers "changed by someone else"."""
    from crm.extensions import db
    from crm.milestones.services import lifecycle
    from crm.milestones.models import Milestone

    m = factories.milestone(_project(db_session, world))
    db_session.commit()
    m = db_session.get(Milestone, m.id)
    m.pauses  # noqa: B018 - loaded as a form would have it
    db_session.expunge(m)
    db_session.commit()
    with db.engine.begin() as other:  # someone else's change, committed
        other.execute(text("UPDATE milestones SET version = version + 1, name = 'x' WHERE id = :id"),
                      {"id": m.id})
    db_session.add(m)
    with pytest.raises(Conflict):
        lifecycle.start(m, accepted_on=D(2025, 10, 13), today=TODAY, parallel_reason="测试：并联办理")
    db_session.rollback()
    assert db_session.get(Milestone, m.id).name == "x"


def test_finishing_a_stage_advances_the_project_possibly_several_stages(db_session, world):
    from crm.milestones.services import lifecycle
    from crm.milestones.services.plans import create_plan
    from crm.projects.models import StageChange

    project = _project(db_session, world)  # b1, in filing
    create_plan(project)
    factories.milestone(project, stage="filing", required=False)  # optional: does not hold it
    filing = [m for m in project.milestones if m.stage == "filing" and m.required]
    land = [m for m in project.milestones if m.stage == "land"]
    assert len(filing) >= 2 and land
    for m in filing + land:
        lifecycle.start(m, accepted_on=D(2025, 10, 13), today=TODAY, parallel_reason="测试：并联办理")
    for m in land:  # the land approvals came through early
        lifecycle.complete(m, completed_on=TODAY, today=TODAY)
    for m in filing[:-1]:
        lifecycle.complete(m, completed_on=TODAY, today=TODAY)
    db_session.commit()
    assert project.stage == "filing"  # one required filing milestone still open
    lifecycle.waive(filing[-1], reason="合并办理", today=TODAY, actor_id=world.users["agent_b"].id)
    db_session.commit()
    assert project.stage == "planning"  # filing and land both finished
    changes = db_session.scalars(select(StageChange).where(StageChange.project_id == project.id)
                          .order_by(StageChange.id)).all()
    assert [(c.from_stage, c.to_stage, c.automatic) for c in changes] == [
        ("filing", "land", True), ("land", "planning", True)]
    assert changes[-1].changed_by_id == world.users["agent_b"].id


def test_custom_milestones_are_checked_and_placed_in_their_stage(db_session, world):
    from crm.milestones.services import lifecycle
    from crm.milestones.services.plans import create_plan

    project = _project(db_session, world)
    create_plan(project)
    db_session.commit()
    kwargs = dict(name="防雷装置设计审核", stage="permitting", limit_value=10, limit_unit="working")
    _refused(lambda: lifecycle.add_custom(project, **{**kwargs, "limit_value": 0}), "limit_value")
    _refused(lambda: lifecycle.add_custom(project, **{**kwargs, "limit_value": -2}), "limit_value")
    _refused(lambda: lifecycle.add_custom(project, **{**kwargs, "limit_unit": "hours"}), "limit_unit")
    _refused(lambda: lifecycle.add_custom(project, **{**kwargs, "stage": "signed"}), "stage")
    _refused(lambda: lifecycle.add_custom(project, **{**kwargs, "name": " "}), "name")
    _refused(lambda: lifecycle.add_custom(project, **kwargs, statutory_value=0), "statutory_value")
    db_session.rollback()
    m = lifecycle.add_custom(project, **{**kwargs, "stage": "land"}, department="气象局",
                             statutory_value=20)
    db_session.commit()
    db_session.expire(project, ["milestones"])
    # Shown after the land items of the catalogue and before the planning ones.
    order = [x.name for x in project.milestones]
    assert order.index("防雷装置设计审核") == order.index("不动产权证（土地首次登记）") + 1
    assert (m.status, m.approval_item_id, m.park_id, m.statutory_value) == (
        "pending", None, project.park_id, 20)
    negotiating = factories.project(_project(db_session, world).park, stage="negotiating")
    _refused(lambda: lifecycle.add_custom(negotiating, **kwargs), None)


def test_allowed_actions_follow_status_and_role(db_session, world):
    from crm.auth.models import User
    from crm.milestones import queries as lifecycle

    m = factories.milestone(_project(db_session, world))
    agent = db_session.get(User, world.users["agent_b"].id)
    manager = db_session.get(User, world.users["manager_b"].id)
    leader = db_session.get(User, world.users["leader"].id)
    assert lifecycle.allowed_actions(m, agent) == ["start", "waive"]
    assert lifecycle.allowed_actions(m, leader) == []
    m.status = "done"
    assert lifecycle.allowed_actions(m, agent) == []
    assert lifecycle.allowed_actions(m, manager) == ["reopen"]


@pytest.mark.skipif(DB_KIND != "postgresql", reason="row locks: SQLite serialises writers anyway")
def test_two_people_finishing_a_stage_at_once_still_advance_it(app, world):
    """Each completes one of the stage's last two milestones in their own transaction, both
    having read the plan first: the project row lock makes the second see the first's work."""
    import threading

    from crm.extensions import db
    from crm.milestones.services import lifecycle
    from crm.milestones.models import Milestone
    from crm.projects.models import Project

    with app.app_context():
        project = db.session.get(Project, world.projects["b1"].id)
        ids = []
        for _ in range(2):
            m = factories.milestone(project, stage="filing")
            lifecycle.start(m, accepted_on=D(2025, 10, 13), today=TODAY, parallel_reason="测试：并联办理")
            ids.append(m.id)
        db.session.commit()
    ready = threading.Barrier(2, timeout=30)
    errors = []

    def finish(milestone_id):
        try:
            with app.app_context():
                m = db.session.get(Milestone, milestone_id)
                m.project.stage  # noqa: B018 - both have read the project and the plan
                ready.wait()
                lifecycle.complete(m, completed_on=TODAY, today=TODAY)
                db.session.commit()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=finish, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with app.app_context():
        assert db.session.get(Project, world.projects["b1"].id).stage == "land"
