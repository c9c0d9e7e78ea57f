"""Milestone pages: the timeline panel on the project page, one form page per action, custom
milestones, and the admins' schedule import."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for,
)
from flask_babel import force_locale, gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from crm.auth import services as auth_services
from crm.auth.permissions import Action, require
from crm.db import utcnow
from crm.extensions import limiter
from crm.auth.scope import get_project_or_404
from crm.errors import Conflict, DomainError, apply_to_form
from crm.i18n import today as local_today
from crm.milestones import ics, queries
from crm.milestones.graph import JOINT_EXTENSION
from crm.milestones.calendar import official_years
from crm.milestones.forms import (
    CompleteForm, CustomMilestoneForm, DependencyForm, ExtendForm, JointForm, PauseForm, ReasonForm,
    ResumeForm, ScheduleImportForm, StartForm,
)
from crm.milestones.models import Milestone
from crm.milestones.queries import STATE_COLOURS, sla_state, warning_workdays, work_calendar
from crm.milestones.services import lifecycle, plan_changes
from crm.milestones.services.schedules import decode, import_schedule
from crm.milestones.timeline import joint_rows, timeline
from crm.transaction import transaction

bp = Blueprint("milestones", __name__)

# The project page's panel (crm/web.py lists the panels): the milestone timeline.
timeline_panel = timeline

ACTION_FORMS = {"start": StartForm, "pause": PauseForm, "resume": ResumeForm,
                "complete": CompleteForm, "waive": ReasonForm, "reopen": ReasonForm,
                "extend": ExtendForm}
DATE_FIELDS = {"start": "accepted_on", "pause": "paused_on", "resume": "resumed_on",
               "complete": "completed_on", "extend": "extension_approved_on"}
TITLES = {
    "start": _l("Record acceptance"),
    "pause": _l("Stop the clock"),
    "resume": _l("Restart the clock"),
    "complete": _l("Record completion"),
    "waive": _l("Waive the milestone"),
    "reopen": _l("Reopen the milestone"),
    "extend": _l("Record an extension"),
}
DONE = {
    "start": _l("Acceptance recorded: the clock is running."),
    "pause": _l("The clock is stopped."),
    "resume": _l("The clock is running again."),
    "complete": _l("Completion recorded."),
    "waive": _l("The milestone is waived."),
    "reopen": _l("The milestone is reopened."),
    "extend": _l("The extension is recorded: the deadline moved."),
}

def _milestone_or_404(project_id: int, milestone_id: int) -> tuple:
    project = get_project_or_404(current_user, project_id)
    milestone = queries.project_milestone(project.id, milestone_id)
    if milestone is None:
        abort(404)
    return project, milestone


def _perform(action: str, milestone: Milestone, form, today) -> None:
    version = form.version_number()
    if action == "start":
        lifecycle.start(milestone, accepted_on=form.accepted_on.data, today=today, version=version,
                        parallel_reason=form.parallel_reason.data)
    elif action == "extend":
        plan_changes.extend(milestone, workdays=form.extension_workdays.data,
                            document_no=form.extension_doc_no.data,
                            approved_on=form.extension_approved_on.data, today=today,
                            version=version)
    elif action == "pause":
        lifecycle.pause(milestone, paused_on=form.paused_on.data, reason_code=form.reason_code.data,
                        document_ref=form.document_ref.data, note=form.note.data, today=today,
                        version=version, actor_id=current_user.id)
    elif action == "resume":
        lifecycle.resume(milestone, resumed_on=form.resumed_on.data, today=today, version=version)
    elif action == "complete":
        lifecycle.complete(milestone, completed_on=form.completed_on.data, today=today,
                           approval_doc_no=form.approval_doc_no.data,
                           issuing_department=form.issuing_department.data, version=version,
                           actor_id=current_user.id)
    elif action == "waive":
        lifecycle.waive(milestone, reason=form.reason.data, today=today, version=version,
                        actor_id=current_user.id)
    else:
        lifecycle.reopen(milestone, reason=form.reason.data, today=today, version=version)


@bp.route("/projects/<int:project_id>/milestones/<int:milestone_id>/<action>",
          methods=["GET", "POST"])
@login_required
def act(project_id: int, milestone_id: int, action: str):
    if action not in ACTION_FORMS:
        abort(404)
    project, milestone = _milestone_or_404(project_id, milestone_id)
    require(queries.ACTION_PERMISSION.get(action, Action.MILESTONE_UPDATE))
    today = local_today()
    form = ACTION_FORMS[action]()
    form_errors: list = []
    stale = False
    status = 200
    if request.method == "GET":
        form.version.data = milestone.version
        if action in DATE_FIELDS:
            form[DATE_FIELDS[action]].data = today
        if action not in queries.ACTIONS_BY_STATUS.get(milestone.status, ()):
            form_errors.append(lifecycle.REFUSED[action])
            status = 409
    elif form.validate_on_submit() and form.version_number() is None:
        stale, status = True, 409  # a form without the version it was read at: reload
    elif form.validate_on_submit():
        try:
            with transaction():
                _perform(action, milestone, form, today)
        except Conflict:
            stale, status = True, 409
        except DomainError as error:
            form_errors = apply_to_form(form, error)
            status = error.status
        else:
            flash(str(DONE[action]), "success")
            return redirect(url_for("projects.detail", project_id=project.id,
                                    _anchor=f"milestone-{milestone.id}"))
    else:
        status = 422
    calendar = work_calendar()
    state = sla_state(milestone, today, calendar, warning_workdays())
    return render_template(
        "milestones/action.html", project=project, milestone=milestone, form=form, action=action,
        waiting=queries.waiting_for(milestone) if action == "start" else [],
        title=TITLES[action], form_errors=form_errors, stale=stale, state=state,
        colour=STATE_COLOURS.get(state, "secondary"),
        refused=status == 409 and not stale and request.method == "GET",
    ), status


@bp.route("/projects/<int:project_id>/milestones/new", methods=["GET", "POST"])
@login_required
def new(project_id: int):
    project = get_project_or_404(current_user, project_id)
    require(Action.MILESTONE_UPDATE)
    form = CustomMilestoneForm()
    form_errors: list = []
    status = 200
    if form.validate_on_submit():
        try:
            with transaction():
                milestone = lifecycle.add_custom(
                    project, name=form.name.data, stage=form.stage.data,
                    limit_value=form.limit_value.data, limit_unit=form.limit_unit.data,
                    department=form.department.data, statutory_value=form.statutory_value.data,
                    statutory_unit=form.statutory_unit.data, required=form.required.data)
        except DomainError as error:
            form_errors = apply_to_form(form, error)
            status = 422
        else:
            flash(str(_l("Milestone added.")), "success")
            return redirect(url_for("projects.detail", project_id=project.id,
                                    _anchor=f"milestone-{milestone.id}"))
    elif request.method == "POST":
        status = 422
    return render_template("milestones/new.html", project=project, form=form,
                           form_errors=form_errors), status


@bp.route("/milestones/calendar/import", methods=["GET", "POST"])
@login_required
def calendar_import():
    require(Action.ADMIN)
    form = ScheduleImportForm()
    status = 200
    form_errors: list = []
    if form.validate_on_submit():
        upload = form.file.data
        try:
            with transaction():
                result = import_schedule(decode(upload.read()), form.year.data,
                                         actor_id=current_user.id, source=upload.filename or None)
        except Conflict:
            form_errors.append(_l("A milestone changed while its deadline was being recomputed; nothing was saved. Import the file again."))
            status = 409
        except DomainError as error:
            form_errors = apply_to_form(form, error)
            status = 422
        else:
            flash(str(_l("The %(year)d schedule is loaded: %(off)d days off, %(work)d working days; "
                         "%(changed)d of %(open)d open deadlines changed.",
                         year=result.year, off=result.days_off, work=result.working_days,
                         changed=result.recompute.changed, open=result.recompute.open)), "success")
            return redirect(url_for("milestones.calendar_import"))
    elif request.method == "POST":
        status = 422
    years = queries.published_years()
    bundled = official_years()
    return render_template("milestones/calendar_import.html", form=form, years=years,
                           bundled=(bundled.start, bundled.stop - 1),
                           form_errors=form_errors), status


# -- dependencies between a project's approvals (managers) ------------------------------------

@bp.route("/projects/<int:project_id>/plan/dependencies", methods=["GET", "POST"])
@login_required
def dependencies(project_id: int):
    project = get_project_or_404(current_user, project_id)
    require(Action.PLAN_EDIT)
    plan = queries.plan(project.id)
    form = DependencyForm()
    form.set_plan(plan)
    form_errors: list = []
    status = 200
    if form.validate_on_submit():
        by_id = {str(m.id): m for m in plan}
        try:
            with transaction():
                plan_changes.add_dependency(by_id[form.milestone_id.data],
                                            by_id.get(form.requires_id.data),
                                            reason=form.reason.data, actor_id=current_user.id)
        except DomainError as error:
            form_errors = apply_to_form(form, error)
            status = 422
        else:
            flash(str(_l("The dependency is added; the forecast is updated.")), "success")
            return redirect(url_for("milestones.dependencies", project_id=project.id))
    elif request.method == "POST":
        status = 422
    return render_template("milestones/dependencies.html", project=project, form=form,
                           rows=queries.dependency_rows(project.id), form_errors=form_errors,
                           remove_form=ReasonForm(prefix="remove")), status


@bp.post("/projects/<int:project_id>/plan/dependencies/<int:dependency_id>/remove")
@login_required
def remove_dependency(project_id: int, dependency_id: int):
    project = get_project_or_404(current_user, project_id)
    require(Action.PLAN_EDIT)
    return _remove_with_reason(project, queries.project_dependency(project.id, dependency_id),
                               plan_changes.remove_dependency, "milestones.dependencies",
                               _l("The dependency is removed; the forecast is updated."))


def _remove_with_reason(project, record, remove, page: str, done):
    """Remove a record of the project's plan with the reason the manager gave (or 404)."""
    if record is None:
        abort(404)
    form = ReasonForm(prefix="remove")
    if not form.validate_on_submit():
        flash(str(_l("Give the reason for the change.")), "danger")
        return redirect(url_for(page, project_id=project.id)), 303
    with transaction():
        remove(record, reason=form.reason.data)
    flash(str(done), "success")
    return redirect(url_for(page, project_id=project.id))


