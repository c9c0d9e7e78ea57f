"""RQ plumbing and job functions.

Job functions take ids, load what they need inside the worker's app context, call services or
``reports/`` and commit once.  Web code enqueues through ``enqueue()``, which runs the job in
process when the app is configured with ``JOBS_INLINE`` (no Redis available).
"""

from __future__ import annotations

import logging

from flask import current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry, get_current_job

from crm.extensions import db

log = logging.getLogger(__name__)

DEFAULT_QUEUE = "default"

# Periodic jobs: (dotted path of a job function taking no arguments, interval in seconds).
# The worker keeps each of them scheduled (see crm/worker.py); packages append their own.
PERIODIC_JOBS: list[tuple[str, int]] = []


def redis_connection() -> Redis:
    return Redis.from_url(current_app.config["REDIS_URL"], socket_connect_timeout=2,
                          socket_timeout=10)


def get_queue(name: str = DEFAULT_QUEUE, connection: Redis | None = None) -> Queue:
    return Queue(name, connection=connection or redis_connection())


def enqueue(func, *args, queue: str = DEFAULT_QUEUE, **options):
    """Put ``func(*args)`` on a queue, or run it now when jobs run inline."""
    if current_app.config["JOBS_INLINE"]:
        return func(*args)
    return get_queue(queue).enqueue(func, *args, **options)


def ping() -> str:
    """A trivial job: proves a worker is running inside the app context."""
    return current_app.name


def sla_sweep() -> dict:
    """Notify owners and park managers of milestones that became due soon or overdue."""
    from crm.extensions import db
    from crm.i18n import today
    from crm.milestones.sweep import sweep

    result = sweep(today())
    db.session.commit()
    return {"milestones": result.milestones, "notifications": result.notifications}


PERIODIC_JOBS.append(("crm.jobs.sla_sweep", 600))


def refresh_rollups() -> dict:
    """Recompute the per-park rollups of the leadership dashboard."""
    from crm.dashboard.rollups import refresh
    from crm.extensions import db
    from crm.i18n import today
    from crm.milestones.services import work_calendar

    parks = refresh(today(), work_calendar())
    db.session.commit()
    return {"parks": parks}


# Every minute: the leadership dashboard shows figures at most a minute or two old.
PERIODIC_JOBS.append(("crm.jobs.refresh_rollups", 60))


# -- PDFs (crm/documents) ----------------------------------------------------------------------

PDF_QUEUE = "pdf"
# The queues `flask crm worker` listens on by default, in priority order.
WORKER_QUEUES = [DEFAULT_QUEUE, PDF_QUEUE]

PERIODIC_JOBS.append(("crm.jobs.recover_documents", 60))


def enqueue_document(document_id: int, job_id: str):
    """Hand the build of a document to the PDF queue (or build it now when jobs run inline).

    RQ retries a failed build with backoff (PDF_RETRY_INTERVALS; the worker's scheduler
    enqueues the retries), stops a build after PDF_JOB_TIMEOUT and keeps the job's result
    for PDF_RESULT_TTL (the PDF itself is in the database).
    """
    config = current_app.config
    if config["JOBS_INLINE"]:
        try:
            build_document(document_id)
        except Exception:  # recorded on the document (failed, with the error)
            log.exception("inline build of document %s failed", document_id)
        return None
    intervals = list(config["PDF_RETRY_INTERVALS"])
    return enqueue(
        build_document, document_id, queue=PDF_QUEUE, job_id=job_id,
        job_timeout=config["PDF_JOB_TIMEOUT"], result_ttl=config["PDF_RESULT_TTL"],
        failure_ttl=config["PDF_FAILURE_TTL"],
        retry=Retry(max=len(intervals), interval=intervals) if intervals else None,
        description=f"PDF of document {document_id}",
    )


def build_document(document_id: int) -> dict:
    """Build one document's PDF: claim it, build outside any transaction, store it.

    Skips a document that is done, failed, or taken by another job.  A failed attempt is
    recorded and re-raised so RQ retries it; after the last retry the document is failed.
    """
    from crm.documents import services

    job = get_current_job()
    attempt = services.claim(document_id, job.id if job else None)
    db.session.commit()
    if attempt is None:
        return {"document": document_id, "skipped": True}
    try:
        prepared = services.prepare(document_id)
        db.session.commit()  # end the read transaction before the slow part
        pdf = services.render(prepared)
        stored = services.complete(document_id, attempt, pdf, prepared)
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        final = job is None or not job.retries_left
        services.record_failure(document_id, attempt, exc, final=final)
        db.session.commit()
        raise
    return {"document": document_id, "attempt": attempt, "stored": stored, "size": len(pdf)}


def submit_document(requested) -> None:
    """After a document request (crm.documents.services.request_*): commit it, then hand it
    to the queue.  The row is committed first so the worker always finds it; with Redis down
    it stays queued and recovery sends it later.  The request's one commit point (web or API)."""
    from crm.documents import services

    doc = requested.document
    send = services.should_send(requested)
    leased = (doc.id, doc.job_id)
    db.session.commit()
    if send:
        services.send_to_queue([leased])
        db.session.commit()


def recover_documents() -> dict:
    """Send again the PDF requests lost on the way (Redis down, worker killed); periodic."""
    from crm.documents import services

    try:
        leased, gave_up = services.find_lost()
    except (RedisError, OSError) as exc:
        db.session.rollback()
        log.warning("PDF recovery skipped, Redis unreachable: %s", exc)
        return {"redis": "unreachable"}
    db.session.commit()
    sent = services.send_to_queue(leased)
    db.session.commit()
    return {"sent": sent, "leased": len(leased), "gave_up": gave_up}


def _warm_caches() -> None:
    """What every PDF job would otherwise rebuild in its fresh fork: the mappers, the working-day
    calendar, the Chinese catalogs of the PDFs' labels, and the compiled SQL of a service
    order's queries (gathered once for any project, read only)."""
    from flask_babel import force_locale
    from sqlalchemy import select
    from sqlalchemy.orm import configure_mappers

    from crm.documents import gather
    from crm.i18n import today
    from crm.labels import label
    from crm.milestones.services import work_calendar
    from crm.projects.models import Project

    configure_mappers()
    calendar = work_calendar()
    with force_locale(gather.PDF_LOCALE):
        label("stage", "signed")
    project_id = db.session.scalar(select(Project.id).limit(1))
    if project_id is not None:
        gather.service_order(project_id, number="", version=0, today=today(), calendar=calendar)
    db.session.rollback()


def prepare_worker() -> None:
    """Run by the worker before it forks its first work horse.

    Loads ReportLab and the embedded font once in the parent, so every job inherits them (a
    one-page job takes a fraction of the time it takes when each fork loads them), then sends
    again whatever PDF requests were lost while no worker ran.
    """
    import reports

    reports.warm_up()
    try:
        _warm_caches()
        recover_documents()
    except Exception:  # a database hiccup must not keep the worker from starting
        log.exception("PDF recovery at worker start failed")
        db.session.rollback()
    finally:
        db.session.remove()
