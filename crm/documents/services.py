"""Generated documents: the request, the hand-off to the PDF queue, the worker's claim and
result, and the recovery of requests lost on the way.  Services flush; the view or job that
calls them commits.

A document's life: a request makes a ``queued`` row (or returns the pending one); once the
caller has committed (``transaction.on_commit``), ``send_to_queue`` hands its id to RQ.  The job ``claim``s the row (``running``,
attempts + 1), builds the PDF outside any transaction, and ``complete``s it (``done``, bytes,
size, sha256) -- or records the failure (``queued`` again while RQ will retry, ``failed`` after
the last try).  Nothing is lost: a row Redis never got, or whose job died with its worker, is
found by ``find_lost`` (at worker start and periodically) and handed to the queue again.

Every write after the request is a conditional UPDATE (status, attempt and job id as seen), so
two workers, or a worker and the recovery, never overwrite each other: the first wins, the
other finds nothing to update and stops.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import logging
import uuid
from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale
from redis.exceptions import RedisError
from rq import Retry
from rq.job import Job, JobStatus
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

import reports
from flask_babel import lazy_gettext as _l
from reports.text import FILENAMES
from crm import queue
from crm.audit import services as audit
from crm import signals
from crm.db import utcnow
from crm.documents import queries
from crm.documents.models import DocumentKind, DocumentStatus, GeneratedDocument
from crm.documents.queries import safe_filename
from crm.extensions import db
from crm.i18n import today
from crm.supervision import report as round_report
from crm.supervision.models import Round
from crm.milestones.queries import work_calendar
from crm.parks.models import Park
from crm.projects.models import Project
from crm.portal import services as enterprise_links
from crm.transaction import on_commit, transaction

log = logging.getLogger(__name__)

Doc = GeneratedDocument

# What the audit trail calls the actions written here (downloads are recorded by the views).
AUDIT_ACTIONS = {
    "document.request": _l("requested the document"),
    "document.download": _l("downloaded the document"),
}
# Plain strings (the stored values) for SQL parameters.
QUEUED, RUNNING, DONE, FAILED = (str(s.value) for s in DocumentStatus)
SERVICE_ORDER, SUMMARY, ROUND_REPORT, ROUND_WORKBOOK = (str(k.value) for k in DocumentKind)
PENDING = (QUEUED, RUNNING)
# RQ states in which a job will still run: the document is not lost.
_WAITING = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
RECOVERY_BATCH = 500


class Outcome(enum.StrEnum):
    PENDING = "pending"  # one was already queued or running: that one
    UNCHANGED = "unchanged"  # the plan has not changed since the last version: that version
    CREATED = "created"  # a new document (a new version for service orders)
    RETRIED = "retried"  # the last version had failed: it is made again


@dataclass(frozen=True)
class Requested:
    document: GeneratedDocument
    outcome: Outcome


def new_job_id() -> str:
    return f"pdf-{uuid.uuid4().hex}"


def service_order_key(project_id: int) -> str:
    return f"{SERVICE_ORDER}:{project_id}"


def summary_key(park_id: int | None, start: dt.date, end: dt.date) -> str:
    return f"{SUMMARY}:{park_id or 'city'}:{start.isoformat()}:{end.isoformat()}"


def pending(key: str) -> GeneratedDocument | None:
    return db.session.scalar(select(Doc).where(Doc.request_key == key, Doc.status.in_(PENDING)))


# -- requests --------------------------------------------------------------------------------

def request_service_order(project: Project, user) -> Requested:
    """The project's service order: the pending one, the last version when nothing changed, or
    a new version (the failed last version is made again rather than skipped)."""
    key = service_order_key(project.id)
    # The order's QR code carries the enterprise's progress link: one exists before it prints.
    enterprise_links.ensure(project, actor_id=getattr(user, "id", None), today=today())
    found = pending(key)
    if found is not None:
        return _send_after_commit(Requested(found, Outcome.PENDING))
    latest = db.session.scalar(
        select(Doc).where(Doc.project_id == project.id, Doc.kind == SERVICE_ORDER)
        .order_by(Doc.doc_version.desc()).limit(1))
    day = today()
    number = latest.order_number if latest else queries.order_number(project.id, day.year)
    data = queries.service_order(project.id, number=number, version=1, today=day,
                                calendar=work_calendar())
    fingerprint = queries.fingerprint(data)
    if latest is not None and latest.status == DONE and latest.content_fingerprint == fingerprint:
        return Requested(latest, Outcome.UNCHANGED)
    if latest is not None and latest.status == FAILED:
        doc, outcome = latest, Outcome.RETRIED
    else:
        doc = Doc(kind=SERVICE_ORDER, project_id=project.id,
                  park_id=project.park_id, order_number=number,
                  doc_version=(latest.doc_version + 1) if latest else 1)
        outcome = Outcome.CREATED
    return _send_after_commit(_submit(doc, outcome, key, user, fingerprint))


def request_summary(park_id: int | None, start: dt.date, end: dt.date, user) -> Requested:
    """A summary of the city (park_id None) or one park; the pending one if there is one.

    The caller has checked that the user may see that scope.
    """
    key = summary_key(park_id, start, end)
    found = pending(key)
    if found is not None:
        return _send_after_commit(Requested(found, Outcome.PENDING))
    doc = Doc(kind=SUMMARY, park_id=park_id, period_start=start,
              period_end=end)
    return _send_after_commit(_submit(doc, Outcome.CREATED, key, user, None))


def request_round_report(round_, user) -> list[Requested]:
    """A closed supervision round's report: the PDF and the workbook (each the pending one if
    there is one)."""
    requested = []
    for kind in (ROUND_REPORT, ROUND_WORKBOOK):
        key = f"{kind}:{round_.id}"
        found = pending(key)
        if found is not None:
            requested.append(_send_after_commit(Requested(found, Outcome.PENDING)))
            continue
        doc = Doc(kind=kind, park_id=round_.park_id, round_id=round_.id,
                  period_start=round_.period_start, period_end=round_.period_end)
        requested.append(_send_after_commit(_submit(doc, Outcome.CREATED, key, user, None)))
    return requested


def _submit(doc: GeneratedDocument, outcome: Outcome, key: str, user,
            fingerprint: str | None) -> Requested:
    doc.status = QUEUED
    doc.request_key = key
    doc.requested_by_id = getattr(user, "id", None)
    doc.requested_at = utcnow()
    doc.content_fingerprint = fingerprint
    doc.attempts = 0
    doc.error = None
    doc.started_at = doc.finished_at = None
    # Leased to this request: it sends the job right after committing (send_to_queue).
    doc.job_id = new_job_id()
    doc.enqueued_at = utcnow()
    try:
        with db.session.begin_nested():
            db.session.add(doc)
            audit.tag(doc, "document.request")
            db.session.flush()
    except IntegrityError:
        # A concurrent request made the pending document first (unique pending key).
        found = pending(key)
        if found is None:
            raise
        return Requested(found, Outcome.PENDING)
    return Requested(doc, outcome)


# -- the queue -------------------------------------------------------------------------------

BUILD_JOB = "crm.documents.jobs.build_document"


def _send_after_commit(requested: Requested) -> Requested:
    """Hand the document to the queue once the request has committed, when this request is
    the one to send it (``should_send``)."""
    if should_send(requested):
        leased = [(requested.document.id, requested.document.job_id)]
        on_commit(lambda: _send_committed(leased))
    return requested


def _send_committed(leased: list[tuple[int, str]]) -> None:
    """After the request's commit: enqueue, and record a failure to reach Redis."""
    with transaction():
        send_to_queue(leased)