# -- approvals handled jointly (联合办理, managers) -------------------------------------------

def _joint_page(project, *, form=None, form_errors=(), status=200):
    plan = queries.plan(project.id)
    form = form or JointForm(formdata=None)
    form.set_plan(plan)
    rows = joint_rows(queries.project_joints(project.id), plan, local_today(), work_calendar())
    return render_template("milestones/joint.html", project=project, form=form, rows=rows,
                           form_errors=list(form_errors),
                           remove_form=ReasonForm(prefix="remove")), status


@bp.route("/projects/<int:project_id>/plan/joint", methods=["GET", "POST"])
@login_required
def joint(project_id: int):
    project = get_project_or_404(current_user, project_id)
    require(Action.PLAN_EDIT)
    if request.method == "GET":
        return _joint_page(project)
    form = JointForm()
    plan = queries.plan(project.id)
    form.set_plan(plan)
    if not form.validate_on_submit():
        return _joint_page(project, form=form, status=422)
    by_id = {str(m.id): m for m in plan}
    try:
        with transaction():
            plan_changes.create_joint(
                project.id, [by_id[i] for i in form.milestone_ids.data if i in by_id],
                name=form.name.data, reason=form.reason.data, today=local_today(),
                calendar=work_calendar(), actor_id=current_user.id)
    except DomainError as error:
        return _joint_page(project, form=form, form_errors=apply_to_form(form, error),
                           status=error.status)
    flash(str(_l("The approvals are handled jointly: all are decided within 45 working days "
                 "of the first acceptance.")), "success")
    return redirect(url_for("milestones.joint", project_id=project.id))


