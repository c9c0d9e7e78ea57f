"""Import batches: upload (the file checked, its columns mapped), the dry run and the commit
(both run by an RQ job over the same code: the dry run rolls everything back), saved mappings.

A batch moves uploaded → checking → checked → committing → committed (→ reverted), or to
failed when its job fails.  Services flush but never commit; the jobs commit.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable
from contextlib import contextmanager

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from crm.audit import services as audit
from crm.db import utcnow
from crm.errors import DomainError, InvalidState
from crm.extensions import db
from crm.i18n import today as local_today
from crm.imports import columns, reading
from crm.imports.models import BatchStatus, ImportBatch, ImportKind, ImportMapping, ImportMode
from crm.imports.services import approvals, ledger, roster
from crm.milestones.queries import pinned_calendar
from crm.milestones.services import forecasts
from crm.imports.services.rows import PROGRESS_EVERY, Outcome, Row, apply, index_of, record
from crm.parks.models import Park
from crm.transaction import flush, lock

MAX_FILENAME = 200
NOT_NOW = {
    "check": _l("This import is being checked or has been imported already."),
    "commit": _l("Check the file (dry run) before importing it, and import it once."),
    "revert": _l("Only an imported batch can be reverted, once."),
}
REQUIRED_MISSING = _l("Choose the column that holds %(column)s.")
HEADER_UNKNOWN = _l("The file has no column of this name.")
NO_SHEET = _l("The workbook has no sheet with the columns of this import.")


def clean_filename(name: str | None) -> str:
    """The uploaded file's name without any path, control character or markup."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[\x00-\x1f<>\"']", "", base).strip()
    return base[:MAX_FILENAME] or "upload"


def create_batch(*, kind: str, mode: str, park: Park | None, filename: str | None,
                 data: bytes, actor_id: int | None,
                 saved: ImportMapping | None = None) -> ImportBatch:
    """Check the file and keep it with its columns mapped (a saved mapping's columns first,
    then the automatic match).  Raises DomainError on "file" for a file that cannot be read."""
    if kind not in {k.value for k in ImportKind}:
        raise DomainError(_l("Choose what the file holds."), "kind")
    if mode not in {m.value for m in ImportMode}:
        raise DomainError(_l("Choose how to import."), "mode")
    if kind == ImportKind.ROSTER and park is None:
        raise DomainError(_l("Choose the park whose roster this is."), "park")
    name = clean_filename(filename)
    sheets = reading.sheets_for(kind, reading.read(name, data))
    first = columns.SHEETS[kind][0][0]
    if first not in sheets:
        raise DomainError(NO_SHEET, "file")
    headers, mapping, total = {}, {}, 0
    for sheet, found in sheets.items():
        cols = columns.columns_of(kind, sheet)
        headers[sheet] = [h for h in found.headers if h]
        auto = columns.auto_mapping(cols, headers[sheet])
        kept = (saved.mapping.get(sheet, {}) if saved is not None else {})
        mapping[sheet] = {**auto, **{f: h for f, h in kept.items() if h in headers[sheet]}}
        total += reading.count_rows(found)
    batch = ImportBatch(kind=kind, mode=mode, park_id=park.id if park else None, filename=name,
                        content=data, headers=headers, mapping=mapping, rows_total=total,
                        created_by_id=actor_id, status=BatchStatus.UPLOADED.value)
    db.session.add(batch)
    flush()
    return batch


def check_mapping(batch: ImportBatch, mapping: dict[str, dict[str, str]]) -> dict:
    """The mapping as chosen on the page ({sheet: {field: header or ""}}): every header must
    be one of the file's, every required column chosen.  Field errors are named sheet.field."""
    errors: dict[str, list] = {}
    cleaned = {}
    for sheet, sheet_headers in batch.headers.items():
        chosen = mapping.get(sheet, {})
        result = {}
        for column in columns.columns_of(batch.kind, sheet):
            header = (chosen.get(column.field) or "").strip()
            if header and header not in sheet_headers:
                errors[f"{sheet}.{column.field}"] = [HEADER_UNKNOWN]
            elif header:
                result[column.field] = header
        for column in columns.missing_required(columns.columns_of(batch.kind, sheet), result):
            errors[f"{sheet}.{column.field}"] = [REQUIRED_MISSING % {"column": column.header}]
        cleaned[sheet] = result
    if errors:
        raise DomainError(errors=errors)
    return cleaned


def request_check(batch: ImportBatch, mapping: dict | None = None) -> ImportBatch:
    """Queue the dry run (with the mapping chosen on the page, if any)."""
    lock(batch)
    if batch.status not in (BatchStatus.UPLOADED, BatchStatus.CHECKED, BatchStatus.FAILED):
        raise InvalidState(NOT_NOW["check"], "status")
    batch.mapping = check_mapping(batch, batch.mapping if mapping is None else mapping)
    batch.status = BatchStatus.CHECKING.value
    batch.failure = None
    flush()
    return batch