def enqueue_document(document_id: int, job_id: str):
    """Hand the build of a document to the PDF queue (or build it now when jobs run inline).

    RQ retries a failed build with backoff (PDF_RETRY_INTERVALS; the worker's scheduler
    enqueues the retries), stops a build after PDF_JOB_TIMEOUT and keeps the job's result
    for PDF_RESULT_TTL (the PDF itself is in the database).
    """
    config = current_app.config
    if queue.inline():
        try:
            queue.enqueue(BUILD_JOB, document_id)
        except Exception:  # recorded on the document (failed, with the error)
            log.exception("inline build of document %s failed", document_id)
        return None
    intervals = list(config["PDF_RETRY_INTERVALS"])
    return queue.enqueue(
        BUILD_JOB, document_id, queue=queue.PDF_QUEUE, job_id=job_id,
        job_timeout=config["PDF_JOB_TIMEOUT"], result_ttl=config["PDF_RESULT_TTL"],
        failure_ttl=config["PDF_FAILURE_TTL"],
        retry=Retry(max=len(intervals), interval=intervals) if intervals else None,
        description=f"PDF of document {document_id}",
    )

def should_send(requested: Requested) -> bool:
    """Whether the caller must hand the document to the queue once it has committed: a new
    request, or a pending one Redis never got (leased here, so only one request sends it)."""
    doc = requested.document
    if requested.outcome in (Outcome.CREATED, Outcome.RETRIED):
        return True
    return (requested.outcome == Outcome.PENDING and doc.status == QUEUED
            and doc.enqueued_at is None and lease(doc))


