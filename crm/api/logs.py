"""Progress logs of a project (same rules as the log form), and resolving blockers."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from crm.api.core import api_user
from crm.api.errors import abort
from crm.api.forms import formdata, validate_or_422
from crm.api.projects import require
from crm.api.schemas import LogCreateSchema, LogPageArgsSchema, LogPageSchema, LogSchema, ResolveSchema
from crm.auth.permissions import Action
from crm.auth.scope import get_project_or_404
from crm.projects import queries, services
from crm.projects.forms import project_log_form
from crm.transaction import transaction

bp = Blueprint("api_logs", __name__, url_prefix="/api/v1/projects",
               description="Progress logs (代办记录) and blockers (堵点).")


@bp.route("/<int:project_id>/logs")
class Logs(MethodView):
    @bp.arguments(LogPageArgsSchema, location="query")
    @bp.response(200, LogPageSchema)
    def get(self, args, project_id: int):
        """The project's log, newest first."""
        project = get_project_or_404(api_user(), project_id)
        items, _more = queries.feed(project.id, args["page"], args["page_size"])
        total = queries.log_count(project.id)
        return {"items": items, "page": args["page"], "page_size": args["page_size"], "total": total}

    @bp.arguments(LogCreateSchema)
    @bp.response(201, LogSchema)
    def post(self, values, project_id: int):
        """Log what was done.  A `resolution` may name the open blocker it `resolves`."""
        user = api_user()
        project = get_project_or_404(user, project_id)
        require(Action.LOG_CREATE)
        blockers = queries.open_blockers(project.id)
        form = project_log_form(project, blockers, meta={"csrf": False}, formdata=formdata({
            "kind": values["kind"], "happened_on": values["happened_on"], "text": values["text"],
            "hours": values.get("hours"), "milestone": values.get("milestone_id"),
            "resolves": values.get("resolves")}))
        validate_or_422(form, names={"milestone": "milestone_id"})
        resolves = next((b for b in blockers if b.id == form.resolves.data), None)
        with transaction():
            log = services.add_log(project, author_id=user.id, kind=form.kind.data,
                                   happened_on=form.happened_on.data, text=form.text.data,
                                   hours=form.hours.data, milestone_id=form.milestone.data,
                                   resolves=resolves)
        return log


@bp.route("/<int:project_id>/blockers/<int:log_id>/resolve")
class ResolveBlocker(MethodView):
    @bp.arguments(ResolveSchema)
    @bp.response(200, LogSchema)
    def post(self, values, project_id: int, log_id: int):
        """Close an open blocker with a note saying how it was resolved."""
        user = api_user()
        project = get_project_or_404(user, project_id)
        require(Action.LOG_CREATE)
        log = queries.project_log(project.id, log_id)
        if log is None:
            abort(404, "No such log entry in this project.")
        with transaction():
            services.close_blocker(log, actor_id=user.id, note=values["note"].strip())
        return log
