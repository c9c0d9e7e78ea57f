"""Periodic jobs with a real Redis and real worker processes (burst mode): each registered job is
scheduled exactly once however many workers start, repeats, and is re-armed when it dies; the
SLA sweep runs in a worker and records notifications."""

import datetime as dt
import os
import subprocess
import sys
import time

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

from tests import factories
from tests.conftest import REDIS_URL, ROOT

SWEEP_ID = "periodic-crm_milestones_jobs_sla_sweep"
PING_ID = "periodic-crm_queue_ping"


@pytest.fixture
def redis():
    connection = Redis.from_url(REDIS_URL)
    connection.flushdb()
    yield connection
    connection.flushdb()


def _start_worker(app_config):
    env = dict(os.environ, CRM_DATABASE_URL=app_config["DATABASE_URL"], CRM_REDIS_URL=REDIS_URL,
               CRM_SECRET_KEY="test-secret-key", CRM_RATELIMIT_STORAGE_URI="memory://")
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "crm", "crm", "worker", "--burst"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _run_workers(app_config, count=1):
    workers = [_start_worker(app_config) for _ in range(count)]
    for worker in workers:
        output = worker.communicate(timeout=120)[0].decode()
        assert worker.returncode == 0, output
    return output


def test_workers_run_the_sla_sweep_once_and_keep_it_scheduled(app, app_config, world, redis):
    from crm.extensions import db
    from crm.notifications.models import Notification
    from crm.projects.models import Project
    from crm.worker import PERIODIC_REPEATS

    with app.app_context():
        project = db.session.get(Project, world.projects["b1"].id)
        overdue = dt.date.today() - dt.timedelta(days=30)
        factories.milestone(project, "节能审查", status="running", due_on=overdue)
        db.session.commit()
        db.engine.dispose()
    # Two workers start together: the sweep runs once, and stays scheduled once.
    _run_workers(app_config, count=2)
    job = Job.fetch(SWEEP_ID, connection=redis)
    assert job.get_status() == "scheduled"
    assert job.repeats_left == PERIODIC_REPEATS - 1  # ran exactly once
    # Every registered periodic job is scheduled once (the sweep, PDF recovery...).
    from crm.worker import periodic_job_id

    assert sorted(ScheduledJobRegistry("default", connection=redis).get_job_ids()) == sorted(
        periodic_job_id(path) for path, _ in app.extensions["periodic_jobs"])
    with app.app_context():
        kinds = db.session.scalars(select(Notification.kind).where(
            Notification.kind == "milestone_overdue")).all()
        assert sorted(kinds) == ["milestone_overdue", "milestone_overdue"]  # lead agent, manager
        assert db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.user_id == world.users["manager_b"].id,
            Notification.kind == "milestone_overdue")) == 1
        # The escalation job ran too, once: every step of the ladder for the late milestone.
        from crm.notifications.models import Escalation

        assert sorted(db.session.scalars(select(Escalation.step)).all()) == [1, 3, 5]
    # Another worker later: the sweep is not due yet, nothing runs twice.
    _run_workers(app_config)
    assert Job.fetch(SWEEP_ID, connection=redis).repeats_left == PERIODIC_REPEATS - 1
    assert len(Queue("default", connection=redis)) == 0


def test_a_periodic_job_repeats_on_its_interval(app, app_config, redis):
    from crm.worker import PERIODIC_REPEATS, ensure_periodic_jobs

    # 4 s: long enough that a slow (loaded) burst worker is gone before the next run is due.
    assert ensure_periodic_jobs(redis, [("crm.queue.ping", 4)]) == [PING_ID]
    assert ensure_periodic_jobs(redis, [("crm.queue.ping", 4)]) == []  # alive: left alone
    with app.app_context():
        from crm.extensions import db

        db.engine.dispose()
    _run_workers(app_config)
    job = Job.fetch(PING_ID, connection=redis)
    assert job.repeats_left == PERIODIC_REPEATS - 1 and job.get_status() == "scheduled"
    time.sleep(4.5)
    _run_workers(app_config)  # the worker's scheduler enqueues it when due
    job = Job.fetch(PING_ID, connection=redis)
    assert job.repeats_left == PERIODIC_REPEATS - 2
    assert job.latest_result().return_value == app.name  # ran inside the app context


def test_dead_or_retimed_periodic_jobs_are_armed_again(redis):
    from rq.job import JobStatus

    from crm.worker import ensure_periodic_jobs

    queue = Queue("default", connection=redis)
    ensure_periodic_jobs(redis, [("crm.queue.ping", 60)])
    job = queue.dequeue_any([queue], timeout=None, connection=redis)[0]
    job.set_status(JobStatus.FAILED)
    assert ensure_periodic_jobs(redis, [("crm.queue.ping", 60)]) == [PING_ID]
    job = Job.fetch(PING_ID, connection=redis)
    assert job.get_status() == "scheduled"  # a failed job waits an interval before retrying
    assert ScheduledJobRegistry("default", connection=redis).get_job_ids() == [PING_ID]
    assert ensure_periodic_jobs(redis, [("crm.queue.ping", 300)]) == [PING_ID]
    assert Job.fetch(PING_ID, connection=redis).repeat_intervals == [300]
    # Another worker holding the lock: this one skips its check instead of racing.
    with redis.lock("crm:periodic:lock", timeout=5):
        redis.delete(Job.key_for(PING_ID))
        assert ensure_periodic_jobs(redis, [("crm.queue.ping", 300)]) == []