def lease(document: GeneratedDocument) -> bool:
    """Take a queued document that never reached Redis, to send it now (False: someone has)."""
    job_id = new_job_id()
    result = db.session.execute(
        update(Doc).where(Doc.id == document.id, Doc.status == QUEUED, Doc.enqueued_at.is_(None))
        .values(job_id=job_id, enqueued_at=utcnow())
        .execution_options(synchronize_session=False))
    if result.rowcount:
        document.job_id = job_id
    return bool(result.rowcount)


def send_to_queue(leased: list[tuple[int, str]]) -> int:
    """Enqueue the build of each committed (document id, job id); how many Redis accepted.

    When Redis is unreachable the documents stay queued with no ``enqueued_at``: recovery
    sends them when it answers again.  The user sees "queued" meanwhile.
    """
    sent = 0
    for n, (document_id, job_id) in enumerate(leased):
        try:
            enqueue_document(document_id, job_id)
            sent += 1
        except (RedisError, OSError) as exc:
            log.warning("Redis unreachable, %d PDF request(s) stay queued for recovery: %s",
                        len(leased) - n, exc)
            for doc_id, jid in leased[n:]:
                db.session.execute(
                    update(Doc).where(Doc.id == doc_id, Doc.job_id == jid, Doc.status == QUEUED)
                    .values(enqueued_at=None).execution_options(synchronize_session=False))
            break
    return sent


# -- the worker's side -----------------------------------------------------------------------

def claim(document_id: int, job_id: str | None) -> int | None:
    """Mark the document running for this job; the attempt number, or None if it is not ours
    (done, failed, or taken by another job).  A retry of the same RQ job may take it back."""
    mine = Doc.status == QUEUED
    if job_id is not None:
        mine = or_(mine, and_(Doc.status == RUNNING, Doc.job_id == job_id))
    values = dict(status=RUNNING, started_at=utcnow(), finished_at=None,
                  attempts=Doc.attempts + 1)
    if job_id is not None:
        values["job_id"] = job_id
    result = db.session.execute(update(Doc).where(Doc.id == document_id, mine).values(**values)
                                .execution_options(synchronize_session=False))
    if not result.rowcount:
        return None
    return db.session.scalar(select(Doc.attempts).where(Doc.id == document_id))


@dataclass(frozen=True)
class Prepared:
    """What a build needs, gathered inside a transaction and used outside it."""

    kind: str
    data: object  # reports.ServiceOrder or reports.Summary
    filename: str
    fingerprint: str | None


def prepare(document_id: int) -> Prepared:
    doc = db.session.get(Doc, document_id)
    day, calendar = today(), work_calendar()
    if doc.kind in (ROUND_REPORT, ROUND_WORKBOOK):
        return _prepare_round(doc, day)
    if doc.kind == SERVICE_ORDER:
        data = queries.service_order(doc.project_id, number=doc.order_number,
                                    version=doc.doc_version, today=day, calendar=calendar)
        name = FILENAMES["service_order"].format(
            project=safe_filename(data.project_name)[:40], number=doc.order_number,
            version=doc.doc_version)
        return Prepared(doc.kind, data, name, queries.fingerprint(data))
    data = queries.summary(doc.park_id, doc.period_start, doc.period_end, today=day,
                          calendar=calendar)
    scope = "city" if doc.park_id is None else db.session.scalar(
        select(Park.short_name).where(Park.id == doc.park_id))
    name = FILENAMES["summary"].format(
        scope=safe_filename(data.scope_label if doc.park_id is None else scope),
        start=doc.period_start.isoformat(), end=doc.period_end.isoformat())
    return Prepared(doc.kind, data, name, None)


def _prepare_round(doc: GeneratedDocument, day) -> Prepared:
    """A round's report; its workbook is written here, while reading (streamed rows)."""
    with force_locale(queries.PDF_LOCALE):
        data = round_report.round_report(doc.round_id, today=day, now=queries.local_now())
        content = (round_report.round_workbook(doc.round_id, data)
                   if doc.kind == ROUND_WORKBOOK else data)
    title = db.session.scalar(select(Round.title).where(Round.id == doc.round_id))
    name = FILENAMES[doc.kind].format(scope=safe_filename(data.scope_label),
                                      title=safe_filename(title)[:40],
                                      end=doc.period_end.isoformat())
    return Prepared(doc.kind, content, name, None)


