"""Projects through the API, scoped exactly like the UI (crm/auth/scope.py); writes go through
the same forms (rules) and services as the web pages."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from crm.api.core import api_user
from crm.api.errors import abort
from crm.api.forms import formdata, validate_or_422
from crm.api.schemas import (
    ProjectCreateSchema, ProjectListArgsSchema, ProjectPageSchema, ProjectPatchSchema,
    ProjectSchema, StageChangeSchema,
)
from crm.auth.permissions import Action, can
from crm.auth.scope import get_project_or_404, visible_parks
from crm.errors import Conflict
from crm.projects import queries, services
from crm.projects.forms import project_form
from crm.transaction import transaction

bp = Blueprint("api_projects", __name__, url_prefix="/api/v1/projects",
               description="Enterprise investment projects.")

# Form field -> API field, where they differ.
FIELD_NAMES = {"park": "park_id"}
CONFLICT = "The project was changed by someone else; read it again and resend with its current version."


def require(action: Action) -> None:
    if not can(api_user(), action):
        abort(403, "Your role does not allow this action.")


def _validated_project_form(values: dict, *, project=None, may_set_status=True):
    """The web form's rules over the request's values (for a PATCH: over the project's
    current values with the request's on top)."""
    user = api_user()
    accept = values.pop("accept_code_warning", False)
    form = project_form(parks=visible_parks(user) if project is None else (), project=project,
                        may_set_status=may_set_status,
                        formdata=formdata(dict(values, accept_code_warning=accept)))
    if project is not None:
        form.saved_code = project.code
    valid = form.validate()
    if form.code_warning is not None and not accept:
        abort(422, "The project code's check digit does not match.",
              fields={"code": [str(form.code_warning)]}, code="code_check_digit")
    if not valid:
        validate_or_422(form, names=FIELD_NAMES)
    return form


@bp.route("")
class Projects(MethodView):
    @bp.arguments(ProjectListArgsSchema, location="query")
    @bp.response(200, ProjectPageSchema)
    def get(self, args):
        """Projects the token's user may see, filtered, newest first, with the total count."""
        size = min(args["page_size"], current_app.config["API_MAX_PAGE_SIZE"])
        items, total, investment = queries.newest_page(
            api_user(), {name: args.get(name) for name in ("park", "stage", "status", "industry")},
            args.get("q"), page=args["page"], size=size)
        return {"items": items, "page": args["page"], "page_size": size, "total": total,
                "total_investment": investment}

    @bp.arguments(ProjectCreateSchema)
    @bp.response(201, ProjectSchema)
    def post(self, values):
        """Register a project (park managers and admins).  Staff are assigned by the park's
        rule; from `signed` on, the approval plan is drawn up from the catalogue."""
        require(Action.PROJECT_CREATE)
        values["park"] = values.pop("park_id")
        form = _validated_project_form(values)
        with transaction():
            project = services.create_project(form.project_data(), park_id=form.park.data,
                                              stage=form.stage.data, actor_id=api_user().id)
        return project


@bp.route("/<int:project_id>")
class ProjectItem(MethodView):
    @bp.response(200, ProjectSchema)
    def get(self, project_id: int):
        """One project; 404 when it does not exist or is outside the user's scope."""
        return get_project_or_404(api_user(), project_id)

    @bp.arguments(ProjectPatchSchema)
    @bp.response(200, ProjectSchema)
    def patch(self, values, project_id: int):
        """Change some fields.  Send the `version` you read: a stale version answers 409 with
        the current one, and nothing is saved."""
        user = api_user()
        project = get_project_or_404(user, project_id)
        require(Action.PROJECT_EDIT)
        version = values.pop("version")
        if project.version != version:
            abort(409, CONFLICT, current_version=project.version)
        may_set_status = can(user, Action.PROJECT_STATUS)
        if "status" in values and not may_set_status:
            abort(403, "Your role does not allow changing the project's status.")
        current = {name: getattr(project, name) for name in services.EDITABLE_FIELDS}
        form = _validated_project_form(dict(current, **values), project=project,
                                       may_set_status=may_set_status)
        try:
            with transaction():
                services.update_project(project, form.project_data(), expected_version=version)
        except Conflict:
            abort(409, CONFLICT, current_version=get_project_or_404(user, project_id).version)
        return project


@bp.route("/<int:project_id>/stage")
class ProjectStage(MethodView):
    @bp.arguments(StageChangeSchema)
    @bp.response(200, ProjectSchema)
    def post(self, values, project_id: int):
        """Move the project's stage by hand, with a reason (kept in the audit trail)."""
        user = api_user()
        project = get_project_or_404(user, project_id)
        require(Action.PROJECT_STAGE)
        if project.version != values["version"]:
            abort(409, CONFLICT, current_version=project.version)
        try:
            with transaction():
                services.change_stage(project, values["stage"], reason=values["reason"],
                                      actor_id=user.id)
        except Conflict:
            abort(409, CONFLICT, current_version=get_project_or_404(user, project_id).version)
        return project
