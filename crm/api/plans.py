"""A project's plan as a graph: dependencies, readiness, the forecast, the critical path and
the project's promise; managers add or remove a dependency (with the reason)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from crm.api.core import api_user
from crm.api.errors import abort
from crm.api.projects import require
from crm.api.schemas import MAX_ID, whole
from crm.auth.permissions import Action
from crm.auth.scope import get_project_or_404
from crm.i18n import today
from crm.milestones import graph, queries
from crm.milestones.services import plan_changes
from crm.milestones.queries import work_calendar
from crm.milestones.timeline import joint_rows, promise
from crm.transaction import transaction

bp = Blueprint("api_plans", __name__, url_prefix="/api/v1/projects",
               description="A project's approvals as a graph: what waits for what, the forecast "
                           "in working days, the critical path and the project's promise.")


class PlanItemSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    status = fields.String(required=True)
    requires = fields.List(fields.Integer(), required=True,
                           metadata={"description": "ids it needs issued (or waived) first"})
    ready = fields.Boolean(required=True, metadata={
        "description": "Pending and nothing it needs is open: it can be accepted now"})
    waiting_on = fields.List(fields.Integer(), required=True)
    forecast_on = fields.Date(allow_none=True, metadata={"description": "expected issue date"})
    slack_workdays = fields.Integer(allow_none=True)
    critical = fields.Boolean(required=True)


class PromiseSchema(Schema):
    rule = fields.String(required=True)
    limit_workdays = fields.Integer(required=True)
    state = fields.String(required=True, metadata={
        "description": "not_started, on_track, at_risk, overdue, met, missed"})
    start_on = fields.Date(allow_none=True)
    due_on = fields.Date(allow_none=True)
    end_on = fields.Date(allow_none=True)
    end_forecast_on = fields.Date(allow_none=True)


class JointSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    members = fields.List(fields.Integer(), required=True, metadata={
        "description": "ids of the approvals handled jointly (联合办理)"})
    limit_workdays = fields.Integer(required=True, metadata={
        "description": "45 working days from the first acceptance, plus the extension granted"})
    extension_workdays = fields.Integer(allow_none=True)
    started_on = fields.Date(allow_none=True)
    due_on = fields.Date(allow_none=True)
    state = fields.String(required=True, metadata={
        "description": "not_started, on_track, at_risk, overdue, met, missed"})


class PlanSchema(Schema):
    project_id = fields.Integer(required=True)
    forecast_on = fields.Date(allow_none=True, metadata={
        "description": "the project's forecast approval date (its last approval's forecast)"})
    provisional = fields.Boolean(required=True)
    critical_path = fields.List(fields.Integer(), required=True)
    promise = fields.Nested(PromiseSchema, allow_none=True)
    joint_handlings = fields.List(fields.Nested(JointSchema), required=True)
    items = fields.List(fields.Nested(PlanItemSchema), required=True)


class DependencyInSchema(Schema):
    milestone_id = whole(required=True, validate=validate.Range(min=1, max=MAX_ID))
    requires_id = whole(required=True, validate=validate.Range(min=1, max=MAX_ID))
    reason = fields.String(required=True)


class DependencySchema(Schema):
    id = fields.Integer(required=True)
    milestone_id = fields.Integer(required=True)
    requires_id = fields.Integer(required=True)
    reason = fields.String(allow_none=True)


class RemovalSchema(Schema):
    reason = fields.String(required=True)


def plan_payload(project_id: int) -> dict:
    milestones = queries.plan(project_id)
    needs = queries.dependency_map(project_id)
    statuses = {m.id: m.status for m in milestones}
    forecast = queries.project_forecast(project_id)
    open_items = [m for m in milestones if m.critical and m.status not in graph.DONE_STATES]
    kept = promise(forecast, today())
    joints = (joint_rows(queries.project_joints(project_id), milestones, today(), work_calendar())
              if any(m.joint_id for m in milestones) else [])
    return {
        "project_id": project_id,
        "forecast_on": forecast.forecast_on if forecast else None,
        "provisional": bool(forecast and forecast.provisional),
        "critical_path": [m.id for m in open_items],
        "promise": None if kept is None else {
            "rule": kept.rule.name, "limit_workdays": kept.rule.limit_workdays,
            "state": kept.state, "start_on": kept.start_on, "due_on": kept.due_on,
            "end_on": kept.end_on, "end_forecast_on": kept.end_forecast_on},
        "joint_handlings": [{
            "id": j.joint.id, "name": j.joint.name, "members": [m.id for m in j.members],
            "limit_workdays": j.limit, "extension_workdays": j.joint.extension_workdays,
            "started_on": j.started_on, "due_on": j.due_on, "state": j.state} for j in joints],
        "items": [{
            "id": m.id, "name": m.name, "status": m.status, "requires": needs.get(m.id, []),
            "ready": m.status == "pending" and graph.is_ready(m.id, statuses, needs),
            "waiting_on": graph.waiting_on(m.id, statuses, needs),
            "forecast_on": m.forecast_on, "slack_workdays": m.slack_workdays,
            "critical": m.critical} for m in milestones],
    }


@bp.route("/<int:project_id>/plan")
class Plan(MethodView):
    @bp.response(200, PlanSchema)
    def get(self, project_id: int):
        """The plan as a graph, with the forecast and the critical path."""
        project = get_project_or_404(api_user(), project_id)
        return plan_payload(project.id)


@bp.route("/<int:project_id>/dependencies")
class Dependencies(MethodView):
    @bp.arguments(DependencyInSchema)
    @bp.response(201, DependencySchema)
    def post(self, values, project_id: int):
        """Make one approval of the project wait for another (park managers, admins)."""
        project = get_project_or_404(api_user(), project_id)
        require(Action.PLAN_EDIT)
        milestone = queries.project_milestone(project.id, values["milestone_id"])
        if milestone is None:
            abort(404, "No such milestone in this project.")
        with transaction():
            dependency = plan_changes.add_dependency(
                milestone, queries.project_milestone(project.id, values["requires_id"]),
                reason=values["reason"], actor_id=api_user().id)
        return dependency


@bp.route("/<int:project_id>/dependencies/<int:dependency_id>/remove")
class RemoveDependency(MethodView):
    @bp.arguments(RemovalSchema)
    @bp.response(204)
    def post(self, values, project_id: int, dependency_id: int):
        """Remove a dependency (park managers, admins), with the reason."""
        project = get_project_or_404(api_user(), project_id)
        require(Action.PLAN_EDIT)
        dependency = queries.project_dependency(project.id, dependency_id)
        if dependency is None:
            abort(404, "No such dependency in this project.")
        with transaction():
            plan_changes.remove_dependency(dependency, reason=values["reason"])