def render(prepared: Prepared) -> bytes:
    """The document's bytes (pure: no database)."""
    if prepared.kind == SERVICE_ORDER:
        return reports.build_service_order(prepared.data)
    if prepared.kind == ROUND_REPORT:
        return reports.build_round_report(prepared.data)
    if prepared.kind == ROUND_WORKBOOK:
        return prepared.data  # written by _prepare_round
    return reports.build_summary(prepared.data)


def complete(document_id: int, attempt: int, pdf: bytes, prepared: Prepared) -> bool:
    """Store the PDF and mark the document done, unless another attempt took it meanwhile."""
    values = dict(status=DONE, content=pdf, size=len(pdf),
                  sha256=hashlib.sha256(pdf).hexdigest(), filename=prepared.filename,
                  finished_at=utcnow(), error=None)
    if prepared.fingerprint is not None:
        values["content_fingerprint"] = prepared.fingerprint
    result = db.session.execute(
        update(Doc).where(Doc.id == document_id, Doc.status == RUNNING, Doc.attempts == attempt)
        .values(**values).execution_options(synchronize_session=False))
    if result.rowcount:
        signals.document_ready.send(None, document_id=document_id)
    return bool(result.rowcount)


def record_failure(document_id: int, attempt: int, error: BaseException, final: bool) -> None:
    """A failed attempt: ``failed`` with the error after the last try, else ``queued`` again
    (RQ runs the retry after its backoff; the user keeps seeing "queued")."""
    message = f"{type(error).__name__}: {error}"[:2000]
    values = (dict(status=FAILED, error=message, finished_at=utcnow()) if final
              else dict(status=QUEUED, error=f"attempt {attempt}: {message}"))
    db.session.execute(
        update(Doc).where(Doc.id == document_id, Doc.status == RUNNING, Doc.attempts == attempt)
        .values(**values).execution_options(synchronize_session=False))


# -- recovery --------------------------------------------------------------------------------

def find_lost(now: dt.datetime | None = None) -> tuple[list[tuple[int, str]], int]:
    """Lease the pending documents whose job is lost, to send again; also the number given up.

    Lost: queued but never handed to Redis; or its RQ job is gone, ended without finishing the
    document, or started but silent (no heartbeat) for PDF_STALE_SECONDS.  A document built
    PDF_MAX_ATTEMPTS times already is marked failed instead.  Raises RedisError when Redis is
    unreachable (nothing is changed then).
    """
    now = now or utcnow()
    config = current_app.config
    stale = dt.timedelta(seconds=config["PDF_STALE_SECONDS"])
    rows = db.session.execute(
        select(Doc.id, Doc.status, Doc.job_id, Doc.enqueued_at, Doc.started_at, Doc.attempts)
        .where(Doc.status.in_(PENDING)).order_by(Doc.requested_at).limit(RECOVERY_BATCH)
    ).all()
    if not rows:
        return [], 0
    ids = [r.job_id for r in rows if r.job_id]
    found = Job.fetch_many(ids, connection=queue.redis_connection()) if ids else []
    rq_jobs = {job.id: job for job in found if job is not None}
    leased, gave_up = [], 0
    for row in rows:
        if not _is_lost(row, rq_jobs.get(row.job_id), now, stale):
            continue
        same = (Doc.id == row.id, Doc.status == row.status, Doc.attempts == row.attempts,
                Doc.job_id.is_(None) if row.job_id is None else Doc.job_id == row.job_id)
        if row.attempts >= config["PDF_MAX_ATTEMPTS"]:
            result = db.session.execute(update(Doc).where(*same).values(
                status=FAILED, finished_at=now,
                error=f"gave up after {row.attempts} attempts: the worker was lost each time"
            ).execution_options(synchronize_session=False))
            gave_up += result.rowcount
            continue
        job_id = new_job_id()
        result = db.session.execute(update(Doc).where(*same).values(
            status=QUEUED, job_id=job_id, enqueued_at=now,
        ).execution_options(synchronize_session=False))
        if result.rowcount:
            leased.append((row.id, job_id))
    if leased or gave_up:
        log.warning("PDF recovery: %d lost request(s) sent again, %d given up",
                    len(leased), gave_up)
    return leased, gave_up


def _is_lost(row, job: Job | None, now: dt.datetime, stale: dt.timedelta) -> bool:
    if row.status == QUEUED and row.enqueued_at is None:
        return True  # Redis was down when it was requested
    status = job.get_status(refresh=False) if job is not None else None
    if status in _WAITING:
        return False
    if status == JobStatus.STARTED:
        last_sign = job.last_heartbeat or job.started_at
    else:  # no job in Redis, or it ended without finishing the document
        last_sign = row.started_at if row.status == RUNNING else row.enqueued_at
    return last_sign is None or now - last_sign > stale
