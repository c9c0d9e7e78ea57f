"""Project list (filters, sorting, totals, export), project page, create and edit, stage
changes.  The progress-log routes are in log_views.py on the same blueprint."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import (
    Blueprint, current_app, flash, redirect, render_template, request, send_file, url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from crm.agents.models import Assignment
from crm.auth.permissions import Action, can, require
from crm.auth.scope import get_project_or_404, visible_parks
from crm.extensions import db
from crm.i18n import today
from crm.labels import label
from crm.milestones.services import work_calendar
from crm.projects import export, listing, progress, services, trail
from crm.projects.forms import StageForm, project_form, project_log_form
from crm.projects.models import INDUSTRIES, Project, ProjectStatus, Stage
from crm.projects.panels import panels, render_context

bp = Blueprint("projects", __name__, url_prefix="/projects")

# Names of the list's query parameters, to say which nonsense values were cleared.
PARAMETERS = {
    "view": _l("View"), "park": _l("Park"), "stage": _l("Stage"), "status": _l("Status"),
    "industry": _l("Industry"), "sla": _l("Deadlines"), "staff": _l("Staff"),
    "since": _l("Created since"), "sort": _l("Sort order"), "dir": _l("Sort order"), "page": _l("Page"),
}


# -- list ----------------------------------------------------------------------------------

def _filters():
    """The list filters from the query string, the parks and the staff one may choose."""
    parks = visible_parks(current_user)
    chosen: dict = {}

    def staff_ids(park_id):
        chosen["staff"] = listing.staff_choices(current_user, park_id)
        if not chosen["staff"] and park_id is None:
            # Leadership without a park: no city-wide list, but a given person is checked.
            chosen["staff"] = listing.staff_in_scope(
                current_user, listing.parse_id(request.args.get("staff")))
        return {row[0] for row in chosen["staff"]}

    f = listing.parse_filters(request.args, user=current_user, park_ids={p.id for p in parks},
                              staff_ids=staff_ids)
    if "staff" not in chosen:
        staff_ids(f.park)
    return f, parks, chosen["staff"]


def _deadlines() -> tuple[dt.date, dt.date]:
    day = today()
    return day, listing.due_soon_before(day, work_calendar(),
                                        current_app.config["SLA_WARNING_WORKDAYS"])


@bp.get("/")
@login_required
def index():
    f, parks, staff = _filters()
    day, soon_before = _deadlines()
    result = listing.page_of(current_user, f, day, soon_before, current_app.config["PAGE_SIZE"])
    return render_template(
        "projects/list.html", f=f, result=result, parks=parks, staff=staff, today=day,
        soon_before=soon_before, stages=list(Stage), statuses=list(ProjectStatus),
        industries=INDUSTRIES, sla_filters=listing.SLA_FILTERS,
        cleared=list(dict.fromkeys(str(PARAMETERS[name]) for name in f.cleared)),
        log_form=log_views.quick_log_form() if f.mine and can(current_user, Action.LOG_CREATE) else None,
        may_create=can(current_user, Action.PROJECT_CREATE),
    )


@bp.get("/export.xlsx")
@login_required
def export_list():
    f, _parks, _staff = _filters()
    day, soon_before = _deadlines()
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        headers, rows, widths = export.project_sheet(current_user, f, day, soon_before)
        out = export.write_xlsx(_("Projects"), headers, rows, widths)
        name = _("projects-%(date)s.xlsx", date=day.isoformat())
    return send_file(out, as_attachment=True, download_name=name,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


# -- project page --------------------------------------------------------------------------

def load_project(project_id: int) -> Project:
    """The project in the user's scope (404 otherwise) with what its page shows."""
    return get_project_or_404(
        current_user, project_id,
        joinedload(Project.park),
        selectinload(Project.milestones),
        selectinload(Project.assignments).joinedload(Assignment.staff),
    )


def activity_context(project: Project) -> dict:
    """The open blockers and one page of the log feed (the page's #project-activity)."""
    page = listing.parse_id(request.args.get("log_page")) or 1
    logs, more = progress.feed(project.id, page)
    return {"project": project, "logs": logs, "log_page": page, "more_logs": more,
            "blockers": progress.open_blockers(project.id),
            "may_log": can(current_user, Action.LOG_CREATE),
            "may_delete_logs": can(current_user, Action.LOG_DELETE),
            "can_edit_log": lambda log: progress.can_edit(log, current_user.id)}


