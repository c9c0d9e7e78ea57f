"""Document jobs, run by RQ workers (each its own unit of work): build a PDF, recover the
requests lost on the way, and warm a worker up before it forks its first work horse."""

from __future__ import annotations

import logging

from redis.exceptions import RedisError
from rq import get_current_job

from crm.documents import services
from crm.extensions import db

log = logging.getLogger(__name__)


def build_document(document_id: int) -> dict:
    """Build one document's PDF: claim it, build outside any transaction, store it.

    Skips a document that is done, failed, or taken by another job.  A failed attempt is
    recorded and re-raised so RQ retries it; after the last retry the document is failed.
    """
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


def recover_documents() -> dict:
    """Send again the PDF requests lost on the way (Redis down, worker killed); periodic."""
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

    from crm.documents import queries
    from crm.i18n import today
    from crm.labels import label
    from crm.milestones.queries import work_calendar
    from crm.projects.models import Project

    configure_mappers()
    calendar = work_calendar()
    with force_locale(queries.PDF_LOCALE):
        label("stage", "signed")
    project_id = db.session.scalar(select(Project.id).limit(1))
    if project_id is not None:
        queries.service_order(project_id, number="", version=0, today=today(), calendar=calendar)
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
