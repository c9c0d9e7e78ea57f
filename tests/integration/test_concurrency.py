"""The same change requested several times at once: exactly one succeeds, the others are told
why (Conflict or InvalidState, never a 500 or a second success), and the audit trail records
what is stored.  Threads, each with its own session and connection, start together; on
PostgreSQL they really run at once (row locks and version checks decide), on SQLite the
writers take turns (BEGIN IMMEDIATE) and the same rules must hold."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from tests import factories

THREADS = 6


def race(app, count: int, change) -> list:
    """Run ``change(i)`` in ``count`` threads at once, each one unit of work; returns each
    thread's outcome: "ok", the DomainError's class name, or the unexpected exception."""
    from crm.errors import DomainError
    from crm.extensions import db
    from crm.transaction import transaction

    barrier = threading.Barrier(count)
    outcomes: list = [None] * count

    def run(i):
        with app.app_context():
            try:
                db.session().expire_on_commit = False
                prepare = change(i)  # loads what the change works on (before the others write)
                db.session.commit()  # ends the read (SQLite: frees the lock); keeps what was read
                barrier.wait(timeout=30)
                with transaction():
                    prepare()
                outcomes[i] = "ok"
            except DomainError as error:
                outcomes[i] = type(error).__name__
            except Exception as error:  # noqa: BLE001 - reported by the test
                outcomes[i] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def one_winner(outcomes, refusals=("Conflict", "InvalidState")) -> None:
    assert outcomes.count("ok") == 1, outcomes
    assert all(o == "ok" or o in refusals for o in outcomes), outcomes


def audit_count(app, action: str, entity_id: int | None = None) -> int:
    from crm.audit.models import AuditEvent
    from crm.extensions import db

    with app.app_context():
        query = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
        if entity_id is not None:
            query = query.where(AuditEvent.entity_id == entity_id)
        return db.session.scalar(query)


@pytest.fixture
def blocker(app, world):
    from crm.extensions import db
    from crm.projects.models import Project

    with app.app_context():
        project = db.session.get(Project, world.projects["a1"].id)
        log = factories.log(project, kind="blocker", text="缺少环评批文")
        db.session.commit()
        return log.id


def test_closing_a_blocker_at_once(app, world, blocker):
    from crm.extensions import db
    from crm.projects import services
    from crm.projects.models import ProgressLog

    def change(i):
        log = db.session.get(ProgressLog, blocker)
        return lambda: services.close_blocker(log, actor_id=None, note=f"说明{i}")

    outcomes = race(app, THREADS, change)
    one_winner(outcomes)
    winner = outcomes.index("ok")
    with app.app_context():
        assert db.session.get(ProgressLog, blocker).resolution_note == f"说明{winner}"
    assert audit_count(app, "blocker.close", blocker) == 1


def test_resolution_entries_at_once_link_one(app, world, blocker):
    from crm.extensions import db
    from crm.projects import services
    from crm.projects.models import ProgressLog, Project

    def change(i):
        project = db.session.get(Project, world.projects["a1"].id)
        log = db.session.get(ProgressLog, blocker)
        return lambda: services.add_log(project, author_id=None, kind="resolution",
                                        happened_on=dt.date(2026, 1, 5), text=f"解决{i}",
                                        resolves=log)

    outcomes = race(app, THREADS, change)
    one_winner(outcomes)
    with app.app_context():
        resolutions = db.session.scalar(select(func.count()).select_from(ProgressLog).where(
            ProgressLog.kind == "resolution"))
        assert resolutions == 1
        assert db.session.get(ProgressLog, blocker).resolved_by_log_id is not None
    assert audit_count(app, "blocker.resolve", blocker) == 1


def test_adding_the_same_person_to_a_roster_at_once(app, world):
    from crm.agents.models import Staff, staff_parks
    from crm.agents.services import roster
    from crm.extensions import db
    from crm.parks.models import Park

    person_id = world.staff["agent_b"].id
    with app.app_context():
        db.session.get(Staff, person_id).released = True
        db.session.commit()

    def change(i):
        park = db.session.get(Park, world.park_a.id)
        return lambda: roster.add_to_park(park, person_id)

    outcomes = race(app, 5, change)
    one_winner(outcomes, refusals=("Conflict", "DomainError", "NotFound"))
    with app.app_context():
        rows = db.session.scalar(select(func.count()).select_from(staff_parks).where(
            staff_parks.c.staff_id == person_id, staff_parks.c.park_id == world.park_a.id))
        assert rows == 1
    assert audit_count(app, "roster.add", person_id) == 1


def test_changing_a_stage_at_once(app, world):
    from crm.extensions import db
    from crm.projects import services
    from crm.projects.models import Project, StageChange

    stages = ["planning", "permitting", "approved", "filing", "signed"]

    def change(i):
        project = db.session.get(Project, world.projects["a1"].id)
        project.stage  # noqa: B018 - loaded at this version
        return lambda: services.change_stage(project, stages[i], reason="会议决定", actor_id=None)

    outcomes = race(app, 5, change)
    one_winner(outcomes)
    with app.app_context():
        project = db.session.get(Project, world.projects["a1"].id)
        assert project.stage == stages[outcomes.index("ok")]
        changes = db.session.scalar(select(func.count()).select_from(StageChange).where(
            StageChange.project_id == project.id, StageChange.reason == "会议决定"))
        assert changes == 1


def test_completing_a_milestone_at_once(app, world):
    from crm.extensions import db
    from crm.milestones.models import Milestone
    from crm.milestones.services import lifecycle
    from crm.projects.models import Project

    with app.app_context():
        project = db.session.get(Project, world.projects["a1"].id)
        milestone = factories.milestone(project, "节能审查", status="running",
                                        accepted_on=dt.date(2026, 1, 5), due_on=dt.date(2026, 2, 5))
        db.session.commit()
        milestone_id, version = milestone.id, milestone.version

    def change(i):
        m = db.session.get(Milestone, milestone_id)
        m.pauses  # noqa: B018
        return lambda: lifecycle.complete(m, completed_on=dt.date(2026, 1, 10 + i),
                                          today=dt.date(2026, 2, 1), version=version)

    outcomes = race(app, 5, change)
    one_winner(outcomes)
    with app.app_context():
        m = db.session.get(Milestone, milestone_id)
        assert m.status == "done" and m.completed_on == dt.date(2026, 1, 10 + outcomes.index("ok"))
    assert audit_count(app, "milestone.complete", milestone_id) == 1


def test_adding_and_ending_a_helper_at_once(app, world):
    from crm.agents.models import Assignment
    from crm.agents.services import staffing
    from crm.extensions import db
    from crm.projects.models import Project

    def add(i):
        project = db.session.get(Project, world.projects["a1"].id)
        return lambda: staffing.add_helper(project, world.staff["agent_a2"].id, actor_id=None,
                                           reason="协助")

    one_winner(race(app, 5, add), refusals=("Conflict", "DomainError"))
    with app.app_context():
        helpers = db.session.scalars(select(Assignment).where(
            Assignment.project_id == world.projects["a1"].id, Assignment.role == "helper",
            Assignment.ended_at.is_(None))).all()
        assert len(helpers) == 1
        helper_id = helpers[0].id

    def end(i):
        project = db.session.get(Project, world.projects["a1"].id)
        return lambda: staffing.end_helper(project, helper_id, actor_id=None, reason="完成")

    one_winner(race(app, 5, end), refusals=("Conflict", "DomainError"))
    assert audit_count(app, "assignment.helper_end", helper_id) == 1


def test_auto_assignment_at_once_fills_each_role_once(app, world):
    from crm.agents.models import Assignment
    from crm.agents.services import staffing
    from crm.extensions import db
    from crm.projects.models import Project

    with app.app_context():
        fresh = factories.project(db.session.merge(world.park_a), "新项目", stage="signed")
        db.session.commit()
        project_id = fresh.id

    def change(i):
        project = db.session.get(Project, project_id)
        return lambda: staffing.auto_assign(project)

    outcomes = race(app, 4, change)
    assert all(o in ("ok", "Conflict") for o in outcomes), outcomes
    with app.app_context():
        roles = db.session.scalars(select(Assignment.role).where(
            Assignment.project_id == project_id, Assignment.ended_at.is_(None))).all()
        assert sorted(roles) == ["consultant", "lead_agent"]


def test_resolving_through_the_api_at_once_answers_409_not_500(app, world, blocker):
    from crm.auth.models import User
    from crm.auth.services import create_token
    from crm.extensions import db

    with app.app_context():
        _token, secret = create_token(db.session.get(User, world.users["agent_a"].id), "race")
        db.session.commit()
    url = f"/api/v1/projects/{world.projects['a1'].id}/blockers/{blocker}/resolve"
    barrier = threading.Barrier(THREADS)
    statuses: list = [None] * THREADS

    def run(i):
        client = app.test_client()
        barrier.wait(timeout=30)
        response = client.post(url, json={"note": f"说明{i}"},
                               headers={"Authorization": f"Bearer {secret}"})
        statuses[i] = response.status_code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == [200] + [409] * (THREADS - 1), statuses
    assert audit_count(app, "blocker.close", blocker) == 1


def test_requesting_a_service_order_at_once_makes_one(app, world, monkeypatch):
    from crm import queue
    from crm.documents import services
    from crm.documents.models import GeneratedDocument
    from crm.extensions import db
    from crm.projects.models import Project

    sent = []
    monkeypatch.setattr(queue, "enqueue", lambda path, *args, **kw: sent.append(args))

    def change(i):
        project = db.session.get(Project, world.projects["a1"].id)
        return lambda: services.request_service_order(project, None)

    outcomes = race(app, 5, change)
    assert outcomes == ["ok"] * 5, outcomes  # everyone gets the one pending document
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(GeneratedDocument)) == 1
    assert len(sent) == 1  # handed to the queue once


def test_entering_a_callback_result_at_once_records_one(app, world):
    """Two people enter the same callback's result: one rating, the other refused."""
    from crm.extensions import db
    from crm.milestones.queries import work_calendar
    from crm.portal.models import CallbackItem, Rating
    from crm.portal.services import ratings
    from crm.projects.models import Project

    with app.app_context():
        project = db.session.get(Project, world.projects["a1"].id)
        done = factories.milestone(project, "节能审查", status="done",
                                   completed_on=dt.date(2026, 8, 20))
        item = CallbackItem(month="2026-08", milestone_id=done.id, project_id=project.id,
                            park_id=project.park_id)
        db.session.add(item)
        db.session.commit()
        item_id = item.id
    scores = dict.fromkeys(("openness", "standards", "convenience", "courtesy", "discipline"), 5)

    def change(i):
        found = db.session.get(CallbackItem, item_id)
        found.project, found.milestone  # noqa: B018
        calendar = work_calendar()
        return lambda: ratings.record_callback(found, scores, f"回访{i}",
                                               today=dt.date(2026, 9, 1), calendar=calendar)

    one_winner(race(app, 4, change))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Rating)) == 1


