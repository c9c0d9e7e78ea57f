"""Document services: idempotent requests, versions, the data handed to the builders, the
worker's conditional writes and the recovery of lost requests (real database, real Redis)."""

from __future__ import annotations

import datetime as dt

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job, JobStatus
from sqlalchemy import select

from tests import factories
from tests.conftest import REDIS_URL, count_queries
from tests.integration.pdf_support import redis_db  # noqa: F401  (fixture)


@pytest.fixture
def ctx(app, world):
    """An app context with the world loaded: (db session, world, project a1)."""
    from crm.extensions import db
    from crm.projects.models import Project

    with app.app_context():
        yield db.session, world, db.session.get(Project, world.projects["a1"].id)
        db.session.rollback()


def user(session, world, name):
    from crm.auth.models import User

    return session.get(User, world.users[name].id)


def add_plan(project, count=3, start=dt.date(2026, 3, 2)):
    for n in range(count):
        factories.milestone(project, f"审批事项{n:02d}", status="running",
                            accepted_on=start, due_on=start + dt.timedelta(days=30 + n))


def build_now(session, document):
    """Run the job function in process (what the worker does)."""
    from crm.documents.jobs import build_document

    session.commit()
    build_document(document.id)
    session.expire_all()
    return document


# -- requests and versions -------------------------------------------------------------------

def test_a_second_request_while_pending_returns_the_pending_one(ctx):
    from crm.documents import services

    session, world, project = ctx
    first = services.request_service_order(project, user(session, world, "manager_a"))
    session.commit()
    second = services.request_service_order(project, user(session, world, "agent_a"))
    assert first.outcome == services.Outcome.CREATED
    assert second.outcome == services.Outcome.PENDING
    assert second.document.id == first.document.id
    assert not services.should_send(second)  # it was handed to the queue already


def test_a_new_version_only_when_the_plan_changed(ctx, app):
    from crm.documents import services
    from crm.milestones.models import Milestone

    session, world, project = ctx
    app.config["JOBS_INLINE"] = True
    add_plan(project)
    manager = user(session, world, "manager_a")
    v1 = services.request_service_order(project, manager).document
    build_now(session, v1)
    assert (v1.status, v1.doc_version, v1.order_number) == (
        "done", 1, f"FW-{dt.date.today().year}-{project.id:06d}")

    again = services.request_service_order(project, manager)
    assert again.outcome == services.Outcome.UNCHANGED and again.document.id == v1.id

    milestone = session.scalars(select(Milestone).where(Milestone.project_id == project.id)).first()
    milestone.due_on += dt.timedelta(days=5)
    session.commit()
    v2 = services.request_service_order(project, manager)
    assert v2.outcome == services.Outcome.CREATED
    assert (v2.document.doc_version, v2.document.order_number) == (2, v1.order_number)
    build_now(session, v2.document)
    assert v2.document.content_fingerprint != v1.content_fingerprint


def test_the_fingerprint_ignores_what_moves_with_today(ctx, app):
    from crm.documents import queries as gather
    from crm.milestones.queries import work_calendar

    session, world, project = ctx
    add_plan(project, 2)
    calendar = work_calendar()
    early = gather.service_order(project.id, number="FW-2026-000001", version=1,
                                 today=dt.date(2026, 3, 3), calendar=calendar)
    late = gather.service_order(project.id, number="FW-2026-000001", version=7,
                                today=dt.date(2026, 9, 1), calendar=calendar)
    assert [i.state for i in early.plan] == ["on_track", "on_track"]
    assert [i.state for i in late.plan] == ["overdue", "overdue"]
    assert gather.fingerprint(early) == gather.fingerprint(late)
    project.contact_phone = "13800000000"
    session.flush()
    changed = gather.service_order(project.id, number="FW-2026-000001", version=1,
                                   today=dt.date(2026, 3, 3), calendar=calendar)
    assert gather.fingerprint(changed) != gather.fingerprint(early)


def test_a_failed_last_version_is_made_again_under_the_same_number(ctx, app):
    from crm.documents import services

    session, world, project = ctx
    requested = services.request_service_order(project, user(session, world, "manager_a"))
    doc = requested.document
    session.commit()
    attempt = services.claim(doc.id, None)
    services.record_failure(doc.id, attempt, RuntimeError("disk full"), final=True)
    session.commit()
    session.expire_all()
    assert (doc.status, doc.error) == ("failed", "RuntimeError: disk full")

    retried = services.request_service_order(project, user(session, world, "manager_a"))
    assert retried.outcome == services.Outcome.RETRIED
    assert retried.document.id == doc.id
    assert (doc.status, doc.doc_version, doc.attempts, doc.error) == ("queued", 1, 0, None)


