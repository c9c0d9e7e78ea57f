"""Files on milestones and progress-log entries: list, upload (multipart), download (audited),
remove.  The same checks, scope and roles as the project page.

Other owner types (supervision's problems) reuse ``list_files`` and ``upload_file`` from their
own routes with their owner type's name."""

from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from crm.api.core import api_user
from crm.api.errors import abort
from crm.api.projects import require
from crm.attachments import queries, services
from crm.attachments.views import file_response
from crm.auth.permissions import Action
from crm.transaction import transaction

bp = Blueprint("api_attachments", __name__, url_prefix="/api/v1",
               description="Files attached to milestones (批文, 补正通知) and progress-log "
                           "entries (走访照片).")

UPLOAD_DOC = ("multipart/form-data: `file` (PDF, JPEG, PNG, .docx, .xlsx, .pptx, .doc, .xls; "
              "checked by content; at most ATTACHMENT_MAX_BYTES, default 20 MB, else 413), "
              "`purpose` (milestones: approval_document, correction_notice, other; log "
              "entries: photo, other; default the first). 201 with the file.")


class AttachmentSchema(Schema):
    id = fields.Integer(required=True)
    owner_type = fields.String(required=True, metadata={"description": "milestone, log, problem"})
    owner_id = fields.Integer(required=True)
    project_id = fields.Integer(allow_none=True)
    purpose = fields.String(required=True, metadata={
        "description": "approval_document, correction_notice, photo, other"})
    filename = fields.String(required=True)
    kind = fields.String(required=True, metadata={
        "description": "pdf, jpeg, png, docx, xlsx, pptx, doc, xls"})
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    width = fields.Integer(allow_none=True)
    height = fields.Integer(allow_none=True)
    uploaded_by_id = fields.Integer(allow_none=True)
    uploaded_at = fields.DateTime(required=True)
    download_url = fields.Method("get_download_url", dump_only=True)

    def get_download_url(self, attachment) -> str:
        return f"/api/v1/attachments/{attachment.id}/download"


class AttachmentListSchema(Schema):
    items = fields.List(fields.Nested(AttachmentSchema), required=True)


def _owner(type_name: str, owner_id: int, project_id: int | None = None):
    """The owner in the caller's scope (and of the URL's project), else 404."""
    owner = queries.get_owner_or_404(api_user(), type_name, owner_id)
    if project_id is not None and owner.project_id != project_id:
        abort(404, "No such record in this project.")
    return owner


def list_files(type_name: str, owner_id: int, project_id: int | None = None) -> dict:
    owner = _owner(type_name, owner_id, project_id)
    return {"items": queries.owner_attachments(owner.type, owner.id)}


def upload_file(type_name: str, owner_id: int, project_id: int | None = None):
    owner = _owner(type_name, owner_id, project_id)
    require(Action.ATTACHMENT_UPLOAD)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        abort(422, "Send the file as the multipart field 'file'.", {"file": ["Choose the file."]})
    with transaction():
        attachment = services.attach(
            owner, data=upload.stream.read(services.max_bytes() + 1), filename=upload.filename,
            purpose=request.form.get("purpose") or None, actor_id=api_user().id)
    return attachment, 201, {"Location": f"/api/v1/attachments/{attachment.id}"}


@bp.route("/projects/<int:project_id>/milestones/<int:milestone_id>/attachments")
class MilestoneAttachments(MethodView):
    @bp.response(200, AttachmentListSchema)
    def get(self, project_id: int, milestone_id: int):
        """The files of a milestone, oldest first."""
        return list_files("milestone", milestone_id, project_id)

    @bp.doc(description=UPLOAD_DOC)
    @bp.response(201, AttachmentSchema)
    def post(self, project_id: int, milestone_id: int):
        """Attach a file to a milestone (the approval document, a correction notice)."""
        return upload_file("milestone", milestone_id, project_id)


@bp.route("/projects/<int:project_id>/logs/<int:log_id>/attachments")
class LogAttachments(MethodView):
    @bp.response(200, AttachmentListSchema)
    def get(self, project_id: int, log_id: int):
        """The files of a progress-log entry, oldest first."""
        return list_files("log", log_id, project_id)

    @bp.doc(description=UPLOAD_DOC)
    @bp.response(201, AttachmentSchema)
    def post(self, project_id: int, log_id: int):
        """Attach a file to a progress-log entry (a visit photo)."""
        return upload_file("log", log_id, project_id)


@bp.route("/attachments/<int:attachment_id>")
class AttachmentItem(MethodView):
    @bp.response(200, AttachmentSchema)
    def get(self, attachment_id: int):
        """One file's description."""
        return queries.get_attachment_or_404(api_user(), attachment_id)

    @bp.response(204)
    def delete(self, attachment_id: int):
        """Remove a file (staff: the files they attached; park managers and admins: any)."""
        user = api_user()
        attachment = queries.get_attachment_or_404(user, attachment_id)
        require(Action.ATTACHMENT_DELETE)
        with transaction():
            services.remove(attachment, user)
        return None


@bp.route("/attachments/<int:attachment_id>/download")
class AttachmentDownload(MethodView):
    @bp.response(200, {"type": "string", "format": "binary"},
                  content_type="application/octet-stream")
    def get(self, attachment_id: int):
        """The file itself, as an attachment (audited)."""
        attachment = queries.get_attachment_or_404(api_user(), attachment_id)
        require(Action.ATTACHMENT_DOWNLOAD)
        data = queries.content(attachment)
        with transaction():
            services.record_download(attachment)
        return file_response(attachment, data)
