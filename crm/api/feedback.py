"""The enterprise's ratings, the bad-review cases they opened and the monthly callback sample
(read-only; the enterprise's own page is not part of the staff API).  Same scope as the web:
a project you cannot see answers 404; the sample needs a leadership or manager role."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from crm.api.core import api_user
from crm.api.errors import abort
from crm.api.projects import require
from crm.auth.permissions import Action
from crm.auth.scope import get_project_or_404, park_condition
from crm.i18n import today
from crm.portal import queries
from crm.portal.models import CallbackItem
from crm.portal.services.callbacks import MONTH

bp = Blueprint("api_feedback", __name__, url_prefix="/api/v1",
               description="The enterprises' ratings (five dimensions, 1-5), the bad-review "
                           "cases (差评整改) and the monthly callback sample.")


class ScoresSchema(Schema):
    openness = fields.Integer(required=True, metadata={"description": "政务公开"})
    standards = fields.Integer(required=True, metadata={"description": "办件规范"})
    convenience = fields.Integer(required=True, metadata={"description": "办事便利"})
    courtesy = fields.Integer(required=True, metadata={"description": "文明服务"})
    discipline = fields.Integer(required=True, metadata={"description": "纪律执行"})


class RatingSchema(Schema):
    id = fields.Integer(required=True)
    milestone_id = fields.Integer(allow_none=True, metadata={
        "description": "the approval rated; null: the whole service"})
    milestone = fields.String(allow_none=True)
    source = fields.String(required=True, metadata={"description": "online or callback"})
    scores = fields.Nested(ScoresSchema, required=True)
    comment = fields.String(allow_none=True)
    staff_id = fields.Integer(allow_none=True, metadata={"description": "who served"})
    submitted_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class CaseSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"description": "low_rating or complaint"})
    status = fields.String(required=True, metadata={
        "description": "open, classified, rectified (awaiting the enterprise), closed"})
    classification = fields.String(allow_none=True, metadata={"description": "simple, complex"})
    rating_id = fields.Integer(allow_none=True)
    assignee_staff_id = fields.Integer(allow_none=True)
    due_on = fields.Date(required=True)
    late = fields.Boolean(required=True, metadata={
        "description": "past its due day with its step not done"})
    opened_at = fields.DateTime(required=True)
    rectified_on = fields.Date(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    closed_how = fields.String(allow_none=True, metadata={"description": "re_rated, phone"})


class CallbackSchema(Schema):
    item_id = fields.Integer(required=True)
    park = fields.String(required=True)
    project_id = fields.Integer(required=True)
    project = fields.String(required=True)
    milestone = fields.String(required=True)
    completed_on = fields.Date(allow_none=True)
    served_by = fields.String(allow_none=True)
    result = fields.Nested(ScoresSchema, allow_none=True, metadata={
        "description": "the surveyor's scores once entered"})


def _rating(r) -> dict:
    return {"id": r.id, "milestone_id": r.milestone_id,
            "milestone": r.milestone.name if r.milestone else None, "source": r.source,
            "scores": r.scores(), "comment": r.comment, "staff_id": r.staff_id,
            "submitted_at": r.submitted_at, "updated_at": r.updated_at}


@bp.route("/projects/<int:project_id>/ratings")
class Ratings(MethodView):
    @bp.response(200, RatingSchema(many=True))
    def get(self, project_id: int):
        """The enterprise's ratings of the project (online and callbacks), newest first."""
        project = get_project_or_404(api_user(), project_id)
        ratings, _cases = queries.project_feedback(project.id)
        return [_rating(r) for r in ratings]


@bp.route("/projects/<int:project_id>/cases")
class Cases(MethodView):
    @bp.response(200, CaseSchema(many=True))
    def get(self, project_id: int):
        """The project's bad-review cases, newest first."""
        project = get_project_or_404(api_user(), project_id)
        _ratings, cases = queries.project_feedback(project.id)
        day = today()
        return [{"id": c.id, "kind": c.kind, "status": c.status,
                 "classification": c.classification, "rating_id": c.rating_id,
                 "assignee_staff_id": c.assignee_staff_id, "due_on": c.due_on,
                 "late": c.late_on(day),
                 "opened_at": c.opened_at, "rectified_on": c.rectified_on,
                 "closed_at": c.closed_at, "closed_how": c.closed_how} for c in cases]


@bp.route("/callbacks/<month>")
class Callbacks(MethodView):
    @bp.response(200, CallbackSchema(many=True))
    def get(self, month: str):
        """The month's callback sample (YYYY-MM, the month the approvals were issued) in the
        parks you may see, with the results entered."""
        require(Action.CALLBACKS)
        if not MONTH.match(month):
            abort(404, "No such month: use YYYY-MM.")
        rows = queries.callback_rows(month, park_condition(api_user(), CallbackItem.park_id))
        return [{"item_id": r.item_id, "park": r.park, "project_id": r.project_id,
                 "project": r.project, "milestone": r.milestone,
                 "completed_on": r.completed_on, "served_by": r.served_by,
                 "result": r.rating.scores() if r.rating else None} for r in rows]
