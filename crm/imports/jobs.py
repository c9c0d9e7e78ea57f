"""Import jobs (RQ, each its own unit of work): the dry run and the commit of a batch.

The commit is all or nothing: every accepted row is written in the job's one transaction,
which commits at the end; if the job fails (a crash, a timeout), nothing of it is kept and the
batch is marked failed with the reason, ready to be checked and imported again."""

from __future__ import annotations

import logging

from crm.audit import services as audit
from crm.auth.models import User
from crm.auth.scope import visible_park_ids
from crm.extensions import db
from crm.imports import progress
from crm.imports.models import BatchStatus, ImportBatch
from crm.imports.services import batches

log = logging.getLogger(__name__)
JOB_TIMEOUT = 3600
STATUS_OF_JOB = {"check": BatchStatus.CHECKING, "commit": BatchStatus.COMMITTING}


def check_batch(batch_id: int) -> dict:
    return _run(batch_id, "check")


def commit_batch(batch_id: int) -> dict:
    return _run(batch_id, "commit")


def _run(batch_id: int, step: str) -> dict:
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.status != STATUS_OF_JOB[step]:
        return {"skipped": batch_id}  # already done, or asked twice
    user = db.session.get(User, batch.created_by_id) if batch.created_by_id else None
    audit.set_actor(db.session, batch.created_by_id)
    try:
        if user is None or not user.active:
            raise RuntimeError("the user who uploaded the file can no longer import")
        outcome = batches.run(batch, write=step == "commit", park_ids=visible_park_ids(user),
                              progress=lambda done: progress.report(batch_id, done))
        batches.finish(batch, outcome, write=step == "commit")
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        log.exception("import batch %s: %s failed", batch_id, step)
        batch = db.session.get(ImportBatch, batch_id)
        batches.fail(batch, type(exc).__name__)
        db.session.commit()
        return {"failed": batch_id}
    finally:
        progress.clear(batch_id)
    return {"batch": batch_id, **batch.counts}
