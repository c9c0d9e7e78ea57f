"""PDFs made by real RQ worker processes on the real test Redis, and nothing lost when Redis
or a worker fails."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import signal
import time

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job

from tests import factories
from tests.conftest import REDIS_URL, login
from tests.integration.pdf_faults import BUILDS_KEY, SLOW_PID_KEY
from tests.integration.pdf_support import (  # noqa: F401  (redis_db is a fixture)
    FAULTY_APP, document_row, redis_db, run_burst_worker, running_worker, stop_worker, wait_for,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def plan(app, world):
    """Project a1 with a small approval plan; returns its id."""
    from crm.extensions import db
    from crm.projects.models import Project

    with app.app_context():
        project = db.session.get(Project, world.projects["a1"].id)
        factories.milestone(project, "项目备案", status="done", accepted_on=dt.date(2026, 3, 2),
                            due_on=dt.date(2026, 3, 3), completed_on=dt.date(2026, 3, 3),
                            outcome="met", workdays_used=1)
        factories.milestone(project, "用地预审与选址意见书", status="running",
                            accepted_on=dt.date(2026, 3, 4), due_on=dt.date(2026, 4, 1))
        factories.milestone(project, "建设用地规划许可证")
        db.session.commit()
        return project.id


def request_order(client, project_id: int) -> int:
    from sqlalchemy import select

    from crm.documents.models import GeneratedDocument as Doc
    from crm.extensions import db

    response = client.post(f"/documents/service-orders/{project_id}")
    assert response.status_code == 302
    with client.application.app_context():
        return db.session.scalar(select(Doc.id).where(Doc.project_id == project_id)
                                 .order_by(Doc.id.desc()).limit(1))


def test_request_to_done_to_download_with_a_burst_worker(app, client, plan, redis_db):
    login(client, "manager_a")
    document_id = request_order(client, plan)
    assert document_row(app, document_id)["status"] == "queued"
    assert Queue("pdf", connection=redis_db).count == 1
    page = client.get(f"/documents/{document_id}")
    assert "排队中" in page.get_data(as_text=True)  # the user sees "queued"

    run_burst_worker(app)

    row = document_row(app, document_id)
    assert row["status"] == "done" and row["attempts"] == 1 and row["error"] is None
    response = client.get(f"/documents/{document_id}/download")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    body = response.get_data()
    assert body.startswith(b"%PDF-")
    assert hashlib.sha256(body).hexdigest() == row["sha256"]
    assert len(body) == row["size"]
    assert response.headers["ETag"].strip('"') == row["sha256"]
    status = client.get(f"/documents/{document_id}/status").get_data(as_text=True)
    assert f"/documents/{document_id}/download" in status and "hx-trigger" not in status


def test_redis_down_at_request_time_then_the_worker_recovers_it(app, app_config, tmp_path, plan,
                                                                redis_db):
    from tests.conftest import _create_app

    down = _create_app(dict(app_config, REDIS_URL="redis://127.0.0.1:1/0"), tmp_path)
    client = down.test_client()
    login(client, "manager_a")
    document_id = request_order(client, plan)  # no 500: the request is kept
    row = document_row(app, document_id)
    assert row["status"] == "queued" and row["enqueued_at"] is None
    html = client.get(f"/projects/{plan}").get_data(as_text=True)
    assert "排队中" in html and 'hx-trigger="every 2s"' in html
    assert Queue("pdf", connection=redis_db).count == 0  # Redis never got it

    run_burst_worker(app)  # recovery at worker start sends it, then the worker builds it

    row = document_row(app, document_id)
    assert row["status"] == "done" and row["attempts"] == 1


def test_a_build_that_fails_twice_is_retried_with_backoff_then_succeeds(app, client, plan,
                                                                        redis_db):
    app.config["PDF_RETRY_INTERVALS"] = [1, 2]  # set on the job when it is enqueued
    login(client, "manager_a")
    document_id = request_order(client, plan)
    job = Job.fetch(document_row(app, document_id)["job_id"], connection=redis_db)
    assert (job.retries_left, job.retry_intervals) == (2, [1, 2])
    assert job.timeout == app.config["PDF_JOB_TIMEOUT"]
    assert (job.result_ttl, job.failure_ttl) == (app.config["PDF_RESULT_TTL"],
                                                 app.config["PDF_FAILURE_TTL"])
    with running_worker(app, app_path=FAULTY_APP, PDF_FAULT="fail:2") as worker:
        wait_for(lambda: document_row(app, document_id)["status"] == "done", timeout=60,
                 what="the document to be done after two retries")
        output = stop_worker(worker)
    row = document_row(app, document_id)
    assert row["attempts"] == 3 and row["error"] is None
    assert int(redis_db.get(BUILDS_KEY)) == 3
    assert output.count("exception raised while executing") == 2  # two failures logged by RQ


def test_a_build_that_keeps_failing_ends_failed_with_the_error(app, client, plan, redis_db):
    app.config["PDF_RETRY_INTERVALS"] = [1]
    login(client, "manager_a")
    document_id = request_order(client, plan)
    with running_worker(app, app_path=FAULTY_APP, PDF_FAULT="fail:99"):
        wait_for(lambda: document_row(app, document_id)["status"] == "failed", timeout=60,
                 what="the document to fail")
    row = document_row(app, document_id)
    assert row["attempts"] == 2
    assert "injected failure of build 2" in row["error"]
    html = client.get(f"/documents/{document_id}").get_data(as_text=True)
    assert "生成失败" in html and "hx-trigger" not in html


def _wait_for_slow_build(redis: Redis, app, document_id: int) -> int:
    wait_for(lambda: redis.get(SLOW_PID_KEY), timeout=60, what="the slow build to start")
    assert document_row(app, document_id)["status"] == "running"
    return int(redis.get(SLOW_PID_KEY))


def test_a_worker_killed_mid_job_loses_nothing(app, client, plan, redis_db):
    login(client, "manager_a")
    document_id = request_order(client, plan)
    with running_worker(app, app_path=FAULTY_APP, PDF_FAULT="slow:60") as worker:
        horse = _wait_for_slow_build(redis_db, app, document_id)
        # The machine dies: the worker, its scheduler and the work horse, all at once.
        os.killpg(worker.pid, signal.SIGKILL)
        os.kill(horse, signal.SIGKILL)
        worker.wait(10)
    assert document_row(app, document_id)["status"] == "running"  # stuck until recovered

    time.sleep(1.5)  # longer than the stale threshold below
    run_burst_worker(app, PDF_STALE_SECONDS=1)  # recovery at start, then the build

    row = document_row(app, document_id)
    assert row["status"] == "done" and row["attempts"] == 2
    response = client.get(f"/documents/{document_id}/download")
    assert hashlib.sha256(response.get_data()).hexdigest() == row["sha256"]


def test_a_killed_work_horse_is_retried_by_its_worker(app, client, plan, redis_db):
    app.config["PDF_RETRY_INTERVALS"] = [1]
    login(client, "manager_a")
    document_id = request_order(client, plan)
    with running_worker(app, app_path=FAULTY_APP, PDF_FAULT="slow:60"):
        horse = _wait_for_slow_build(redis_db, app, document_id)
        os.kill(horse, signal.SIGKILL)
        wait_for(lambda: document_row(app, document_id)["status"] == "done", timeout=60,
                 what="the retry after the work horse was killed")
    assert document_row(app, document_id)["attempts"] == 2


def test_a_second_request_while_pending_enqueues_nothing_more(app, client, plan, redis_db):
    login(client, "manager_a")
    first = request_order(client, plan)
    second = request_order(client, plan)
    assert first == second
    assert Queue("pdf", connection=Redis.from_url(REDIS_URL)).count == 1
    run_burst_worker(app)
    assert document_row(app, first)["status"] == "done"


def test_an_in_process_worker_builds_the_document_too(app, client, plan, redis_db):
    """`flask crm worker --no-fork` (no fork per job) runs the same job to the same result."""
    login(client, "manager_a")
    document_id = request_order(client, plan)
    run_burst_worker(app, options=["--no-fork"])
    row = document_row(app, document_id)
    assert row["status"] == "done" and row["attempts"] == 1
    body = client.get(f"/documents/{document_id}/download").get_data()
    assert hashlib.sha256(body).hexdigest() == row["sha256"]


def test_a_killed_worker_replaced_at_once_resumes_everything_within_a_minute(app, client, plan,
                                                                             redis_db):
    """The machine loses its worker (worker, scheduler and work horse SIGKILLed) in the middle
    of a PDF; a new worker starts at once.  It takes over the dead scheduler's lock and hands
    the interrupted job back to RQ, so the PDF is built, and the periodic jobs run again,
    well within a minute; nothing is built twice."""
    from sqlalchemy import func, select

    from crm.dashboard.models import ParkRollup
    from crm.documents.models import GeneratedDocument as Doc
    from crm.extensions import db

    login(client, "manager_a")
    document_id = request_order(client, plan)
    lock = "rq:scheduler-lock:default"
    with running_worker(app, app_path=FAULTY_APP, PDF_FAULT="slow:120") as worker:
        horse = _wait_for_slow_build(redis_db, app, document_id)
        dead_scheduler = wait_for(lambda: redis_db.get(lock), what="the scheduler's lock")
        os.killpg(worker.pid, signal.SIGKILL)
        os.kill(horse, signal.SIGKILL)
        worker.wait(10)
    assert redis_db.get(lock) == dead_scheduler  # still held by the dead scheduler

    started = time.monotonic()
    with app.app_context():
        db.session.execute(ParkRollup.__table__.delete())
        db.session.commit()
    with running_worker(app) as fresh:
        wait_for(lambda: redis_db.get(lock) not in (None, dead_scheduler), timeout=60,
                 what="the new worker's scheduler to take over")
        scheduler_after = time.monotonic() - started
        wait_for(lambda: document_row(app, document_id)["status"] == "done", timeout=60,
                 what="the interrupted PDF to be built")
        pdf_after = time.monotonic() - started

        def rollups_refreshed():
            with app.app_context():
                count = db.session.scalar(select(func.count()).select_from(ParkRollup))
                db.session.rollback()
                return count

        # The rollup job keeps its schedule: it runs on its next tick, at most an interval away.
        wait_for(rollups_refreshed, timeout=75, what="the periodic rollup refresh to run again")
        rollups_after = time.monotonic() - started
        output = stop_worker(fresh)
    print(f"recovery: scheduler {scheduler_after:.1f} s, PDF {pdf_after:.1f} s, "
          f"rollups {rollups_after:.1f} s")
    assert scheduler_after < 10 and pdf_after < 20, output[-2000:]
    assert rollups_after < 60 + 15
    row = document_row(app, document_id)
    assert row["attempts"] == 2 and row["error"] is None
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Doc)) == 1
    assert int(redis_db.get(BUILDS_KEY)) == 1  # the slow one; the rebuild ran in the new worker
