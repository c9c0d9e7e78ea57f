"""Marshmallow schemas of the API: what requests may carry and what responses promise."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from crm.projects.models import INDUSTRIES, ProjectStatus, Stage

# Ids are 32-bit integers in every database we run on; larger numbers can name nothing.
MAX_ID = 2**31 - 1


def id_field(**kwargs) -> fields.Integer:
    """An id in a JSON body: a whole number (1.5 is refused, never truncated) in range."""
    kwargs.setdefault("strict", True)
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


def whole(**kwargs) -> fields.Integer:
    """A whole number in a JSON body: 1.5 or "12" are refused, never truncated."""
    return fields.Integer(strict=True, **kwargs)


class ErrorDetailSchema(Schema):
    code = fields.String(required=True, metadata={"example": "validation_error"})
    message = fields.String(required=True)
    field_errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                               required=True, data_key="fields")
    current_version = fields.Integer(metadata={"description": "409 on a stale version: the current one"})
    document_status = fields.String(
        metadata={"description": "409 on a download not ready yet: the document's status"})


class ErrorSchema(Schema):
    error = fields.Nested(ErrorDetailSchema, required=True)


class PageArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    page_size = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))


class PageSchema(Schema):
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    total = fields.Integer(required=True)


class DistrictSchema(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True, metadata={"description": "6-digit division code"})
    name = fields.String(required=True)


class ParkSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    short_name = fields.String(required=True)
    level = fields.String(required=True)
    district_id = fields.Integer(required=True)


class ApprovalItemSchema(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    department = fields.String(required=True)
    stage = fields.String(required=True)
    statutory_limit = fields.Integer(allow_none=True)
    statutory_unit = fields.String(required=True)
    committed_limit = fields.Integer(required=True)
    committed_unit = fields.String(required=True)
    applicability = fields.String(required=True)
    required = fields.Boolean(required=True)
    district_id = fields.Integer(allow_none=True)


class StaffSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["consultant", "agent"]))
    phone = fields.String(allow_none=True)
    capacity = fields.Integer(required=True)
    on_leave_until = fields.Date(allow_none=True)
    active = fields.Boolean(required=True)
    park_ids = fields.Method("get_park_ids", dump_only=True)

    def get_park_ids(self, staff) -> list[int]:
        return [p.id for p in staff.parks]


class ProjectListArgsSchema(PageArgsSchema):
    park = id_field(strict=False)  # query strings carry text
    stage = fields.String(validate=validate.OneOf([s.value for s in Stage]))
    status = fields.String(validate=validate.OneOf([s.value for s in ProjectStatus]))
    industry = fields.String(validate=validate.OneOf(INDUSTRIES))
    q = fields.String(validate=validate.Length(max=100))


class ProjectSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    code = fields.String(allow_none=True)
    investor_name = fields.String(required=True)
    investor_credit_code = fields.String(allow_none=True)
    investment = fields.Integer(required=True, metadata={"description": "万元 (10000 = 1亿元)"})
    industry = fields.String(required=True)
    park_id = fields.Integer(required=True)
    stage = fields.String(required=True)
    status = fields.String(required=True)
    approval_mode = fields.String(required=True)
    eia_category = fields.String(required=True)
    description = fields.String(allow_none=True)
    contact_name = fields.String(allow_none=True)
    contact_phone = fields.String(allow_none=True)
    signed_on = fields.Date(allow_none=True)
    expected_start_on = fields.Date(allow_none=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    version = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_ID))


class ProjectPageSchema(PageSchema):
    items = fields.List(fields.Nested(ProjectSchema), required=True)
    total_investment = fields.Integer(required=True, metadata={"description": "万元, filtered set"})


class ProjectWriteSchema(Schema):
    """Fields of a project a client may set.  Types are checked here; the domain rules
    (amount, code formats and check characters, dates in order...) by the same rules as the
    web form, reported per field with 422."""

    name = fields.String(validate=validate.Length(min=1, max=200))
    investor_name = fields.String(validate=validate.Length(min=1, max=200))
    investor_credit_code = fields.String(allow_none=True, validate=validate.Length(max=18))
    code = fields.String(allow_none=True, validate=validate.Length(max=24),
                         metadata={"description": "投资项目统一代码, e.g. 2411-320613-89-01-123456"})
    accept_code_warning = fields.Boolean(
        load_default=False,
        metadata={"description": "Save a code whose check digit does not match, as issued"})
    investment = whole(validate=validate.Range(min=10000, max=2_000_000_000),
                       metadata={"description": "万元; at least 10000 (1亿元)"})
    industry = fields.String(validate=validate.OneOf(INDUSTRIES))
    approval_mode = fields.String(validate=validate.OneOf(["filing", "verification"]))
    eia_category = fields.String(validate=validate.OneOf(["report_book", "report_form", "registration"]))
    description = fields.String(allow_none=True, validate=validate.Length(max=2000))
    contact_name = fields.String(allow_none=True, validate=validate.Length(max=50))
    contact_phone = fields.String(allow_none=True, validate=validate.Length(max=30))
    signed_on = fields.Date(allow_none=True)
    expected_start_on = fields.Date(allow_none=True)


class ProjectCreateSchema(ProjectWriteSchema):
    park_id = id_field(required=True)
    stage = fields.String(load_default="negotiating", validate=validate.OneOf([s.value for s in Stage]))
    # Required when creating (optional in a PATCH).
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    investor_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    investment = whole(required=True, validate=validate.Range(min=10000, max=2_000_000_000),
                       metadata={"description": "万元; at least 10000 (1亿元)"})
    industry = fields.String(required=True, validate=validate.OneOf(INDUSTRIES))
    approval_mode = fields.String(load_default="filing", validate=validate.OneOf(["filing", "verification"]))
    eia_category = fields.String(load_default="report_form",
                                 validate=validate.OneOf(["report_book", "report_form", "registration"]))


class ProjectPatchSchema(ProjectWriteSchema):
    version = whole(required=True, validate=validate.Range(min=1, max=MAX_ID),
                             metadata={"description": "The version you read"})
    status = fields.String(validate=validate.OneOf([s.value for s in ProjectStatus]))


class StageChangeSchema(Schema):
    stage = fields.String(required=True, validate=validate.OneOf([s.value for s in Stage]))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    version = whole(required=True, validate=validate.Range(min=1, max=MAX_ID))


# -- milestones -----------------------------------------------------------------------------

class PauseOutSchema(Schema):
    paused_on = fields.Date(required=True)
    resumed_on = fields.Date(allow_none=True)
    reason_code = fields.String(required=True)
    document_ref = fields.String(allow_none=True)
    note = fields.String(allow_none=True)


class MilestoneSchema(Schema):
    id = fields.Integer(required=True)
    project_id = fields.Integer(required=True)
    approval_item_id = fields.Integer(allow_none=True)
    name = fields.String(required=True)
    department = fields.String(allow_none=True)
    stage = fields.String(required=True)
    sequence = fields.Integer(required=True)
    required = fields.Boolean(required=True)
    limit_value = fields.Integer(required=True)
    limit_unit = fields.String(required=True)
    statutory_value = fields.Integer(allow_none=True)
    statutory_unit = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "pending, running, paused, done, waived"})
    state = fields.String(required=True, metadata={
        "description": "pending, on_track, due_soon, overdue, paused, met, missed, waived"})
    outcome = fields.String(allow_none=True)
    accepted_on = fields.Date(allow_none=True)
    due_on = fields.Date(allow_none=True)
    due_provisional = fields.Boolean(required=True, metadata={
        "description": "The due date depends on a year whose official schedule is not loaded yet"})
    remaining_workdays = fields.Integer(allow_none=True)
    completed_on = fields.Date(allow_none=True)
    workdays_used = fields.Integer(allow_none=True)
    approval_doc_no = fields.String(allow_none=True)
    issuing_department = fields.String(allow_none=True)
    waive_reason = fields.String(allow_none=True)
    parallel_reason = fields.String(allow_none=True, metadata={
        "description": "Accepted before what it depends on was issued (容缺受理): why"})
    extension_workdays = fields.Integer(allow_none=True, metadata={
        "description": "A statutory extension (once), in working days"})
    extension_doc_no = fields.String(allow_none=True)
    extension_approved_on = fields.Date(allow_none=True)
    original_due_on = fields.Date(allow_none=True, metadata={
        "description": "The due date before the extension"})
    forecast_on = fields.Date(allow_none=True, metadata={
        "description": "Open milestones: the expected issue date (see /plan)"})
    version = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_ID))
    pauses = fields.List(fields.Nested(PauseOutSchema), required=True)


class VersionSchema(Schema):
    version = whole(required=True, validate=validate.Range(min=1, max=MAX_ID),
                             metadata={"description": "The version you read"})


class StartSchema(VersionSchema):
    accepted_on = fields.Date(required=True)
    parallel_reason = fields.String(load_default=None, allow_none=True, metadata={
        "description": "Required when a milestone it depends on is not issued yet (容缺受理)"})


class ExtendSchema(VersionSchema):
    extension_workdays = whole(required=True, validate=validate.Range(min=1, max=MAX_ID))
    extension_doc_no = fields.String(required=True)
    extension_approved_on = fields.Date(required=True)


class PauseSchema(VersionSchema):
    paused_on = fields.Date(required=True)
    reason_code = fields.String(required=True, validate=validate.OneOf(
        ["supplement", "hearing", "expert_review", "testing", "enterprise", "other"]))
    document_ref = fields.String(allow_none=True, validate=validate.Length(max=100))
    note = fields.String(allow_none=True, validate=validate.Length(max=2000))


class ResumeSchema(VersionSchema):
    resumed_on = fields.Date(required=True)


class CompleteSchema(VersionSchema):
    completed_on = fields.Date(required=True)
    approval_doc_no = fields.String(allow_none=True, validate=validate.Length(max=100))
    issuing_department = fields.String(allow_none=True, validate=validate.Length(max=100))


class ReasonSchema(VersionSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


# -- progress logs --------------------------------------------------------------------------

class LogSchema(Schema):
    id = fields.Integer(required=True)
    project_id = fields.Integer(required=True)
    milestone_id = fields.Integer(allow_none=True)
    author_id = fields.Integer(allow_none=True)
    kind = fields.String(required=True)
    happened_on = fields.Date(required=True)
    hours = fields.Float(allow_none=True)
    text = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    resolved_at = fields.DateTime(allow_none=True)
    resolution_note = fields.String(allow_none=True)
    resolved_by_log_id = fields.Integer(allow_none=True)
    open_blocker = fields.Boolean(attribute="is_open_blocker", dump_only=True)


class LogCreateSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(
        ["visit", "call", "materials", "coordination", "blocker", "resolution"]))
    happened_on = fields.Date(required=True)
    text = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    hours = fields.Float(allow_none=True, validate=validate.Range(min=0, max=24))
    milestone_id = id_field(allow_none=True)
    resolves = id_field(allow_none=True, metadata={
        "description": "For a resolution: the id of the open blocker it resolves"})


class LogPageArgsSchema(PageArgsSchema):
    pass


class LogPageSchema(PageSchema):
    items = fields.List(fields.Nested(LogSchema), required=True)


class ResolveSchema(Schema):
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000))


# -- assignments ----------------------------------------------------------------------------

class AssignmentSchema(Schema):
    id = fields.Integer(required=True)
    project_id = fields.Integer(required=True)
    staff_id = fields.Integer(required=True)
    staff_name = fields.String(attribute="staff.name", dump_only=True)
    role = fields.String(required=True)
    started_at = fields.DateTime(required=True)
    ended_at = fields.DateTime(allow_none=True)
    assigned_by_id = fields.Integer(allow_none=True)
    automatic = fields.Boolean(required=True)
    forced = fields.Boolean(required=True)
    reason = fields.String(allow_none=True)
    handover_note = fields.String(allow_none=True)
    end_reason = fields.String(allow_none=True)


class AssignSchema(Schema):
    role = fields.String(required=True, validate=validate.OneOf(["consultant", "lead_agent"]))
    staff_id = id_field(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    handover_note = fields.String(allow_none=True, validate=validate.Length(max=2000))
    force = fields.Boolean(load_default=False, metadata={
        "description": "Assign past capacity or during leave (recorded as forced)"})


class AutoAssignResultSchema(Schema):
    assigned = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                           metadata={"description": "role -> staff id chosen by the rule"})
    unassigned = fields.List(fields.String(), required=True,
                             metadata={"description": "roles nobody eligible could take"})


# -- documents ------------------------------------------------------------------------------

class DocumentSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"description": "service_order or summary"})
    status = fields.String(required=True, metadata={"description": "queued, running, done, failed"})
    project_id = fields.Integer(allow_none=True)
    park_id = fields.Integer(allow_none=True, metadata={"description": "summary of one park; null: the city"})
    period_start = fields.Date(allow_none=True)
    period_end = fields.Date(allow_none=True)
    order_number = fields.String(allow_none=True)
    doc_version = fields.Integer(allow_none=True)
    requested_at = fields.DateTime(required=True)
    finished_at = fields.DateTime(allow_none=True)
    error = fields.String(allow_none=True)
    filename = fields.String(allow_none=True)
    size = fields.Integer(allow_none=True)
    sha256 = fields.String(allow_none=True)
    status_url = fields.Method("get_status_url", dump_only=True)
    download_url = fields.Method("get_download_url", dump_only=True, allow_none=True)

    def get_status_url(self, doc) -> str:
        return f"/api/v1/documents/{doc.id}"

    def get_download_url(self, doc) -> str | None:
        return f"/api/v1/documents/{doc.id}/download" if doc.status == "done" else None


class SummaryRequestSchema(Schema):
    scope = fields.String(required=True, validate=validate.Length(min=1, max=20), metadata={
        "description": '"city", or the id of a park in your scope'})
    start = fields.Date(required=True)
    end = fields.Date(required=True)