def render_detail(project: Project, **extra):
    """The project page; ``extra`` carries forms that failed validation, shown with their
    messages next to the fields."""
    context = activity_context(project)
    registered = {panel.name for panel in panels()}
    if "log_form" not in extra and context["may_log"]:
        extra["log_form"] = project_log_form(project, context["blockers"], formdata=None)
    if "stage_form" not in extra and can(current_user, Action.PROJECT_STAGE):
        extra["stage_form"] = StageForm(formdata=None, version=project.version)
    return render_template(
        "projects/detail.html", **context, panels=render_context(project, current_user),
        has_timeline="timeline" in registered, has_team="team" in registered,
        trail=trail.project_trail(project.id),
        may_edit=can(current_user, Action.PROJECT_EDIT), **extra)


@bp.get("/<int:project_id>")
@login_required
def detail(project_id: int):
    return render_detail(load_project(project_id))


# -- create and edit -----------------------------------------------------------------------

def _code_taken(form) -> None:
    form.code.errors = [*form.code.errors, _("Another project already has this project code.")]


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    require(Action.PROJECT_CREATE)
    parks = visible_parks(current_user)
    form = project_form(parks=parks)
    if form.validate_on_submit():
        try:
            project = services.create_project(form.project_data(), park_id=form.park.data,
                                              stage=form.stage.data, actor_id=current_user.id)
            db.session.commit()
        except (services.DuplicateProjectCode, IntegrityError):
            db.session.rollback()
            _code_taken(form)
        else:
            flash(_("Project %(name)s registered.", name=project.name), "success")
            staffed = {a.role for a in project.assignments if a.is_active}
            for role in ("consultant", "lead_agent"):
                if role not in staffed:
                    flash(_("Nobody on the park's roster can take the %(role)s now: the project waits in the park's unassigned queue.",
                            role=label("assignment_role", role)), "warning")
            return redirect(url_for("projects.detail", project_id=project.id))
    return render_template("projects/form.html", form=form, project=None)


def _differences(form, current) -> list[tuple[str, str, str]]:
    """(label, your value, current value) for the fields a conflicting edit would change."""
    rows = []
    for name, value in form.project_data().items():
        now = current[name].data
        if (value or None) != (now or None):
            rows.append((str(form[name].label.text), value, now))
    return rows


@bp.route("/<int:project_id>/edit", methods=["GET", "POST"])
@login_required
def edit(project_id: int):
    project = load_project(project_id)
    require(Action.PROJECT_EDIT)
    may_set_status = current_user.role != "consultant"
    form = project_form(project=project, may_set_status=may_set_status)
    if form.validate_on_submit():
        try:
            services.update_project(project, form.project_data(),
                                    expected_version=listing.parse_id(form.version.data))
            db.session.commit()
        except services.ProjectConflict:
            db.session.rollback()
            project = load_project(project_id)
            current = project_form(project=project, may_set_status=may_set_status, current=True)
            return render_template("projects/form.html", form=current, project=project,
                                   conflict=_differences(form, current))
        except (services.DuplicateProjectCode, IntegrityError):
            db.session.rollback()
            project = load_project(project_id)
            _code_taken(form)
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("projects.detail", project_id=project.id))
    return render_template("projects/form.html", form=form, project=project)


STAGE_CONFLICT = _l("The project was changed by someone else in the meantime; check its "
                    "current stage and try again.")


@bp.post("/<int:project_id>/stage")
@login_required
def change_stage(project_id: int):
    project = load_project(project_id)
    require(Action.PROJECT_STAGE)
    form = StageForm()
    if form.validate_on_submit():
        if listing.parse_id(form.version.data) != project.version:
            form.stage.errors = [str(STAGE_CONFLICT)]
        elif form.stage.data == project.stage:
            form.stage.errors = [_("The project is already in this stage.")]
        else:
            try:
                services.change_stage(project, form.stage.data, reason=form.reason.data,
                                      actor_id=current_user.id)
                db.session.commit()
            except StaleDataError:
                db.session.rollback()
                project = load_project(project_id)
                form.stage.errors = [str(STAGE_CONFLICT)]
            else:
                flash(_("Stage changed."), "success")
                return redirect(url_for("projects.detail", project_id=project.id))
    form.version.data = project.version
    return render_detail(project, stage_form=form)


@bp.get("/<int:project_id>/log.xlsx")
@login_required
def export_log(project_id: int):
    project = get_project_or_404(current_user, project_id)
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        headers, rows, widths = export.log_sheet(project, ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]))
        out = export.write_xlsx(_("Progress log"), headers, rows, widths)
        name = _("log-%(code)s-%(date)s.xlsx", code=project.code or project.id, date=today().isoformat())
    return send_file(out, as_attachment=True, download_name=name,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


from crm.projects import log_views  # noqa: E402  (registers the log routes on bp)