def test_summary_requests_are_idempotent_per_scope_and_period(ctx):
    from crm.documents import services

    session, world, _ = ctx
    leader = user(session, world, "leader")
    start, end = dt.date(2026, 1, 1), dt.date(2026, 3, 31)
    city = services.request_summary(None, start, end, leader)
    session.commit()
    assert services.request_summary(None, start, end, leader).document.id == city.document.id
    park = services.request_summary(world.park_a.id, start, end, leader)
    other_period = services.request_summary(None, start, dt.date(2026, 4, 30), leader)
    assert park.outcome == other_period.outcome == services.Outcome.CREATED
    assert len({city.document.id, park.document.id, other_period.document.id}) == 3


def test_the_database_refuses_two_pending_documents_for_one_request(ctx):
    from sqlalchemy.exc import IntegrityError

    from crm.documents.models import GeneratedDocument

    session, world, project = ctx
    for _ in range(2):
        session.add(GeneratedDocument(kind="summary", status="queued", request_key="summary:city:x"))
    with pytest.raises(IntegrityError):
        session.flush()


# -- the queue -------------------------------------------------------------------------------

def test_sending_puts_one_job_on_the_pdf_queue_with_retry_timeout_and_ttls(ctx, app, redis_db):
    from crm.documents import services

    session, world, project = ctx
    requested = services.request_service_order(project, user(session, world, "manager_a"))
    pair = (requested.document.id, requested.document.job_id)
    session.commit()
    assert services.send_to_queue([pair]) == 1
    queue = Queue("pdf", connection=redis_db)
    assert queue.job_ids == [pair[1]]
    job = Job.fetch(pair[1], connection=redis_db)
    assert job.func_name == "crm.documents.jobs.build_document" and job.args == (pair[0],)
    assert job.retries_left == len(app.config["PDF_RETRY_INTERVALS"])
    assert job.timeout == app.config["PDF_JOB_TIMEOUT"]


def test_redis_down_leaves_the_request_queued_for_recovery(ctx, app, redis_db):
    from crm.documents import services
    from crm.documents.jobs import recover_documents

    session, world, project = ctx
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    requested = services.request_service_order(project, user(session, world, "manager_a"))
    pair = (requested.document.id, requested.document.job_id)
    session.commit()
    assert services.send_to_queue([pair]) == 0
    session.commit()
    doc = requested.document
    session.refresh(doc)
    assert (doc.status, doc.enqueued_at) == ("queued", None)
    assert recover_documents() == {"redis": "unreachable"}  # recovery waits for Redis too

    app.config["REDIS_URL"] = REDIS_URL  # Redis is back
    assert recover_documents() == {"sent": 1, "leased": 1, "gave_up": 0}
    session.refresh(doc)
    assert doc.enqueued_at is not None
    assert Queue("pdf", connection=redis_db).job_ids == [doc.job_id]
    assert recover_documents() == {"sent": 0, "leased": 0, "gave_up": 0}  # nothing lost now


def test_jobs_inline_builds_at_once_without_redis(ctx, app):
    from crm.documents import services

    session, world, project = ctx
    app.config.update(JOBS_INLINE=True, REDIS_URL="redis://127.0.0.1:1/0")
    requested = services.request_service_order(project, user(session, world, "manager_a"))
    pair = (requested.document.id, requested.document.job_id)
    session.commit()
    services.send_to_queue([pair])
    session.refresh(requested.document)
    assert requested.document.status == "done" and requested.document.size > 1000


# -- the worker's conditional writes ---------------------------------------------------------

def test_claims_and_results_never_overwrite_another_attempt(ctx):
    from crm.documents import services

    session, world, project = ctx
    doc = services.request_service_order(project, user(session, world, "manager_a")).document
    session.commit()
    first = services.claim(doc.id, "job-a")
    assert first == 1
    assert services.claim(doc.id, "job-b") is None  # running for another job
    assert services.claim(doc.id, "job-a") == 2  # RQ's retry of the same job takes it back
    prepared = services.prepare(doc.id)
    assert not services.complete(doc.id, first, b"%PDF-stale", prepared)  # a stale attempt
    assert services.complete(doc.id, 2, b"%PDF-fresh", prepared)
    assert services.claim(doc.id, "job-a") is None  # done: nothing more to do
    session.commit()
    session.refresh(doc)
    assert (doc.status, doc.size, doc.attempts) == ("done", 10, 2)


