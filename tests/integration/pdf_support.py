"""Helpers for the PDF tests: a clean test Redis, real worker processes, waiting."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis import Redis

from tests.conftest import REDIS_URL, ROOT

FLASK = str(Path(sys.executable).parent / "flask")
FAULTY_APP = "tests.integration.pdf_faults:create_app()"


@pytest.fixture
def redis_db():
    """The test Redis database, emptied before and after the test."""
    connection = Redis.from_url(REDIS_URL)
    connection.flushdb()
    yield connection
    connection.flushdb()


def worker_env(app, **settings) -> dict:
    """The environment of a worker process using the test app's database and Redis."""
    env = dict(os.environ)
    env.update({
        "CRM_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "CRM_REDIS_URL": REDIS_URL,
        "CRM_SECRET_KEY": "test-secret-key",
        "CRM_PUBLIC_BASE_URL": "https://daiban.example.cn",
        "PYTHONPATH": str(ROOT),
    })
    for key, value in settings.items():
        env[key if key.startswith(("CRM_", "PDF_FAULT")) else f"CRM_{key}"] = str(value)
    return env


def run_burst_worker(app, *, app_path: str = "crm", timeout: float = 120, options=(), **settings):
    """`flask --app crm crm worker --burst`: works until the queues are empty, then exits."""
    result = subprocess.run(
        [FLASK, "--app", app_path, "crm", "worker", "--burst", *options], cwd=ROOT,
        env=worker_env(app, **settings), capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@contextlib.contextmanager
def running_worker(app, *, app_path: str = "crm", **settings):
    """A worker process (with RQ's scheduler) for the duration of the block."""
    process = subprocess.Popen(
        [FLASK, "--app", app_path, "crm", "worker"], cwd=ROOT, env=worker_env(app, **settings),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        yield process
    finally:
        stop_worker(process)


def stop_worker(process: subprocess.Popen) -> str:
    """Stop a worker (warm shutdown, then kill) and return its output."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
    return process.stdout.read() if process.stdout else ""


def wait_for(predicate, timeout: float = 60, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def document_row(app, document_id: int) -> dict:
    """The document's bookkeeping columns, read in a short transaction of its own."""
    from sqlalchemy import select

    from crm.documents.models import GeneratedDocument as Doc
    from crm.extensions import db

    with app.app_context():
        row = db.session.execute(
            select(Doc.status, Doc.attempts, Doc.error, Doc.job_id, Doc.size, Doc.sha256,
                   Doc.enqueued_at, Doc.started_at).where(Doc.id == document_id)).one()
        db.session.rollback()
        return row._asdict()
