"""Project list (filters, sorting, totals, export), project page, create and edit, stage
changes, and the two spreadsheet exports."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, selectinload

from crm.agents.models import Assignment
from crm.auth.permissions import Action, can, require
from crm.auth.scope import get_project_or_404, visible_parks
from crm.db import parse_id
from crm.errors import Conflict, DomainError, apply_to_form
from crm.i18n import today
from crm.labels import label
from crm.milestones.queries import (
    deadline_state, projects_with_milestones, projects_with_promise, work_calendar,
)
from crm.projects import queries, services
from crm.projects.forms import StageForm, project_form, project_log_form
from crm.projects.models import INDUSTRIES, LogKind, Project, ProjectStatus, Stage
from crm.projects.views import bp
from crm.spreadsheets import batched, label_lookup, local_naive, write_xlsx
from crm.transaction import transaction

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Names of the list's query parameters, to say which nonsense values were cleared.
PARAMETERS = {
    "view": _l("View"), "park": _l("Park"), "stage": _l("Stage"), "status": _l("Status"),
    "industry": _l("Industry"), "sla": _l("Deadlines"), "staff": _l("Staff"),
    "since": _l("Created since"), "sort": _l("Sort order"), "dir": _l("Sort order"), "page": _l("Page"),
}


@dataclass(frozen=True)
class Panel:
    """A section of the project page contributed by another package (crm/web.py lists them):
    ``context(project, user)`` loads what ``template`` shows, in a constant number of queries."""

    name: str
    order: int
    template: str
    context: object


def project_panels() -> list[Panel]:
    return sorted(current_app.extensions.get("project_panels", ()), key=lambda p: (p.order, p.name))


# -- list ----------------------------------------------------------------------------------

def _filters():
    """The list filters from the query string, the parks and the staff one may choose."""
    parks = visible_parks(current_user)
    chosen: dict = {}

    def staff_ids(park_id):
        chosen["staff"] = queries.staff_choices(current_user, park_id)
        if not chosen["staff"] and park_id is None:
            # Leadership without a park: no city-wide list, but a given person is checked.
            chosen["staff"] = queries.staff_in_scope(
                current_user, parse_id(request.args.get("staff")))
        return {row[0] for row in chosen["staff"]}

    f = queries.parse_filters(request.args, user=current_user, park_ids={p.id for p in parks},
                              staff_ids=staff_ids)
    if "staff" not in chosen:
        staff_ids(f.park)
    return f, parks, chosen["staff"]


def _deadline_conditions(f: queries.ProjectFilters, day: dt.date, calendar) -> list:
    """The list's deadline filter (projects with an overdue / a due-soon milestone, or whose
    whole-chain promise is at risk / overdue)."""
    if f.sla is None:
        return []
    if f.sla.startswith(queries.PROMISE_PREFIX):
        return [projects_with_promise(f.sla.removeprefix(queries.PROMISE_PREFIX), day)]
    return [projects_with_milestones(f.sla, day, calendar)]


@bp.get("/")
@login_required
def index():
    from crm.projects.views.logs import quick_log_form

    f, parks, staff = _filters()
    day, calendar = today(), work_calendar()
    result = queries.page_of(current_user, f, current_app.config["PAGE_SIZE"],
                             _deadline_conditions(f, day, calendar))
    return render_template(
        "projects/list.html", f=f, result=result, parks=parks, staff=staff, today=day,
        deadline_state=lambda due_on: deadline_state(due_on, day, calendar), stages=list(Stage), statuses=list(ProjectStatus),
        industries=INDUSTRIES, sla_filters=queries.SLA_FILTERS,
        cleared=list(dict.fromkeys(str(PARAMETERS[name]) for name in f.cleared)),
        log_form=quick_log_form() if f.mine and can(current_user, Action.LOG_CREATE) else None,
        may_create=can(current_user, Action.PROJECT_CREATE),
    )


@bp.get("/export.xlsx")
@login_required
def export_list():
    f, _parks, _staff = _filters()
    day = today()
    conditions = _deadline_conditions(f, day, work_calendar())
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        headers, rows, widths = project_sheet(current_user, f, conditions)
        out = write_xlsx(_("Projects"), headers, rows, widths)
        name = _("projects-%(date)s.xlsx", date=day.isoformat())
    return send_file(out, as_attachment=True, download_name=name, mimetype=XLSX)


def project_sheet(user, f: queries.ProjectFilters, conditions=()):
    """Headers, rows (a generator) and column widths of the filtered project list, in the
    list's order."""
    headers = [_("Project name"), _("Project code"), _("Investor"),
               _("Investor's unified social credit code"), _("Park"), _("Industry"), _("Stage"),
               _("Status"), _("Total investment (10,000 yuan)"), _("Lead agent"),
               _("Next deadline"), _("Open blockers"), _("Enterprise contact"), _("Contact phone"),
               _("Signed on"), _("Expected start of construction")]
    widths = [36, 28, 30, 22, 18, 16, 12, 8, 14, 10, 12, 10, 12, 16, 12, 12]
    statement = queries.export_statement(user, f, conditions)

    industry_label, stage_label = label_lookup("industry"), label_lookup("stage")
    status_label = label_lookup("project_status")

    def rows():
        for (name, code, investor, credit, park, industry, stage, status, investment, lead,
             due, open_blockers, contact, phone, signed, start) in batched(statement):
            yield (name, code, investor, credit, park, industry_label(industry),
                   stage_label(stage), status_label(status), investment, lead,
                   due, open_blockers, contact, phone, signed, start)

    return headers, rows(), widths