@bp.route("/projects/<int:project_id>/plan/joint/<int:joint_id>/extend",
          methods=["GET", "POST"])
@login_required
def extend_joint(project_id: int, joint_id: int):
    project = get_project_or_404(current_user, project_id)
    require(Action.PLAN_EDIT)
    joint = queries.project_joint(project.id, joint_id)
    if joint is None:
        abort(404)
    today = local_today()
    form = ExtendForm()
    errors: list = []
    status = 200
    if request.method == "GET":
        form.version.data = joint.version
        form.extension_approved_on.data = today
    elif form.validate_on_submit() and form.version_number() is None:
        errors, status = [lifecycle.STALE], 409
    elif form.validate_on_submit():
        try:
            with transaction():
                plan_changes.extend_joint(
                    joint, workdays=form.extension_workdays.data,
                    document_no=form.extension_doc_no.data,
                    approved_on=form.extension_approved_on.data, today=today,
                    calendar=work_calendar(), version=form.version_number())
        except Conflict:
            errors, status = [lifecycle.STALE], 409
        except DomainError as error:
            errors, status = apply_to_form(form, error), error.status
        else:
            flash(str(_l("The extension is recorded: the deadline moved.")), "success")
            return redirect(url_for("milestones.joint", project_id=project.id,
                                    _anchor=f"joint-{joint.id}"))
        joint = queries.project_joint(project.id, joint_id)  # removed meanwhile?
        if joint is None:
            abort(404)
    else:
        status = 422
    plan = queries.plan(project.id)
    (row,) = joint_rows([joint], plan, today, work_calendar())
    return render_template("milestones/joint_extend.html", project=project, row=row, form=form,
                           form_errors=errors, joint_extension=JOINT_EXTENSION), status


