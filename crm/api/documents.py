"""Service orders and summaries: request (202 with a status URL), status, download."""

from __future__ import annotations

from flask import Response, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.orm import joinedload, undefer

from crm.api.core import api_user
from crm.api.errors import abort
from crm.api.forms import formdata, validate_or_422
from crm.api.projects import require
from crm.api.schemas import DocumentSchema, SummaryRequestSchema
from crm.audit import services as audit
from crm.auth.permissions import Action
from crm.auth.scope import get_park_or_404, get_project_or_404
from crm.documents import queries, services
from crm.documents.forms import summary_form
from crm.documents.models import GeneratedDocument
from crm.extensions import db
from crm.projects.models import Project
from crm.transaction import transaction

bp = Blueprint("api_documents", __name__, url_prefix="/api/v1",
               description="Service orders (服务单) and summaries (汇总报告) as PDFs, made by workers.")


def _accepted(request_document):
    """Make the request (one unit of work; the document goes to the queue once committed)."""
    with transaction():
        requested = request_document()
    doc = requested.document
    return doc, 202, {"Location": url_for("api_documents.Document", document_id=doc.id)}


@bp.route("/projects/<int:project_id>/service-orders")
class ServiceOrders(MethodView):
    @bp.response(202, DocumentSchema)
    def post(self, project_id: int):
        """Request the project's service order: the pending one if one is being made, the
        last version if the plan has not changed, otherwise a new version."""
        project = get_project_or_404(api_user(), project_id, joinedload(Project.park))
        require(Action.DOCUMENT_REQUEST)
        return _accepted(lambda: services.request_service_order(project, api_user()))


@bp.route("/summaries")
class Summaries(MethodView):
    @bp.arguments(SummaryRequestSchema)
    @bp.response(202, DocumentSchema)
    def post(self, values):
        """Request a summary of the city (leaders, admins) or of a park in your scope."""
        user = api_user()
        require(Action.SUMMARY_REQUEST)
        form = summary_form(user, formdata=formdata(values), meta={"csrf": False})
        validate_or_422(form)
        park_id = form.park_id
        if park_id is not None:
            get_park_or_404(user, park_id)
        return _accepted(lambda: services.request_summary(park_id, form.start.data, form.end.data,
                                                          user))


@bp.route("/documents/<int:document_id>")
class Document(MethodView):
    @bp.response(200, DocumentSchema)
    def get(self, document_id: int):
        """A document's status; `download_url` appears once it is done."""
        return queries.get_document_or_404(api_user(), document_id)


@bp.route("/documents/<int:document_id>/download")
class Download(MethodView):
    @bp.response(200, {"type": "string", "format": "binary"}, content_type="application/pdf")
    def get(self, document_id: int):
        """The PDF (409 while it is not done yet)."""
        doc = queries.get_document_or_404(api_user(), document_id, undefer(GeneratedDocument.content))
        require(Action.DOCUMENT_DOWNLOAD)
        if doc.status != services.DONE or doc.content is None:
            abort(409, "The document is not ready yet; poll its status URL.", code="not_ready",
                  document_status=doc.status)
        with transaction():
            audit.record(db.session, "document.download", doc)
        response = Response(doc.content, mimetype="application/pdf")
        response.headers["Content-Disposition"] = queries.content_disposition(
            doc.filename or queries.ascii_filename(doc), queries.ascii_filename(doc))
        response.set_etag(doc.sha256)
        return response
