"""Project list and project page."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from crm.agents.models import Assignment
from crm.audit.models import AuditEvent
from crm.auth.scope import get_project_or_404, visible_parks, visible_projects
from crm.extensions import db
from crm.projects.models import ProgressLog, Project, ProjectStatus, Stage
from crm.projects.panels import render_context

bp = Blueprint("projects", __name__, url_prefix="/projects")


@bp.get("/")
@login_required
def index():
    query = visible_projects(current_user)
    filters = {}
    park_id = request.args.get("park", type=int)
    if park_id:
        query = query.where(Project.park_id == park_id)
        filters["park"] = park_id
    stage = request.args.get("stage")
    if stage in {s.value for s in Stage}:
        query = query.where(Project.stage == stage)
        filters["stage"] = stage
    status = request.args.get("status")
    if status in {s.value for s in ProjectStatus}:
        query = query.where(Project.status == status)
        filters["status"] = status
    q = (request.args.get("q") or "").strip()[:100]
    if q:
        pattern = f"%{q}%"
        query = query.where(or_(Project.name.ilike(pattern), Project.investor_name.ilike(pattern),
                                Project.code.ilike(pattern)))
        filters["q"] = q

    filtered = query.subquery()
    totals = db.session.execute(
        select(func.count(), func.coalesce(func.sum(filtered.c.investment), 0))
    ).one()
    page = max(request.args.get("page", 1, type=int), 1)
    size = current_app.config["PAGE_SIZE"]
    projects = db.session.scalars(
        query.options(joinedload(Project.park))
        .order_by(Project.created_at.desc(), Project.id.desc())
        .limit(size).offset((page - 1) * size)
    ).all()
    pages = max((totals[0] + size - 1) // size, 1)
    return render_template(
        "projects/list.html", projects=projects, count=totals[0], investment=totals[1],
        page=page, pages=pages, filters=filters, parks=visible_parks(current_user),
        stages=list(Stage), statuses=list(ProjectStatus),
    )


@bp.get("/<int:project_id>")
@login_required
def detail(project_id: int):
    project = get_project_or_404(
        current_user, project_id,
        joinedload(Project.park),
        selectinload(Project.milestones),
        selectinload(Project.assignments).joinedload(Assignment.staff),
    )
    logs = db.session.scalars(
        select(ProgressLog).where(ProgressLog.project_id == project.id)
        .options(joinedload(ProgressLog.author))
        .order_by(ProgressLog.created_at.desc()).limit(50)
    ).all()
    audit = db.session.scalars(
        select(AuditEvent).where(AuditEvent.project_id == project.id)
        .options(joinedload(AuditEvent.user))
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()).limit(30)
    ).all()
    return render_template("projects/detail.html", project=project, logs=logs, audit=audit,
                           panels=render_context(project, current_user))