@bp.get("/<int:project_id>/log.xlsx")
@login_required
def export_log(project_id: int):
    project = get_project_or_404(current_user, project_id)
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        headers, rows, widths = log_sheet(project, ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]))
        out = write_xlsx(_("Progress log"), headers, rows, widths)
        name = _("log-%(code)s-%(date)s.xlsx", code=project.code or project.id, date=today().isoformat())
    return send_file(out, as_attachment=True, download_name=name, mimetype=XLSX)


def log_sheet(project: Project, zone):
    """Headers, rows and widths of a project's progress log, oldest first."""
    headers = [_("Date"), _("Kind"), _("Approval item"), _("Hours"), _("What was done"),
               _("Author"), _("Logged at"), _("Blocker status"), _("Resolution note")]
    widths = [12, 8, 24, 8, 60, 10, 18, 10, 40]
    statement = queries.log_export_statement(project.id)
    open_text, resolved_text = _("Open"), _("Resolved")
    kind_label = label_lookup("log_kind")

    def rows():
        for happened, kind, milestone, hours, text, author, created, resolved, note in batched(statement):
            state = None
            if kind == LogKind.BLOCKER:
                state = resolved_text if resolved else open_text
            yield (happened, kind_label(kind), milestone,
                   float(hours) if hours is not None else None, text, author,
                   local_naive(created, zone), state, note)

    return headers, rows(), widths


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
    page = parse_id(request.args.get("log_page")) or 1
    logs, more = queries.feed(project.id, page)
    return {"project": project, "logs": logs, "log_page": page, "more_logs": more,
            "blockers": queries.open_blockers(project.id),
            "may_log": can(current_user, Action.LOG_CREATE),
            "may_delete_logs": can(current_user, Action.LOG_DELETE),
            "can_edit_log": lambda log: services.can_edit(log, current_user.id)}


def render_detail(project: Project, status: int = 200, **extra):
    """The project page; ``extra`` carries forms that failed validation, shown with their
    messages next to the fields."""
    from crm.audit.queries import project_trail

    context = activity_context(project)
    panels = project_panels()
    registered = {panel.name for panel in panels}
    if "log_form" not in extra and context["may_log"]:
        extra["log_form"] = project_log_form(project, context["blockers"], formdata=None)
    if "stage_form" not in extra and can(current_user, Action.PROJECT_STAGE):
        extra["stage_form"] = StageForm(formdata=None, version=project.version)
    return render_template(
        "projects/detail.html", **context,
        panels=[(panel, panel.context(project, current_user)) for panel in panels],
        has_timeline="timeline" in registered, has_team="team" in registered,
        trail=project_trail(project.id),
        may_edit=can(current_user, Action.PROJECT_EDIT), **extra), status


@bp.get("/<int:project_id>")
@login_required
def detail(project_id: int):
    return render_detail(load_project(project_id))


# -- create and edit -----------------------------------------------------------------------

@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    require(Action.PROJECT_CREATE)
    parks = visible_parks(current_user)
    form = project_form(parks=parks)
    if form.validate_on_submit():
        try:
            with transaction():
                project = services.create_project(form.project_data(), park_id=form.park.data,
                                                  stage=form.stage.data, actor_id=current_user.id)
        except DomainError as error:
            for message in apply_to_form(form, error):
                flash(str(message), "danger")
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
    may_set_status = can(current_user, Action.PROJECT_STATUS)
    form = project_form(project=project, may_set_status=may_set_status)
    if form.validate_on_submit():
        try:
            with transaction():
                services.update_project(project, form.project_data(),
                                        expected_version=parse_id(form.version.data))
        except Conflict:
            project = load_project(project_id)
            current = project_form(project=project, may_set_status=may_set_status, current=True)
            return render_template("projects/form.html", form=current, project=project,
                                   conflict=_differences(form, current))
        except DomainError as error:
            project = load_project(project_id)
            for message in apply_to_form(form, error):
                flash(str(message), "danger")
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
        if parse_id(form.version.data) != project.version:
            form.stage.errors = [str(STAGE_CONFLICT)]
        else:
            try:
                with transaction():
                    services.change_stage(project, form.stage.data, reason=form.reason.data,
                                          actor_id=current_user.id)
            except Conflict:
                project = load_project(project_id)
                form.stage.errors = [str(STAGE_CONFLICT)]
            except DomainError as error:
                project = load_project(project_id)
                apply_to_form(form, error)
            else:
                flash(_("Stage changed."), "success")
                return redirect(url_for("projects.detail", project_id=project.id))
    form.version.data = project.version
    return render_detail(project, stage_form=form)
