"""Import pages: upload a ledger or a roster, adjust the column mapping, check it (dry run),
import it with a progress bar, download the failed rows, revert the batch; the templates."""

from __future__ import annotations

from flask import (
    Blueprint, abort, flash, make_response, redirect, render_template, send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectField

from crm import queue
from crm.auth.permissions import Action, require
from crm.auth.scope import visible_parks
from crm.errors import DomainError, apply_to_form
from crm.imports import columns, progress, queries, workbooks
from crm.imports.forms import ActionForm, MappingForm, UploadForm
from crm.imports.jobs import JOB_TIMEOUT
from crm.imports.models import BatchStatus, ImportKind
from crm.imports.services import batches, revert
from crm.transaction import on_commit, transaction

bp = Blueprint("imports", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RUNNING = (BatchStatus.CHECKING, BatchStatus.COMMITTING)
JOBS = {BatchStatus.CHECKING: "crm.imports.jobs.check_batch",
        BatchStatus.COMMITTING: "crm.imports.jobs.commit_batch"}


@bp.record_once
def _limits(state):
    limits = state.app.extensions.setdefault("upload_limits", {})
    limits["imports.upload"] = "IMPORT_MAX_BYTES"
    limits["api_imports.Imports"] = "IMPORT_MAX_BYTES"


def send_job(batch) -> None:
    """Hand the batch's job to the queue once the status change is committed."""
    path, batch_id = JOBS[batch.status], batch.id
    on_commit(lambda: queue.enqueue(path, batch_id, job_timeout=JOB_TIMEOUT))


def _batch(batch_id: int):
    batch = queries.get_batch_or_none(current_user, batch_id)
    if batch is None:
        abort(404)  # another park's batch does not exist for this user
    require(Action.IMPORT)
    return batch


def _upload_form(parks, saved):
    form = UploadForm()
    blank = [] if len(parks) == 1 else [(None, _("— the park column of each row —"))]
    form.park.choices = blank + [(p.id, p.name) for p in parks]
    form.saved_mapping.choices = [(None, "—")] + [
        (m.id, f"{m.park.name} · {m.name}") for m in saved]
    return form


def _index(form, status=200):
    parks = visible_parks(current_user)
    return render_template("imports/index.html", form=form,
                           batches=queries.recent_batches(current_user),
                           kinds=list(ImportKind), parks=parks), status


@bp.get("/imports")
@login_required
def index():
    require(Action.IMPORT)
    parks = visible_parks(current_user)
    return _index(_upload_form(parks, queries.saved_mappings({p.id for p in parks})))


@bp.post("/imports")
@login_required
def upload():
    require(Action.IMPORT)
    parks = visible_parks(current_user)
    saved = queries.saved_mappings({p.id for p in parks})
    form = _upload_form(parks, saved)
    if not form.validate_on_submit():
        return _index(form, 422)
    park = next((p for p in parks if p.id == form.park.data), None)
    if park is None and form.park.data is not None:
        form.park.errors = [_("Choose one of your parks.")]
        return _index(form, 422)
    if park is None and len(parks) == 1:
        park = parks[0]
    mapping = next((m for m in saved if m.id == form.saved_mapping.data), None)
    upload_file = form.file.data
    try:
        with transaction():
            batch = batches.create_batch(
                kind=form.kind.data, mode=form.mode.data, park=park,
                filename=upload_file.filename, data=upload_file.read(),
                actor_id=current_user.id, saved=mapping)
    except DomainError as exc:
        for message in apply_to_form(form, exc):
            flash(str(message), "danger")
        return _index(form, 422)
    return redirect(url_for("imports.batch", batch_id=batch.id))


def mapping_form(batch, formdata=None):
    """The mapping form: one select per column of each sheet, the file's headers as choices."""

    class Form(MappingForm):
        pass

    for sheet, headers in batch.headers.items():
        for column in columns.columns_of(batch.kind, sheet):
            choices = [("", _("— not in the file —"))] + [(h, h) for h in headers]
            field = SelectField(column.header + (" *" if column.required else ""),
                                choices=choices, default=batch.mapping.get(sheet, {}).get(column.field, ""),
                                validate_choice=False)
            setattr(Form, f"{sheet}.{column.field}", field)
    return Form(formdata=formdata) if formdata is not None else Form()


def _page(batch, form=None, status=200):
    running = batch.status in RUNNING
    done = progress.rows_done(batch.id) if running else None
    blocking = revert.blockers(batch) if batch.status == BatchStatus.COMMITTED else []
    return render_template(
        "imports/batch.html", batch=batch, form=form or mapping_form(batch),
        action_form=ActionForm(), running=running, rows_done=done, blockers=blocking,
        sheets=list(batch.headers), columns_of=columns.columns_of), status


@bp.get("/imports/<int:batch_id>")
@login_required
def batch(batch_id: int):
    return _page(_batch(batch_id))


@bp.get("/imports/<int:batch_id>/status")
@login_required
def status(batch_id: int):
    """The progress fragment the page polls; a finished job reloads the page."""
    found = _batch(batch_id)
    if found.status not in RUNNING:
        response = make_response("")
        response.headers["HX-Refresh"] = "true"
        return response
    return render_template("imports/_progress.html", batch=found,
                           rows_done=progress.rows_done(found.id))


@bp.post("/imports/<int:batch_id>/check")
@login_required
def check(batch_id: int):
    found = _batch(batch_id)
    form = mapping_form(found, formdata=None)
    if not form.validate_on_submit():
        return _page(found, form, 422)
    chosen: dict[str, dict[str, str]] = {}
    for sheet in found.headers:
        chosen[sheet] = {c.field: form[f"{sheet}.{c.field}"].data or ""
                         for c in columns.columns_of(found.kind, sheet)}
    try:
        with transaction():
            batches.request_check(found, chosen)
            batches.save_mapping(found, form.save_as.data)
            send_job(found)
    except DomainError as exc:
        for message in apply_to_form(form, exc):
            flash(str(message), "danger")
        return _page(_batch(batch_id), form, exc.status)
    return redirect(url_for("imports.batch", batch_id=batch_id))


@bp.post("/imports/<int:batch_id>/commit")
@login_required
def commit(batch_id: int):
    found = _batch(batch_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        with transaction():
            batches.request_commit(found)
            send_job(found)
    except DomainError as exc:
        flash(str(exc.message), "danger")
        return _page(_batch(batch_id), status=exc.status)
    return redirect(url_for("imports.batch", batch_id=batch_id))


@bp.post("/imports/<int:batch_id>/revert")
@login_required
def undo(batch_id: int):
    found = _batch(batch_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        with transaction():
            touched = revert.revert(found, actor_id=current_user.id)
    except DomainError as exc:
        flash(str(exc.message), "danger")
        return _page(_batch(batch_id), status=exc.status)
    flash(_("The import was reverted: %(count)d records removed or restored.", count=touched),
          "success")
    return redirect(url_for("imports.batch", batch_id=batch_id))


@bp.get("/imports/<int:batch_id>/failed.xlsx")
@login_required
def failed(batch_id: int):
    found = _batch(batch_id)
    if not found.errors:
        abort(404)
    out = workbooks.failed_rows(found.filename, found.content, found.kind, found.errors)
    stem = found.filename.rsplit(".", 1)[0]
    return send_file(out, mimetype=XLSX, as_attachment=True,
                     download_name=f"{stem}-错误行-{found.id}.xlsx")


@bp.get("/imports/templates/<kind>.xlsx")
@login_required
def template(kind: str):
    require(Action.IMPORT)
    if kind not in {k.value for k in ImportKind}:
        abort(404)
    lists, examples = queries.template_lists(kind, visible_parks(current_user))
    out = workbooks.template(kind, lists, examples)
    names = {"projects": "项目台账模板", "progress": "审批进度模板", "roster": "人员名册模板"}
    return send_file(out, mimetype=XLSX, as_attachment=True,
                     download_name=f"{names[kind]}.xlsx")