@bp.post("/projects/<int:project_id>/plan/joint/<int:joint_id>/remove")
@login_required
def remove_joint(project_id: int, joint_id: int):
    project = get_project_or_404(current_user, project_id)
    require(Action.PLAN_EDIT)
    return _remove_with_reason(project, queries.project_joint(project.id, joint_id),
                               plan_changes.remove_joint, "milestones.joint",
                               _l("The approvals are handled separately again."))


# -- the deadline calendar feed --------------------------------------------------------------

def _feed_limit() -> str:
    return current_app.config["RATELIMIT_PORTAL"]


def _feed_limit_exempt() -> bool:
    return not current_app.config["RATELIMIT_ENABLED"]


@bp.get("/calendar/<token>.ics")
@limiter.limit(_feed_limit, exempt_when=_feed_limit_exempt)
def calendar_feed(token: str):
    """A user's running approvals' due dates as an iCalendar feed, opened by the secret
    address on their profile page (calendar apps send no cookie)."""
    user = auth_services.calendar_feed_user(token, current_app.config["SECRET_KEY"])
    if user is None:
        abort(404)
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        items = [ics.FeedItem(r.id, r.name, r.project_id, r.project_name, r.park_name, r.due_on,
                              bool(r.due_provisional or r.status == "paused"),
                              f"{base}/projects/{r.project_id}")
                 for r in queries.feed_rows(user, local_today())]
        body = ics.build(items, title=_("Approval deadlines · %(name)s", name=user.display_name),
                         provisional_mark=_("[provisional]"),
                         host=urlsplit(base).hostname or "daiban", stamp=utcnow())
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="daiban.ics"'
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
