"""Files on milestones, log entries and other owners: the owner's file page with its upload
form, upload, download (audited), thumbnail, removal.  The project page lists each record's
files through ``attachments_for`` (one statement for the whole page)."""

from __future__ import annotations

from flask import (
    Blueprint, Response, abort, flash, g, redirect, render_template, request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from crm.attachments import queries, services
from crm.attachments.filetypes import ACCEPT, KINDS
from crm.attachments.forms import PURPOSE_LABELS, RemoveForm, upload_form
from crm.attachments.owners import owner_type as owner_type_named
from crm.attachments.owners import resolve
from crm.auth.permissions import Action, can, require
from crm.documents.queries import content_disposition
from crm.errors import DomainError, apply_to_form
from crm.transaction import transaction

bp = Blueprint("attachments", __name__, url_prefix="/attachments")

# The multipart envelope and the form's other fields, on top of the file itself.
FORM_OVERHEAD = 64 * 1024


def request_limit() -> int:
    """The body limit of an upload request: the largest file and its form."""
    return services.max_bytes() + FORM_OVERHEAD


@bp.record_once
def _limits(state):
    limits = state.app.extensions.setdefault("upload_limits", {})
    limits["attachments.upload"] = request_limit
    for endpoint in ("api_attachments.MilestoneAttachments", "api_attachments.LogAttachments"):
        limits[endpoint] = request_limit


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error):
    return render_template("errors/error.html", status=413, title=_("Too large"),
                           message=services.too_large_message()), 413


# -- on the project page -------------------------------------------------------------------------

def attachments_for(project_id: int, owner_type: str, owner_id: int) -> list:
    """The files of one record of the project (the first call of a request loads the whole
    project's, in one statement)."""
    loaded = g.setdefault("project_attachments", {})
    if project_id not in loaded:
        loaded[project_id] = queries.project_attachments(project_id)
    return loaded[project_id].get((owner_type, owner_id), [])


def purposes_of(owner_type: str) -> list[tuple[str, str]]:
    kind = owner_type_named(owner_type)
    return [(p, str(PURPOSE_LABELS[p])) for p in (kind.purposes if kind else ())]


@bp.app_context_processor
def _globals():
    return {"attachments_for": attachments_for, "attachment_purposes": purposes_of,
            "attachment_accept": ACCEPT, "attachment_size": services.size_text,
            "purpose_label": lambda p: PURPOSE_LABELS.get(p, p),
            "may_remove_attachment": lambda a: current_user.is_authenticated
            and can(current_user, Action.ATTACHMENT_DELETE) and services.may_delete(a, current_user)}


# -- an owner's files ----------------------------------------------------------------------------

def _owner_page(owner, form, status=200):
    kind = owner_type_named(owner.type)
    return render_template(
        "attachments/owner.html", owner=owner, kind=kind, form=form,
        attachments=queries.owner_attachments(owner.type, owner.id),
        may_upload=can(current_user, Action.ATTACHMENT_UPLOAD),
        max_size=services.size_text(services.max_bytes())), status


@bp.get("/<owner_type>/<int:owner_id>")
@login_required
def owner(owner_type: str, owner_id: int):
    found = queries.get_owner_or_404(current_user, owner_type, owner_id)
    return _owner_page(found, upload_form(owner_type_named(owner_type).purposes, formdata=None))


@bp.post("/<owner_type>/<int:owner_id>")
@login_required
def upload(owner_type: str, owner_id: int):
    found = queries.get_owner_or_404(current_user, owner_type, owner_id)
    require(Action.ATTACHMENT_UPLOAD)
    form = upload_form(owner_type_named(owner_type).purposes)
    if form.validate_on_submit():
        file = form.file.data
        try:
            with transaction():
                attachment = services.attach(
                    found, data=file.stream.read(services.max_bytes() + 1),
                    filename=file.filename, purpose=form.purpose.data,
                    actor_id=current_user.id)
        except services.TooLarge:
            raise
        except DomainError as error:
            for message in apply_to_form(form, error):
                flash(str(message), "danger")
        else:
            flash(_("%(name)s attached.", name=attachment.filename), "success")
            return redirect(found.url)
    return _owner_page(found, form, 422)


# -- one file ------------------------------------------------------------------------------------

def _ascii_name(attachment) -> str:
    return f"attachment-{attachment.id}.{KINDS[attachment.kind].extensions[0]}"


def file_response(attachment, data: bytes, *, download: bool = True) -> Response:
    response = Response(data, mimetype=attachment.content_type if download else "image/jpeg")
    if download:
        # ``attachment`` with an ASCII fallback and the real (Chinese) name (RFC 5987/6266)
        response.headers["Content-Disposition"] = content_disposition(
            attachment.filename, _ascii_name(attachment))
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Nothing in a file may run as part of this site, whatever a browser makes of it.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=0, must-revalidate"
    response.set_etag(attachment.sha256 + ("" if download else "-thumb"))
    return response


@bp.get("/<int:attachment_id>/download")
@login_required
def download(attachment_id: int):
    attachment = queries.get_attachment_or_404(current_user, attachment_id)
    require(Action.ATTACHMENT_DOWNLOAD)
    data = queries.content(attachment)
    with transaction():
        services.record_download(attachment)
    return file_response(attachment, data).make_conditional(request)


@bp.get("/<int:attachment_id>/thumbnail")
@login_required
def thumbnail(attachment_id: int):
    attachment = queries.get_attachment_or_404(current_user, attachment_id)
    require(Action.ATTACHMENT_DOWNLOAD)
    return file_response(attachment, queries.content(attachment, thumbnail=True),
                         download=False).make_conditional(request)


@bp.post("/<int:attachment_id>/delete")
@login_required
def delete(attachment_id: int):
    attachment = queries.get_attachment_or_404(current_user, attachment_id)
    require(Action.ATTACHMENT_DELETE)
    form = RemoveForm()
    if not form.validate_on_submit():
        abort(400)
    found = resolve(attachment.owner_type, attachment.owner_id)
    name = attachment.filename
    with transaction():
        services.remove(attachment, current_user)
    flash(_("%(name)s removed.", name=name), "success")
    return redirect(found.url if found else url_for("main.home"))

