"""Home page (shaped by the viewer's scope) and health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import text

from crm.auth.permissions import Action, can
from crm.auth.scope import assigned_only, park_condition, project_condition, sees_all
from crm.dashboard.queries import boards
from crm.extensions import db
from crm.i18n import today
from crm.milestones.queries import work_calendar

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
    day, calendar = today(), work_calendar()
    if assigned_only(current_user):
        return render_template("main/home_staff.html", **boards.staff_home(
            current_user, lambda project, park: project_condition(current_user, project, park),
            day, calendar))
    return render_template("main/home_overview.html", city_wide=sees_all(current_user),
                           may_see_city=can(current_user, Action.CITY_DASHBOARD),
                           **boards.overview(lambda column: park_condition(current_user, column),
                                             day, calendar))
