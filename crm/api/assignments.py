"""Who serves a project: the assignment rule, manual assignment, and the history."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from crm.agents import queries
from crm.agents.services import staffing as services
from crm.api.core import api_user
from crm.api.projects import require
from crm.api.schemas import AssignmentSchema, AssignSchema, AutoAssignResultSchema
from crm.auth.permissions import Action
from crm.auth.scope import get_project_or_404
from crm.transaction import transaction

bp = Blueprint("api_assignments", __name__, url_prefix="/api/v1/projects",
               description="Chief consultant, lead agent and helpers of a project.")


@bp.route("/<int:project_id>/assignments")
class Assignments(MethodView):
    @bp.response(200, AssignmentSchema(many=True))
    def get(self, project_id: int):
        """Every assignment of the project: current ones first, then the history."""
        project = get_project_or_404(api_user(), project_id)
        return queries.history(project.id)

    @bp.arguments(AssignSchema)
    @bp.response(201, AssignmentSchema)
    def post(self, values, project_id: int):
        """Make someone on the park's roster the chief consultant or lead agent (a
        replacement needs a handover note; past capacity needs `force`)."""
        user = api_user()
        project = get_project_or_404(user, project_id)
        require(Action.ASSIGN)
        with transaction():
            assignment = services.assign(
                project, values["role"], values["staff_id"], actor_id=user.id,
                reason=values["reason"], handover_note=values.get("handover_note"),
                force=values["force"])
        return assignment


@bp.route("/<int:project_id>/assignments/auto")
class AutoAssign(MethodView):
    @bp.response(200, AutoAssignResultSchema)
    def post(self, project_id: int):
        """Fill the missing chief consultant and lead agent by the park's rule."""
        user = api_user()
        project = get_project_or_404(user, project_id)
        require(Action.ASSIGN)
        with transaction():
            result = services.auto_assign(project, actor_id=user.id)
        return {"assigned": {role: staff.id for role, staff in result.assigned.items()},
                "unassigned": result.unassigned}
