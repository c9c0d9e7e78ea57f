"""Reference data: districts, parks, approval items, staff (read-only through the API)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from crm.agents.queries import staff_in_scope
from crm.api.core import api_user
from crm.api.schemas import ApprovalItemSchema, DistrictSchema, ParkSchema, StaffSchema
from crm.auth.scope import visible_parks
from crm.milestones.queries import active_catalogue
from crm.parks.queries import districts

bp = Blueprint("api_reference", __name__, url_prefix="/api/v1",
               description="Reference data: districts, parks, approval items, staff.")


@bp.route("/districts")
class Districts(MethodView):
    @bp.response(200, DistrictSchema(many=True))
    def get(self):
        """Districts (county-level divisions) with their division codes."""
        return districts()


@bp.route("/parks")
class Parks(MethodView):
    @bp.response(200, ParkSchema(many=True))
    def get(self):
        """The parks the token's user may see."""
        return visible_parks(api_user())


@bp.route("/approval-items")
class ApprovalItems(MethodView):
    @bp.response(200, ApprovalItemSchema(many=True))
    def get(self):
        """The approval-item catalogue (city-wide rows and per-district variants)."""
        return active_catalogue()


@bp.route("/staff")
class StaffList(MethodView):
    @bp.response(200, StaffSchema(many=True))
    def get(self):
        """Staff serving the parks the token's user may see."""
        return staff_in_scope(api_user())
