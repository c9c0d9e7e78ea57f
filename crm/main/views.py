"""Home page (shaped by role) and health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import case, func, select, text

from crm.agents.queries import unassigned_condition
from crm.auth.models import Role
from crm.auth.scope import park_condition, project_condition
from crm.dashboard import lists
from crm.dashboard.figures import DEFAULT_PERIOD
from crm.dashboard.services import list_rows
from crm.extensions import db
from crm.i18n import today
from crm.milestones.models import Milestone, MilestoneStatus
from crm.milestones.services import work_calendar
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
    """An agent's or consultant's day: my milestones overdue and due soon, my open blockers,
    my projects, the quick log form.  A constant number of queries."""
    day, calendar = today(), work_calendar()
    rows = list_rows()
    mine = project_condition(current_user, Milestone.project_id, Milestone.park_id)

    def state(name):
        return lists.milestone_state_condition(name, day, calendar, DEFAULT_PERIOD) & mine

    overdue = [(row, calendar.workdays_between(row.due_on, day))
               for row in lists.milestones(state("overdue"), "overdue", limit=rows)]
    due_soon = lists.milestones(state("due_soon"), "due_soon", limit=rows)
    counts = {name: lists.count(Milestone, state(name)) for name in ("overdue", "due_soon")}
    my_logs = project_condition(current_user, ProgressLog.project_id, ProgressLog.park_id)
    blockers = lists.open_blockers(my_logs, limit=rows)
    projects = db.session.scalars(
        select(Project).where(project_condition(current_user),
                              Project.status == ProjectStatus.ACTIVE)
        .order_by(Project.stage_changed_at.desc()).limit(50)
    ).all()
    return {"projects": projects, "overdue": overdue, "due_soon": due_soon, "counts": counts,
            "blockers": blockers, "today": day}


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
    unassigned = dict(db.session.execute(
        select(Project.park_id, func.count())
        .where(park_condition(current_user, Project.park_id), unassigned_condition())
        .group_by(Project.park_id)
    ).all())
    return {"parks": project_rows, "overdue": overdue, "blockers": blockers,
            "unassigned": unassigned, "stages": list(Stage)}