def test_a_failed_attempt_is_queued_again_until_the_last_try(ctx):
    from crm.documents import services

    session, world, project = ctx
    doc = services.request_service_order(project, user(session, world, "manager_a")).document
    session.commit()
    attempt = services.claim(doc.id, "job-a")
    services.record_failure(doc.id, attempt, ValueError("bad data"), final=False)
    session.commit()
    session.refresh(doc)
    assert (doc.status, doc.error) == ("queued", "attempt 1: ValueError: bad data")
    attempt = services.claim(doc.id, "job-a")
    services.record_failure(doc.id, attempt, ValueError("bad data"), final=True)
    session.commit()
    session.refresh(doc)
    assert (doc.status, doc.error, doc.attempts) == ("failed", "ValueError: bad data", 2)
    assert doc.finished_at is not None


# -- recovery decisions ----------------------------------------------------------------------

def _running(session, world, project, redis, job_status=None, heartbeat_age=None, attempts=1,
             started_age=5):
    """A running document whose RQ job is in the given state (None: no job in Redis)."""
    from crm.db import utcnow
    from crm.documents import services
    from crm.documents.models import GeneratedDocument

    doc = services.request_service_order(project, user(session, world, "manager_a")).document
    now = utcnow()
    doc.status, doc.attempts = "running", attempts
    doc.started_at = now - dt.timedelta(seconds=started_age)
    if job_status is not None:
        job = Job.create("crm.documents.jobs.build_document", args=(doc.id,), id=doc.job_id,
                         connection=redis)
        job.set_status(job_status)
        if heartbeat_age is not None:
            job.heartbeat(now - dt.timedelta(seconds=heartbeat_age), 60)
        job.save()
    session.commit()
    return session.get(GeneratedDocument, doc.id)


@pytest.mark.parametrize("job_status,heartbeat_age,started_age,lost", [
    (JobStatus.STARTED, 5, 5, False),  # alive: heartbeat 5 s ago
    (JobStatus.STARTED, 500, 500, True),  # its worker died: silent for 500 s
    (JobStatus.SCHEDULED, None, 500, False),  # RQ will retry it after the backoff
    (JobStatus.FAILED, None, 500, True),  # RQ gave up (work horse killed on the last try)
    (None, None, 500, True),  # Redis lost the job
    (None, None, 5, False),  # ...but give a fresh one time to show up
])
def test_recovery_sends_again_only_what_is_lost(ctx, app, redis_db, job_status, heartbeat_age,
                                                started_age, lost):
    from crm.documents import services

    session, world, project = ctx
    doc = _running(session, world, project, redis_db, job_status, heartbeat_age,
                   started_age=started_age)
    old_job = doc.job_id
    leased, gave_up = services.find_lost()
    assert gave_up == 0
    assert bool(leased) == lost
    session.commit()
    session.refresh(doc)
    if lost:
        assert leased == [(doc.id, doc.job_id)] and doc.job_id != old_job
        assert doc.status == "queued"
    else:
        assert (doc.status, doc.job_id) == ("running", old_job)


def test_recovery_gives_up_after_too_many_attempts(ctx, app, redis_db):
    from crm.documents import services

    session, world, project = ctx
    doc = _running(session, world, project, redis_db, None, attempts=app.config["PDF_MAX_ATTEMPTS"],
                   started_age=500)
    assert services.find_lost() == ([], 1)
    session.commit()
    session.refresh(doc)
    assert doc.status == "failed" and "gave up after" in doc.error


# -- the data handed to the builders ---------------------------------------------------------

def test_service_order_data_has_the_team_and_plan_in_chinese(ctx, app):
    from crm.documents import queries as gather
    from crm.milestones.queries import work_calendar

    session, world, project = ctx
    app.config["PUBLIC_BASE_URL"] = "https://daiban.example.cn/"
    project.contact_name, project.contact_phone = "周经理", "13912345678"
    add_plan(project, 2)
    session.flush()
    order = gather.service_order(project.id, number="FW-2026-000009", version=3,
                                 today=dt.date(2026, 3, 10), calendar=work_calendar())
    assert [(p.role, p.name) for p in order.staff] == [("首席审批服务咨询师", "张顾问"),
                                                       ("专职代办员", "李代办")]
    assert order.stage_label == "用地" and order.park_name == "南通经济技术开发区"
    assert order.project_url == f"https://daiban.example.cn/projects/{project.id}"
    assert [i.name for i in order.plan] == ["审批事项00", "审批事项01"]
    assert order.plan[0].state_label == "正常"


