"""Home page (shaped by role) and health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import case, func, select, text

from crm.agents.models import Assignment
from crm.auth.models import Role
from crm.auth.scope import park_condition, project_condition
from crm.extensions import db
from crm.i18n import today
from crm.milestones.models import Milestone, MilestoneStatus
from crm.parks.models import Park
from crm.projects.models import LogKind, ProgressLog, Project, ProjectStatus, Stage

bp = Blueprint("main", __name__)


@bp.get("/favicon.ico")
def favicon():
    return redirect(url_for("static", filename="favicon.svg"), code=301)


@bp.get("/healthz")
def health():
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")


@bp.get("/")
@login_required
def home():
    if current_user.role in (Role.AGENT, Role.CONSULTANT):
        return render_template("main/home_staff.html", **_staff_home())
    return render_template("main/home_overview.html", **_overview())


def _staff_home() -> dict:
    """An agent's or consultant's day: their projects, deadlines at risk, open blockers."""
    scope = project_condition(current_user)
    projects = db.session.scalars(
        select(Project).where(scope, Project.status == ProjectStatus.ACTIVE)
        .order_by(Project.stage_changed_at.desc()).limit(50)
    ).all()
    at_risk = db.session.execute(
        select(Milestone, Project.name)
        .join(Project, Project.id == Milestone.project_id)
        .where(project_condition(current_user, Milestone.project_id, Milestone.park_id),
               Milestone.status == MilestoneStatus.RUNNING, Milestone.due_on.is_not(None))
        .order_by(Milestone.due_on).limit(10)
    ).all()
    blockers = db.session.execute(
        select(ProgressLog, Project.name)
        .join(Project, Project.id == ProgressLog.project_id)
        .where(project_condition(current_user, ProgressLog.project_id, ProgressLog.park_id),
               ProgressLog.kind == LogKind.BLOCKER, ProgressLog.resolved_at.is_(None))
        .order_by(ProgressLog.created_at).limit(20)
    ).all()
    return {"projects": projects, "at_risk": at_risk, "blockers": blockers, "today": today()}


def _overview() -> dict:
    """Per-park figures in the viewer's scope: one GROUP BY per figure family."""
    active = Project.status == ProjectStatus.ACTIVE
    stage_columns = [
        func.sum(case((active & (Project.stage == s.value), 1), else_=0)).label(s.value)
        for s in Stage
    ]
    project_rows = db.session.execute(
        select(Park.id, Park.name,
               func.count(Project.id).filter(active).label("active"),
               func.coalesce(func.sum(Project.investment).filter(active), 0).label("investment"),
               *stage_columns)
        .select_from(Park).outerjoin(Project, Project.park_id == Park.id)
        .where(park_condition(current_user))
        .group_by(Park.id, Park.name).order_by(Park.id)
    ).all()
    overdue = dict(db.session.execute(
        select(Milestone.park_id, func.count())
        .where(park_condition(current_user, Milestone.park_id),
               Milestone.status == MilestoneStatus.RUNNING, Milestone.due_on < today())
        .group_by(Milestone.park_id)
    ).all())
    blockers = dict(db.session.execute(
        select(ProgressLog.park_id, func.count())
        .where(park_condition(current_user, ProgressLog.park_id),
               ProgressLog.kind == LogKind.BLOCKER, ProgressLog.resolved_at.is_(None))
        .group_by(ProgressLog.park_id)
    ).all())
    has_lead = select(Assignment.id).where(
        Assignment.project_id == Project.id, Assignment.role == "lead_agent",
        Assignment.ended_at.is_(None)).exists()
    unassigned = dict(db.session.execute(
        select(Project.park_id, func.count())
        .where(park_condition(current_user, Project.park_id), active, ~has_lead)
        .group_by(Project.park_id)
    ).all())
    return {"parks": project_rows, "overdue": overdue, "blockers": blockers,
            "unassigned": unassigned, "stages": list(Stage)}
