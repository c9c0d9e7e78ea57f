"""Service orders (a panel on the project page) and summaries: request, status, download.

Statuses update in place with htmx polling until the download link appears; without
JavaScript the pages reload themselves (status page) or offer a refresh link.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, undefer

from crm.audit import services as audit
from crm.auth.permissions import Action, can, require
from crm.auth.scope import get_park_or_404, get_project_or_404
from crm.documents import queries, services
from crm.documents.forms import summary_form
from crm.documents.models import GeneratedDocument as Doc
from crm.db import parse_id
from crm.extensions import db
from crm.portal.queries import confirmations
from crm.projects.models import Project
from crm.transaction import transaction

bp = Blueprint("documents", __name__, url_prefix="/documents")

SUMMARY_LIST_SIZE = 20


def _is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


# -- the project page panel --------------------------------------------------------------------

def service_orders_panel(project, user, message: str | None = None) -> dict:
    """The project page's panel (crm/web.py lists the panels): its service orders."""
    documents = queries.project_service_orders(project.id)
    return {"project": project, "documents": documents,
            "confirmations": confirmations([d.id for d in documents]),
            "can_request": can(user, Action.DOCUMENT_REQUEST), "message": message}


def _outcome_message(requested: services.Requested) -> str:
    doc = requested.document
    if requested.outcome == services.Outcome.UNCHANGED:
        return _("The plan has not changed since version %(n)d: download it below.",
                 n=doc.doc_version)
    if requested.outcome == services.Outcome.PENDING:
        return _("This document is already being generated.")
    if doc.kind == services.SERVICE_ORDER:
        return _("Version %(n)d of the service order is being generated.", n=doc.doc_version)
    return _("The summary is being generated.")


@bp.post("/service-orders/<int:project_id>")
@login_required
def request_service_order(project_id: int):
    project = get_project_or_404(current_user, project_id, joinedload(Project.park))
    require(Action.DOCUMENT_REQUEST)
    with transaction():
        requested = services.request_service_order(project, current_user)
    message = _outcome_message(requested)
    if _is_htmx():
        return render_template("documents/_service_orders.html",
                               ctx=service_orders_panel(project, current_user, message))
    flash(message, "info")
    return redirect(url_for("projects.detail", project_id=project.id) + "#service-orders")


# -- summaries ---------------------------------------------------------------------------------

@bp.app_context_processor
def _summary_form_global():
    """``summary_form()`` for documents/_summary_form.html, include-able on any page."""
    def make(park_id=None):
        if not current_user.is_authenticated or not can(current_user, Action.SUMMARY_REQUEST):
            return None
        return summary_form(current_user, park_id)
    return {"summary_form": make}


def _recent_summaries():
    return queries.recent_summaries(current_user, SUMMARY_LIST_SIZE)


@bp.get("/summaries")
@login_required
def summaries():
    require(Action.SUMMARY_REQUEST)
    park_id = parse_id(request.args.get("park"))  # from a park's dashboard
    return render_template("documents/summaries.html", form=summary_form(current_user, park_id),
                           documents=_recent_summaries())


@bp.post("/summaries")
@login_required
def request_summary():
    require(Action.SUMMARY_REQUEST)
    form = summary_form(current_user, formdata=request.form)
    if not form.validate():  # the form again, with the messages next to the fields
        return render_template("documents/summaries.html", form=form,
                               documents=_recent_summaries())
    park_id = form.park_id
    if park_id is not None:
        get_park_or_404(current_user, park_id)
    with transaction():
        requested = services.request_summary(park_id, form.start.data, form.end.data,
                                             current_user)
    flash(_outcome_message(requested), "info")
    return redirect(url_for("documents.detail", document_id=requested.document.id))


# -- one document ------------------------------------------------------------------------------

@bp.get("/<int:document_id>")
@login_required
def detail(document_id: int):
    doc = queries.get_document_or_404(current_user, document_id, joinedload(Doc.project),
                                      joinedload(Doc.park), joinedload(Doc.requested_by))
    return render_template("documents/detail.html", doc=doc)


@bp.get("/<int:document_id>/status")
@login_required
def status(document_id: int):
    """The status fragment htmx polls; it stops polling once the document is done or failed."""
    doc = queries.get_document_or_404(current_user, document_id)
    return render_template("documents/_status.html", doc=doc)


@bp.get("/<int:document_id>/download")
@login_required
def download(document_id: int):
    doc = queries.get_document_or_404(current_user, document_id, undefer(Doc.content))
    require(Action.DOCUMENT_DOWNLOAD)
    if doc.status != services.DONE or doc.content is None:
        abort(404)
    with transaction():
        audit.record(db.session, "document.download", doc)
    response = Response(doc.content, mimetype=queries.mimetype(doc))
    response.headers["Content-Disposition"] = queries.content_disposition(
        doc.filename or queries.ascii_filename(doc), queries.ascii_filename(doc))
    response.headers["Content-Length"] = str(len(doc.content))
    response.headers["Cache-Control"] = "private, max-age=0, must-revalidate"
    response.set_etag(doc.sha256)
    return response.make_conditional(request)
