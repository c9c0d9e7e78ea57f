"""Reference data: districts, parks, approval items, staff (read-only through the API)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from crm.agents.models import Staff, staff_parks
from crm.api.core import api_user
from crm.api.schemas import ApprovalItemSchema, DistrictSchema, ParkSchema, StaffSchema
from crm.auth.scope import park_condition
from crm.extensions import db
from crm.milestones.models import ApprovalItem
from crm.parks.models import District, Park

bp = Blueprint("api_reference", __name__, url_prefix="/api/v1",
               description="Reference data: districts, parks, approval items, staff.")


@bp.route("/districts")
class Districts(MethodView):
    @bp.response(200, DistrictSchema(many=True))
    def get(self):
        """Districts (county-level divisions) with their division codes."""
        return db.session.scalars(select(District).order_by(District.code)).all()


@bp.route("/parks")
class Parks(MethodView):
    @bp.response(200, ParkSchema(many=True))
    def get(self):
        """The parks the token's user may see."""
        return db.session.scalars(
            select(Park).where(park_condition(api_user())).order_by(Park.id)).all()


@bp.route("/approval-items")
class ApprovalItems(MethodView):
    @bp.response(200, ApprovalItemSchema(many=True))
    def get(self):
        """The approval-item catalogue (city-wide rows and per-district variants)."""
        return db.session.scalars(
            select(ApprovalItem).where(ApprovalItem.active.is_(True))
            .order_by(ApprovalItem.sort_order, ApprovalItem.id)).all()


@bp.route("/staff")
class StaffList(MethodView):
    @bp.response(200, StaffSchema(many=True))
    def get(self):
        """Staff serving the parks the token's user may see."""
        in_scope = select(staff_parks.c.staff_id).where(park_condition(api_user(), staff_parks.c.park_id))
        return db.session.scalars(
            select(Staff).where(Staff.id.in_(in_scope)).options(selectinload(Staff.parks))
            .order_by(Staff.id)).all()
