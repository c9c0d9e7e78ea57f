"""The RQ worker entry point: jobs run inside the application context; workers started with the
scheduler also keep the periodic jobs (``app.extensions["periodic_jobs"]``, listed in
crm/app.py) scheduled.

Periodic jobs, exactly once across any number of workers:

- each periodic job is ONE RQ job with a fixed id (``periodic-crm_milestones_jobs_sla_sweep``) that repeats
  itself with RQ's ``Repeat``: after each successful run RQ puts the same job back in the
  scheduled registry ``interval`` seconds later, and RQ's scheduler (one per queue across all
  workers, by RQ's own lock) enqueues it when due;
- a worker with the scheduler checks the periodic jobs when it starts and at every maintenance
  tick (RQ's ``maintenance_interval``), under a Redis lock so that two workers never check at
  the same time (only workers of the default queue do this): a job that is queued, scheduled or running is left alone; a missing one (a new
  deployment, a flushed Redis) is enqueued to run now; a dead one (failed, stopped, repeats
  used up) or one whose interval changed is replaced, to run one interval later.
"""

from __future__ import annotations

import datetime as dt
import logging

from flask import Flask
from redis import Redis
from rq import Queue, Repeat, SimpleWorker, Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from crm.documents.jobs import prepare_worker
from crm.extensions import db
from crm.queue import DEFAULT_QUEUE, WORKER_QUEUES, periodic_jobs, redis_connection

log = logging.getLogger(__name__)

PERIODIC_LOCK = "crm:periodic:lock"
# Runs per arming; when they are used up the next maintenance tick arms the job again.
PERIODIC_REPEATS = 100_000
_ALIVE = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.STARTED}


def periodic_job_id(path: str) -> str:
    """The fixed RQ job id of a periodic job (RQ allows letters, digits, "_" and "-")."""
    return "periodic-" + path.replace(".", "_")


def ensure_periodic_jobs(connection: Redis, jobs=None, queue_name: str = DEFAULT_QUEUE) -> list[str]:
    """Arm every periodic job that is not alive; returns the ids armed (empty when another
    worker holds the lock: it is doing the same)."""
    jobs = periodic_jobs() if jobs is None else jobs
    lock = connection.lock(PERIODIC_LOCK, timeout=60)
    if not lock.acquire(blocking=False):
        return []
    try:
        queue = Queue(queue_name, connection=connection)
        return [job_id for path, interval in jobs
                if (job_id := _ensure_one(queue, path, int(interval)))]
    finally:
        lock.release()


def _ensure_one(queue: Queue, path: str, interval: int) -> str | None:
    job_id = periodic_job_id(path)
    try:
        job = Job.fetch(job_id, connection=queue.connection)
    except NoSuchJobError:
        job = None
    options = dict(job_id=job_id, repeat=Repeat(times=PERIODIC_REPEATS, interval=interval),
                   description=f"{path} every {interval} s", failure_ttl=7 * 24 * 3600)
    if job is None:
        queue.enqueue(path, **options)
        log.info("periodic job %s armed, runs now", job_id)
        return job_id
    status = job.get_status()
    same_interval = (job.repeat_intervals or [None])[0] == interval
    if status in _ALIVE and (same_interval or status != JobStatus.SCHEDULED):
        return None
    job.delete()
    queue.enqueue_in(dt.timedelta(seconds=interval), path, **options)
    log.info("periodic job %s (was %s) armed again, runs in %s s", job_id, status, interval)
    return job_id


class _AppWorkerMixin:
    """What both worker kinds share: the app, and keeping the periodic jobs armed."""

    app: Flask | None = None
    keeps_periodic_jobs = False

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        if self.keeps_periodic_jobs:
            try:
                ensure_periodic_jobs(self.connection)
            except Exception:  # noqa: BLE001 - never let this stop the worker; next tick retries
                log.exception("could not arm the periodic jobs")


class AppWorker(_AppWorkerMixin, Worker):
    """A forking worker whose work horses run with the Flask app context pushed.

    The app (and the libraries it imports) is loaded once in the parent before any fork, so
    each job pays only for its own work.  Each work horse drops the connections inherited from
    the parent, so no database socket is shared between processes.
    """

    def main_work_horse(self, *args, **kwargs):
        db.engine.dispose(close=False)
        with self.app.app_context():
            return super().main_work_horse(*args, **kwargs)


class InProcessAppWorker(_AppWorkerMixin, SimpleWorker):
    """Runs each job in the worker process itself (no fork): about twice the PDF throughput
    of a forking worker (a fork costs ~60 ms of copied pages and a new database connection
    per job), at the price of isolation: a job that crashes the interpreter takes the worker
    with it (recovery re-sends its document when a worker runs again)."""

    def execute_job(self, job, queue):
        try:
            return super().execute_job(job, queue)
        finally:
            db.session.remove()  # each job starts with a clean session


def run_worker(app: Flask, queues: list[str] | None = None, burst: bool = False,
               with_scheduler: bool = True, fork: bool = True) -> bool:
    with app.app_context():
        connection = redis_connection()
        worker_class = AppWorker if fork else InProcessAppWorker
        worker_class.app = app
        prepare_worker()  # warm ReportLab before forking; send lost PDF requests again
        worker = worker_class(queues or WORKER_QUEUES, connection=connection)
        # Periodic jobs go to the default queue: its workers' scheduler moves them when due.
        worker.keeps_periodic_jobs = with_scheduler and DEFAULT_QUEUE in worker.queue_names()
        return worker.work(burst=burst, with_scheduler=with_scheduler)
