"""Projects through the API, scoped exactly like the UI (crm/auth/scope.py)."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import func, or_, select

from crm.api.core import api_user
from crm.api.schemas import ProjectListArgsSchema, ProjectPageSchema, ProjectSchema
from crm.auth.scope import get_project_or_404, visible_projects
from crm.extensions import db
from crm.projects.models import Project

bp = Blueprint("api_projects", __name__, url_prefix="/api/v1/projects",
               description="Enterprise investment projects.")


@bp.route("")
class Projects(MethodView):
    @bp.arguments(ProjectListArgsSchema, location="query")
    @bp.response(200, ProjectPageSchema)
    def get(self, args):
        """Projects the token's user may see, filtered, newest first, with the total count."""
        query = visible_projects(api_user())
        for name, column in (("park", Project.park_id), ("stage", Project.stage),
                             ("status", Project.status), ("industry", Project.industry)):
            if args.get(name) is not None:
                query = query.where(column == args[name])
        if args.get("q"):
            pattern = f"%{args['q']}%"
            query = query.where(or_(Project.name.ilike(pattern), Project.investor_name.ilike(pattern),
                                    Project.code.ilike(pattern)))
        filtered = query.subquery()
        total, investment = db.session.execute(
            select(func.count(), func.coalesce(func.sum(filtered.c.investment), 0))).one()
        size = min(args["page_size"], current_app.config["API_MAX_PAGE_SIZE"])
        items = db.session.scalars(
            query.order_by(Project.created_at.desc(), Project.id.desc())
            .limit(size).offset((args["page"] - 1) * size)).all()
        return {"items": items, "page": args["page"], "page_size": size, "total": total,
                "total_investment": investment}


@bp.route("/<int:project_id>")
class ProjectItem(MethodView):
    @bp.response(200, ProjectSchema)
    def get(self, project_id: int):
        """One project; 404 when it does not exist or is outside the user's scope."""
        return get_project_or_404(api_user(), project_id)