def request_commit(batch: ImportBatch) -> ImportBatch:
    lock(batch)
    if batch.status != BatchStatus.CHECKED:
        raise InvalidState(NOT_NOW["commit"], "status")
    batch.status = BatchStatus.COMMITTING.value
    flush()
    return batch


def save_mapping(batch: ImportBatch, name: str | None) -> ImportMapping | None:
    """Keep the batch's mapping under ``name`` for its park (a name used before is replaced)."""
    name = (name or "").strip()[:50]
    if not name or batch.park_id is None:
        return None
    saved = db.session.scalar(select(ImportMapping).where(
        ImportMapping.park_id == batch.park_id, ImportMapping.kind == batch.kind,
        ImportMapping.name == name))
    if saved is None:
        saved = ImportMapping(park_id=batch.park_id, kind=batch.kind, name=name)
        db.session.add(saved)
    saved.mapping = batch.mapping
    flush()
    return saved


# -- the run (in the job) ------------------------------------------------------------------------

def _rows(batch: ImportBatch, sheet: str, found: reading.Sheet):
    mapping = batch.mapping.get(sheet, {})
    index = index_of(found.headers, mapping)
    for number, cells in found.rows:
        yield Row(found.title, number, cells, index, mapping)


def run(batch: ImportBatch, *, write: bool, park_ids: set[int],
        progress: Callable[[int], None] = lambda done: None) -> Outcome:
    """Every row through the services, each in its own savepoint.  ``write`` False (the dry
    run): everything is rolled back at the end, so the result is exactly what the commit
    would do, and nothing is written."""
    outcome = Outcome()
    sheets = reading.sheets_for(batch.kind, reading.read(batch.filename, batch.content))
    session = db.session
    outer = session.begin_nested()
    audit.set_import_batch(session, batch.id if write else None)
    done = 0

    def counted():
        nonlocal done
        done += 1
        if done % PROGRESS_EVERY == 0:
            progress(done)

    def step(row, change, fields=None):
        """A row through the services, in its own savepoint."""
        apply(row, outcome, change, fields)
        counted()

    def done_row(row, result):
        """A row checked (and written) in bulk: its result, or None with its problems."""
        record(row, outcome, result)
        counted()

    try:
        with _fewer_collections(), pinned_calendar(), forecasts.deferred(refresh=write):
            _each_row(batch, sheets, park_ids, step, done_row)
        progress(done)
    finally:
        audit.set_import_batch(session, None)
    sheet_order: dict[str, int] = {}
    for error in outcome.errors:
        sheet_order.setdefault(error["sheet"], len(sheet_order))
    outcome.errors.sort(key=lambda e: (sheet_order[e["sheet"]], e["row"]))
    if write:
        outer.commit()
    else:
        outer.rollback()
    return outcome


def _chunks(rows, size: int):
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@contextmanager
def _fewer_collections(young: int = 50_000):
    """A run holds tens of thousands of rows and records at once, and Python's collector,
    started every 700 new objects by default, scans them over and over (a third of the run's
    time).  Start it every ``young`` new objects instead; cycles are still collected, so memory
    stays bounded."""
    before = gc.get_threshold()
    gc.set_threshold(young, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _each_row(batch: ImportBatch, sheets: dict, park_ids: set[int], step, done_row) -> None:
    session = db.session
    if batch.kind == ImportKind.ROSTER:
        staff = roster.Roster(mode=batch.mode, park=session.get(Park, batch.park_id),
                              park_ids=park_ids, actor_id=batch.created_by_id,
                              today=local_today())
        for row in _rows(batch, columns.ROSTER_SHEET, sheets[columns.ROSTER_SHEET]):
            step(row, staff.row)
    else:
        book = ledger.Ledger(batch_id=batch.id, mode=batch.mode,
                             default_park_id=batch.park_id, park_ids=park_ids,
                             actor_id=batch.created_by_id, today=local_today())
        if columns.PROJECTS_SHEET in sheets and batch.kind == ImportKind.PROJECTS:
            for chunk in _chunks(_rows(batch, columns.PROJECTS_SHEET,
                                       sheets[columns.PROJECTS_SHEET]), ledger.CHUNK):
                book.project_rows(chunk, step, done_row)
        if columns.PROGRESS_SHEET in sheets:
            rows = ledger.progress_order(
                _rows(batch, columns.PROGRESS_SHEET, sheets[columns.PROGRESS_SHEET]))
            approvals.Approvals(park_ids=set(book.parks), actor_id=batch.created_by_id,
                                today=book.today, choices=book.choices).rows(rows, done_row)


def finish(batch: ImportBatch, outcome: Outcome, *, write: bool) -> None:
    """Store the run's counts and errors on the batch."""
    batch.counts = outcome.counts
    batch.errors = outcome.errors
    if write:
        batch.status = BatchStatus.COMMITTED.value
        batch.committed_at = utcnow()
    else:
        batch.status = BatchStatus.CHECKED.value
        batch.checked_at = utcnow()
    flush()


def fail(batch: ImportBatch, message: str) -> None:
    """The job failed (not a row: the run itself); nothing it did is kept."""
    batch.status = BatchStatus.FAILED.value
    batch.failure = message[:500]
    flush()
