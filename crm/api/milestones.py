"""A project's milestones and their lifecycle actions (same rules as the timeline)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from crm.api.core import api_user
from crm.api.errors import abort
from crm.api.projects import require
from crm.api.schemas import (
    CompleteSchema, ExtendSchema, MilestoneSchema, PauseSchema, ReasonSchema, ResumeSchema,
    StartSchema,
)
from crm.auth.permissions import Action
from crm.auth.scope import get_project_or_404
from crm.errors import Conflict
from crm.extensions import db
from crm.i18n import today
from crm.milestones import queries
from crm.milestones.models import Milestone
from crm.milestones.queries import sla_state, warning_workdays, work_calendar
from crm.milestones.services import lifecycle, plan_changes
from crm.transaction import transaction

bp = Blueprint("api_milestones", __name__, url_prefix="/api/v1/projects",
               description="Approval milestones of a project: deadlines in working days.")


def _dump(milestones):
    """Milestones with their SLA state as of today."""
    day, calendar = today(), work_calendar()
    threshold = warning_workdays()
    for m in milestones:
        m.state = sla_state(m, day, calendar, threshold)
    return milestones


def _milestone(project_id: int, milestone_id: int) -> Milestone:
    project = get_project_or_404(api_user(), project_id)
    milestone = queries.project_milestone(project.id, milestone_id)
    if milestone is None:
        abort(404, "No such milestone in this project.")
    return milestone


def _act(project_id: int, milestone_id: int, action: Action, change) -> Milestone:
    milestone = _milestone(project_id, milestone_id)
    require(action)
    try:
        with transaction():
            change(milestone)
    except Conflict as exc:
        current = db.session.get(Milestone, milestone_id)
        abort(409, str(exc), current_version=current.version if current else None)
    return _dump([_milestone(project_id, milestone_id)])[0]


@bp.route("/<int:project_id>/milestones")
class Milestones(MethodView):
    @bp.response(200, MilestoneSchema(many=True))
    def get(self, project_id: int):
        """The project's approval plan in order, with due dates and SLA states."""
        project = get_project_or_404(api_user(), project_id)
        return _dump(queries.plan(project.id, with_pauses=True))


@bp.route("/<int:project_id>/milestones/<int:milestone_id>/start")
class Start(MethodView):
    @bp.arguments(StartSchema)
    @bp.response(200, MilestoneSchema)
    def post(self, values, project_id: int, milestone_id: int):
        """Accepted (受理) by the department: the clock starts (may be back-dated)."""
        return _act(project_id, milestone_id, Action.MILESTONE_UPDATE, lambda m: lifecycle.start(
            m, accepted_on=values["accepted_on"], today=today(), version=values["version"],
            parallel_reason=values["parallel_reason"]))


@bp.route("/<int:project_id>/milestones/<int:milestone_id>/extend")
class Extend(MethodView):
    @bp.arguments(ExtendSchema)
    @bp.response(200, MilestoneSchema)
    def post(self, values, project_id: int, milestone_id: int):
        """A statutory extension of a running milestone (once, up to its item's allowance,
        approved by the due date): the deadline moves, the original one is kept."""
        return _act(project_id, milestone_id, Action.MILESTONE_UPDATE, lambda m: plan_changes.extend(
            m, workdays=values["extension_workdays"], document_no=values["extension_doc_no"],
            approved_on=values["extension_approved_on"], today=today(),
            version=values["version"]))


@bp.route("/<int:project_id>/milestones/<int:milestone_id>/pause")
class Pause(MethodView):
    @bp.arguments(PauseSchema)
    @bp.response(200, MilestoneSchema)
    def post(self, values, project_id: int, milestone_id: int):
        """Stop the clock (补正材料, 听证, 专家评审, 检验检测, 企业原因, 其他)."""
        return _act(project_id, milestone_id, Action.MILESTONE_UPDATE, lambda m: lifecycle.pause(
            m, paused_on=values["paused_on"], reason_code=values["reason_code"], today=today(),
            document_ref=values.get("document_ref"), note=values.get("note"),
            version=values["version"], actor_id=api_user().id))


@bp.route("/<int:project_id>/milestones/<int:milestone_id>/resume")
class Resume(MethodView):
    @bp.arguments(ResumeSchema)
    @bp.response(200, MilestoneSchema)
    def post(self, values, project_id: int, milestone_id: int):
        """Restart the clock; the paused working days do not count."""
        return _act(project_id, milestone_id, Action.MILESTONE_UPDATE, lambda m: lifecycle.resume(
            m, resumed_on=values["resumed_on"], today=today(), version=values["version"]))


@bp.route("/<int:project_id>/milestones/<int:milestone_id>/complete")
class Complete(MethodView):
    @bp.arguments(CompleteSchema)
    @bp.response(200, MilestoneSchema)
    def post(self, values, project_id: int, milestone_id: int):
        """Approved (办结): met or missed; may advance the project's stage."""
        return _act(project_id, milestone_id, Action.MILESTONE_UPDATE, lambda m: lifecycle.complete(
            m, completed_on=values["completed_on"], today=today(),
            approval_doc_no=values.get("approval_doc_no"),
            issuing_department=values.get("issuing_department"),
            version=values["version"], actor_id=api_user().id))


@bp.route("/<int:project_id>/milestones/<int:milestone_id>/waive")
class Waive(MethodView):
    @bp.arguments(ReasonSchema)
    @bp.response(200, MilestoneSchema)
    def post(self, values, project_id: int, milestone_id: int):
        """Not needed for this project (with the reason); may advance the stage."""
        return _act(project_id, milestone_id, Action.MILESTONE_UPDATE, lambda m: lifecycle.waive(
            m, reason=values["reason"], today=today(), version=values["version"],
            actor_id=api_user().id))


@bp.route("/<int:project_id>/milestones/<int:milestone_id>/reopen")
class Reopen(MethodView):
    @bp.arguments(ReasonSchema)
    @bp.response(200, MilestoneSchema)
    def post(self, values, project_id: int, milestone_id: int):
        """Undo a completion or a waiver (park managers and admins)."""
        return _act(project_id, milestone_id, Action.MILESTONE_REOPEN, lambda m: lifecycle.reopen(
            m, reason=values["reason"], today=today(), version=values["version"]))
