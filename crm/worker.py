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
  used up) or one whose interval changed is replaced, to run one interval later (at once when
  it died with its worker).

After a crash (a worker SIGKILLed, a machine rebooted), work resumes within a minute:

- a worker starting, and every worker at each maintenance tick (every MAINTENANCE_SECONDS,
  not RQ's default ten minutes), looks for workers and schedulers of this host whose process
  is gone: their scheduler locks are released (the new worker's scheduler takes over at once
  instead of waiting for the lock to expire) and the jobs they were running are handed to
  RQ as abandoned now (retried when they have retries left, as PDF builds do; a periodic job
  is armed again at once);
- on other hosts, where a process cannot be looked up, a job's heartbeat expires after
  JOB_MONITORING_SECONDS + HEARTBEAT_GRACE_SECONDS (RQ's default is 90 s) and the scheduler
  lock after about a minute.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket

from flask import Flask
from redis import Redis
from rq import Queue, Repeat, SimpleWorker, Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry
from rq.scheduler import RQScheduler, SchedulerNotFound
from rq.scripts import release_lock

from crm.documents.jobs import prepare_worker
from crm.extensions import db
from crm.queue import DEFAULT_QUEUE, WORKER_QUEUES, periodic_jobs, redis_connection

log = logging.getLogger(__name__)

PERIODIC_LOCK = "crm:periodic:lock"
# Runs per arming; when they are used up the next maintenance tick arms the job again.
PERIODIC_REPEATS = 100_000
_ALIVE = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.STARTED}
# Maintenance (crash recovery, registries, retrying the scheduler lock) this often.
MAINTENANCE_SECONDS = 15
# A running job's heartbeat: renewed this often, and expired this much later.
JOB_MONITORING_SECONDS = 10
HEARTBEAT_GRACE_SECONDS = 20


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
    result = job.latest_result()
    abandoned = "AbandonedJobError" in ((result.exc_string or "") if result else "")  # its worker died
    job.delete()
    if abandoned:
        queue.enqueue(path, **options)
    else:
        queue.enqueue_in(dt.timedelta(seconds=interval), path, **options)
    log.info("periodic job %s (was %s) armed again, runs in %s s", job_id, status,
             0 if abandoned else interval)
    return job_id


def _process_gone(hostname: str | None, pid: int | None) -> bool:
    """Whether a process of this host has ended (on other hosts we cannot tell)."""
    if not pid or hostname != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, someone else's
    try:  # killed but not yet reaped by its parent (a zombie) is gone too
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[-1].split()[0] == b"Z"
    except OSError:
        return False


def reclaim_after_crash(connection: Redis, queue_names) -> dict:
    """Release what dead workers and schedulers of this host still hold: their scheduler
    locks, and the jobs they were running (handed to RQ as abandoned now, so it retries
    them).  Safe to run any time: live processes are left alone."""
    dead_workers = [worker for worker in Worker.all(connection=connection)
                    if _process_gone(worker.hostname, worker.pid)]
    dead = [worker.name for worker in dead_workers]
    released = []
    for name in queue_names:
        key = RQScheduler.get_locking_key(name)
        owner = connection.get(key)
        if owner is None:
            continue
        owner = owner.decode() if isinstance(owner, bytes) else owner
        try:
            scheduler = RQScheduler.fetch(owner, connection)
        except SchedulerNotFound:
            scheduler = None  # its heartbeat stopped: gone
        if scheduler is None or _process_gone(scheduler.hostname, scheduler.pid):
            if release_lock(connection, key, owner):
                released.append(name)
    abandoned = []
    if dead:
        for name in queue_names:
            registry = StartedJobRegistry(name, connection=connection)
            queue = Queue(name, connection=connection)
            for job_id, execution_id in registry.get_job_and_execution_ids(cleanup=False):
                try:
                    job = Job.fetch(job_id, connection=connection)
                except NoSuchJobError:
                    continue
                if job.worker_name not in dead:
                    continue
                abandoned.append(job_id)
                if job.retries_left:
                    # The job did not fail, its worker died: run it again now, no backoff.
                    job.retries_left -= 1
                    registry.remove_executions(job)
                    queue.enqueue_job(job, at_front=True)
                else:
                    # Expire its heartbeat now: RQ's cleanup moves it to the failed jobs.
                    connection.zadd(registry.key, {f"{job_id}:{execution_id}": 0}, xx=True)
            registry.cleanup()
    for worker in dead_workers:  # last: until its jobs are handed back, the next pass retries
        worker.register_death()
    if dead or released or abandoned:
        log.warning("after a crash: %d dead worker(s) cleared, scheduler lock(s) %s released, "
                    "%d job(s) handed back: %s", len(dead), released or "none", len(abandoned),
                    abandoned)
    return {"workers": dead, "locks": released, "jobs": abandoned}


class _AppWorkerMixin:
    """What both worker kinds share: the app, and keeping the periodic jobs armed."""

    app: Flask | None = None
    keeps_periodic_jobs = False

    def run_maintenance_tasks(self):
        try:
            reclaim_after_crash(self.connection, self.queue_names())
        except Exception:  # noqa: BLE001 - never let this stop the worker; next tick retries
            log.exception("could not reclaim what crashed workers held")
        super().run_maintenance_tasks()
        if self.keeps_periodic_jobs:
            try:
                ensure_periodic_jobs(self.connection)
            except Exception:  # noqa: BLE001 - never let this stop the worker; next tick retries
                log.exception("could not arm the periodic jobs")


    def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:
        # RQ adds 60 s of grace to every heartbeat; a shorter one finds a dead worker sooner.
        remaining = job.timeout - working_time if job.timeout and job.timeout > 0 else None
        interval = min(remaining, self.job_monitoring_interval) if remaining else self.job_monitoring_interval
        return int(interval) + HEARTBEAT_GRACE_SECONDS


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
        names = queues or WORKER_QUEUES
        try:
            reclaim_after_crash(connection, names)  # before recovery: abandoned jobs retried
        except Exception:  # noqa: BLE001 - Redis hiccup: the maintenance tick tries again
            log.exception("could not reclaim what crashed workers held")
        prepare_worker()  # warm ReportLab before forking; send lost PDF requests again
        worker = worker_class(names, connection=connection,
                              maintenance_interval=MAINTENANCE_SECONDS,
                              job_monitoring_interval=JOB_MONITORING_SECONDS)
        # Periodic jobs go to the default queue: its workers' scheduler moves them when due.
        worker.keeps_periodic_jobs = with_scheduler and DEFAULT_QUEUE in worker.queue_names()
        return worker.work(burst=burst, with_scheduler=with_scheduler)
