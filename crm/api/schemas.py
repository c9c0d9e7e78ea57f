"""Marshmallow schemas of the API: what requests may carry and what responses promise."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from crm.projects.models import INDUSTRIES, ProjectStatus, Stage


class ErrorDetailSchema(Schema):
    code = fields.String(required=True, metadata={"example": "validation_error"})
    message = fields.String(required=True)
    field_errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                               required=True, data_key="fields")
    current_version = fields.Integer(metadata={"description": "409 on a stale version: the current one"})


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
    park = fields.Integer(validate=validate.Range(min=1))
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
    version = fields.Integer(required=True)


class ProjectPageSchema(PageSchema):
    items = fields.List(fields.Nested(ProjectSchema), required=True)
    total_investment = fields.Integer(required=True, metadata={"description": "万元, filtered set"})