def test_gathering_runs_a_constant_number_of_queries(ctx, app):
    from crm.documents import queries as gather
    from crm.milestones.queries import work_calendar

    session, world, project = ctx
    calendar = work_calendar()
    day = dt.date(2026, 6, 1)

    def measure():
        session.expire_all()
        with count_queries(app) as order_q:
            gather.service_order(project.id, number="FW", version=1, today=day, calendar=calendar)
        with count_queries(app) as summary_q:
            gather.summary(None, dt.date(2026, 1, 1), day, today=day, calendar=calendar)
        return order_q.count, summary_q.count

    small = measure()
    add_plan(project, 25)
    other = session.get(type(project), world.projects["b1"].id)
    add_plan(other, 25)
    for n in range(5):
        factories.log(other, "blocker", f"堵点{n}")
    session.flush()
    assert measure() == small


def test_summary_figures_add_up(ctx, app):
    from crm.documents import queries as gather
    from crm.milestones.queries import work_calendar

    session, world, project = ctx
    day = dt.date(2026, 6, 1)
    b1 = session.get(type(project), world.projects["b1"].id)
    done = dict(status="done", accepted_on=dt.date(2026, 3, 2), statutory_value=30)
    factories.milestone(project, "环评", completed_on=dt.date(2026, 3, 20), outcome="met",
                        workdays_used=14, **done)
    factories.milestone(b1, "节能审查", completed_on=dt.date(2026, 4, 20), outcome="missed",
                        workdays_used=35, **done)
    factories.milestone(b1, "施工许可", completed_on=dt.date(2025, 4, 20), outcome="met",
                        workdays_used=3, **done)  # before the period
    factories.milestone(project, "用地预审", status="running", accepted_on=dt.date(2026, 4, 1),
                        due_on=dt.date(2026, 5, 1))
    factories.milestone(b1, "规划许可", status="running", accepted_on=dt.date(2026, 4, 1),
                        due_on=dt.date(2026, 5, 20))
    factories.log(project, "blocker", '<font color="red">土地指标</font>',
                  happened_on=dt.date(2026, 5, 1))
    session.flush()
    city = gather.summary(None, dt.date(2026, 1, 1), day, today=day, calendar=work_calendar())
    f = city.figures
    assert (f.active_projects, f.total_investment_wan) == (3, 60000)
    assert (f.milestones_met, f.milestones_missed, f.milestones_overdue) == (1, 1, 2)
    assert f.workdays_saved == (30 - 14) + (30 - 35)
    assert [(s.label, s.value) for s in city.stages if s.value] == [("签约", 1), ("立项", 1),
                                                                    ("用地", 1)]
    assert [(r.label, r.met, r.missed) for r in city.compliance] == [
        ("南通经济技术开发区", 1, 0), ("海安经济技术开发区", 0, 1)]
    assert [r.item_name for r in city.overdue] == ["用地预审", "规划许可"]  # most overdue first
    assert city.overdue[0].owner_name == "李代办"  # the lead agent chases it
    # Working days late, as on the dashboards: 2026-05-01 (劳动节) and 2026-05-20 to 06-01.
    calendar = work_calendar()
    assert [r.workdays_overdue for r in city.overdue] == [
        calendar.workdays_between(dt.date(2026, 5, 1), day),
        calendar.workdays_between(dt.date(2026, 5, 20), day)] == [20, 8]
    assert [b.text for b in city.blockers] == ['<font color="red">土地指标</font>']
    assert city.scope_label == "全市"
    park = gather.summary(world.park_b.id, dt.date(2026, 1, 1), day, today=day,
                          calendar=work_calendar())
    assert park.scope_label == "海安经济技术开发区" and park.compliance_by == "item"
    assert [r.item_name for r in park.overdue] == ["规划许可"]
    assert {w.name for w in park.workload} == {"赵顾问", "陈代办"}
    assert park.figures.active_projects == 1


# -- the worker ------------------------------------------------------------------------------

def test_the_worker_warms_up_before_forking_and_recovers(ctx, app, redis_db):
    """Font, calendar and catalogs loaded in the parent; lost requests sent at start; the PDF
    queue listened to; recovery registered as a periodic job."""
    from reportlab.pdfbase import pdfmetrics

    from crm import queue
    from crm.documents import jobs, services
    from crm.milestones import queries as milestone_services
    from reports.styles import FONT

    session, world, project = ctx
    doc = services.request_service_order(project, user(session, world, "manager_a")).document
    doc.enqueued_at = None  # as if Redis had been down
    session.commit()
    milestone_services._cache.clear()
    jobs.prepare_worker()
    assert FONT in pdfmetrics.getRegisteredFontNames()
    assert app.config["SQLALCHEMY_DATABASE_URI"] in milestone_services._cache
    assert Queue("pdf", connection=redis_db).count == 1
    assert queue.WORKER_QUEUES == ["default", "pdf"]
    assert ("crm.documents.jobs.recover_documents", 60) in app.extensions["periodic_jobs"]
