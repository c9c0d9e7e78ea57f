"""Imports over the API: upload a ledger or roster (multipart), follow its check, import it,
revert it.  The same services, scope and rules as the import page."""

from __future__ import annotations

from flask import request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from crm import queue
from crm.api.core import api_user
from crm.api.errors import abort
from crm.api.projects import require
from crm.auth.permissions import Action
from crm.auth.scope import visible_parks
from crm.imports import progress, queries
from crm.imports.jobs import JOB_TIMEOUT
from crm.imports.services import batches, revert
from crm.transaction import on_commit, transaction

bp = Blueprint("api_imports", __name__, url_prefix="/api/v1",
               description="Spreadsheet imports (台账导入): upload, dry run, import, revert.")
JOBS = {"checking": "crm.imports.jobs.check_batch", "committing": "crm.imports.jobs.commit_batch"}
MAX_ERRORS = 500


class ImportErrorSchema(Schema):
    sheet = fields.String()
    row = fields.Integer()
    column = fields.String()
    message = fields.String()


class BatchSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    mode = fields.String(required=True)
    park_id = fields.Integer(allow_none=True)
    filename = fields.String(required=True)
    status = fields.String(required=True, metadata={
        "description": "uploaded, checking, checked, committing, committed, failed, reverted"})
    rows_total = fields.Integer(required=True)
    rows_done = fields.Integer(allow_none=True, metadata={"description": "while a job runs"})
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    errors = fields.List(fields.Nested(ImportErrorSchema), metadata={
        "description": f"the first {MAX_ERRORS} problems of the last check or import"})
    mapping = fields.Dict()
    status_url = fields.String()


def _out(batch) -> dict:
    running = batch.status in JOBS
    return {"id": batch.id, "kind": batch.kind, "mode": batch.mode, "park_id": batch.park_id,
            "filename": batch.filename, "status": batch.status, "rows_total": batch.rows_total,
            "rows_done": progress.rows_done(batch.id) if running else None,
            "counts": batch.counts or {}, "errors": (batch.errors or [])[:MAX_ERRORS],
            "mapping": batch.mapping,
            "status_url": url_for("api_imports.Batch", batch_id=batch.id)}


def _send(batch) -> None:
    path, batch_id = JOBS[batch.status], batch.id
    on_commit(lambda: queue.enqueue(path, batch_id, job_timeout=JOB_TIMEOUT))


def _batch(batch_id: int):
    batch = queries.get_batch_or_none(api_user(), batch_id)
    if batch is None:
        abort(404, "No import batch with this id.")
    require(Action.IMPORT)
    return batch


def _accepted(batch):
    return _out(batch), 202, {"Location": url_for("api_imports.Batch", batch_id=batch.id)}


@bp.route("/imports")
class Imports(MethodView):
    @bp.doc(description="multipart/form-data: `file` (.xlsx or .csv), `kind` (projects, "
                        "progress, roster), `mode` (create, upsert, update), `park_id` (rows "
                        "that name no park; a roster's park). Columns are matched by their "
                        "headers; the dry run is queued at once. 202 with the batch.")
    @bp.response(202, BatchSchema)
    def post(self):
        require(Action.IMPORT)
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            abort(422, "Send the spreadsheet as the multipart field 'file'.",
                  {"file": ["Choose the file."]})
        parks = visible_parks(api_user())
        park = None
        if request.form.get("park_id"):
            park = next((p for p in parks if str(p.id) == request.form["park_id"]), None)
            if park is None:
                abort(422, "Choose one of your parks.", {"park_id": ["Choose one of your parks."]})
        elif len(parks) == 1:
            park = parks[0]
        with transaction():
            batch = batches.create_batch(
                kind=request.form.get("kind", "projects"), mode=request.form.get("mode", "upsert"),
                park=park, filename=upload.filename, data=upload.read(), actor_id=api_user().id)
            batches.request_check(batch)
            _send(batch)
        return _accepted(batch)


@bp.route("/imports/<int:batch_id>")
class Batch(MethodView):
    @bp.response(200, BatchSchema)
    def get(self, batch_id: int):
        return _out(_batch(batch_id))


@bp.route("/imports/<int:batch_id>/commit")
class Commit(MethodView):
    @bp.doc(description="Import the rows that passed the check (409 unless checked). 202.")
    @bp.response(202, BatchSchema)
    def post(self, batch_id: int):
        batch = _batch(batch_id)
        with transaction():
            batches.request_commit(batch)
            _send(batch)
        return _accepted(batch)


@bp.route("/imports/<int:batch_id>/revert")
class Revert(MethodView):
    @bp.doc(description="Undo an imported batch (409 when what it wrote has changed since).")
    @bp.response(200, BatchSchema)
    def post(self, batch_id: int):
        batch = _batch(batch_id)
        with transaction():
            revert.revert(batch, actor_id=api_user().id)
        return _out(batch)