def test_rating_the_same_approval_at_once_keeps_one_rating(app, world):
    """Two tabs of the enterprise's page send a rating of the same approval together: one
    rating (the later one changes it), never a duplicate or a 500."""
    from crm.extensions import db
    from crm.milestones.queries import work_calendar
    from crm.portal import services
    from crm.portal.models import EnterpriseLink, Rating
    from crm.portal.services import ratings
    from crm.projects.models import Project

    with app.app_context():
        project = db.session.get(Project, world.projects["a1"].id)
        done = factories.milestone(project, "节能审查", status="done",
                                   completed_on=dt.date(2026, 8, 20))
        link, _token = services.issue(project, actor_id=None, today=dt.date(2026, 9, 1))
        db.session.commit()
        link_id, milestone_id = link.id, done.id

    def change(i):
        found = db.session.get(EnterpriseLink, link_id)
        found.project  # noqa: B018
        calendar = work_calendar()
        scores = dict.fromkeys(("openness", "standards", "convenience", "courtesy",
                                "discipline"), 4 + i % 2)
        return lambda: ratings.rate(found, milestone_id, scores, None,
                                    today=dt.date(2026, 9, 1), calendar=calendar)

    outcomes = race(app, 4, change)
    assert outcomes == ["ok"] * 4, outcomes
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Rating)) == 1
