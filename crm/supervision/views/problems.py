"""Problems and meetings: the list with the departments that hold up most projects, raising a
blocker, a problem's page (resolve it), meetings (record one, read one)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from crm.auth.permissions import Action, can, require
from crm.auth.scope import sees_all, visible_parks
from crm.errors import DomainError, apply_to_form
from crm.i18n import today
from crm.milestones.queries import work_calendar
from crm.projects.queries import visible_log
from crm.supervision import queries
from crm.supervision.forms import (
    MeetingForm, ProblemEditForm, RaiseProblemForm, ResolveProblemForm,
)
from crm.supervision.models import ProblemLevel
from crm.supervision.services import problems as services
from crm.supervision.views import bp
from crm.db import parse_id
from crm.supervision.views.rounds import CITY, _int_arg, _page
from crm.transaction import transaction


@bp.get("/problems")
@login_required
def problems():
    status = request.args.get("status", "open")
    status = status if status in ("open", "resolved", "all") else "open"
    department = request.args.get("department") or None
    level = request.args.get("level") if request.args.get("level") in services.LEVELS else None
    page = _page()
    listed, more = queries.problems_page(current_user, status=status, department=department,
                                         level=level, park_id=_int_arg("park"), page=page)
    day = today()
    return render_template(
        "supervision/problems.html", problems=listed, more=more, page=page, status=status,
        department=department, level=level, today=day,
        departments=queries.open_by_department(queries.problem_condition(current_user), day,
                                               work_calendar()),
        department_names=queries.departments())


@bp.get("/problems/<int:problem_id>")
@login_required
def problem(problem_id: int):
    found = queries.get_problem_or_404(current_user, problem_id)
    return _problem_page(found)


def _problem_page(found, form=None, edit_form=None, status: int = 200):
    day = today()
    may_manage = found.is_open and can(current_user, Action.PROBLEM_MANAGE)
    if edit_form is None and may_manage:
        edit_form = _edit_form(found, None)
    return render_template(
        "supervision/problem.html", problem=found, today=day,
        workdays_open=queries.workdays_open(found, day, work_calendar()), may_manage=may_manage,
        form=form or ResolveProblemForm(formdata=None, version=found.version),
        edit_form=edit_form), status


def _edit_form(found, formdata) -> ProblemEditForm:
    form = ProblemEditForm(formdata=formdata)
    form.department.choices = [(d, d) for d in queries.departments()]
    form.owner_id.choices = [("", "—")] + [(str(uid), name) for uid, name
                                           in queries.owner_choices(found.park_id)]
    if formdata is None:
        form.department.data = found.department
        form.owner_id.data = str(found.owner_id) if found.owner_id else ""
        form.due_on.data = found.due_on
        form.version.data = found.version
    return form


@bp.post("/problems/<int:problem_id>/edit")
@login_required
def edit_problem(problem_id: int):
    """Hand the problem to another department or owner, or move its due date."""
    found = queries.get_problem_or_404(current_user, problem_id)
    require(Action.PROBLEM_MANAGE)
    form = _edit_form(found, request.form)
    if not form.validate():
        return _problem_page(found, edit_form=form, status=422)
    try:
        with transaction():
            services.update_problem(found, department=form.department.data,
                                    owner_id=parse_id(form.owner_id.data),
                                    due_on=form.due_on.data,
                                    expected_version=parse_id(form.version.data), today=today())
    except DomainError as error:
        for message in apply_to_form(form, error):
            flash(str(message), "warning")
        return _problem_page(found, edit_form=form, status=error.status)
    flash(_("Problem updated."), "success")
    return redirect(url_for("supervision.problem", problem_id=problem_id), code=303)


@bp.post("/problems/<int:problem_id>/resolve")
@login_required
def resolve(problem_id: int):
    found = queries.get_problem_or_404(current_user, problem_id)
    require(Action.PROBLEM_MANAGE)
    form = ResolveProblemForm()
    if not form.validate():
        return _problem_page(found, form, status=422)
    try:
        with transaction():
            services.resolve(found, decision=form.decision.data, actor_id=current_user.id,
                             expected_version=parse_id(form.version.data))
    except DomainError as error:
        for message in apply_to_form(form, error):
            flash(str(message), "warning")
        return _problem_page(found, form, status=error.status)
    flash(_("Problem resolved; its blocker is closed with the decision."), "success")
    return redirect(url_for("supervision.problem", problem_id=problem_id), code=303)


@bp.route("/logs/<int:log_id>/raise", methods=["GET", "POST"])
@login_required
def raise_problem(log_id: int):
    """Take an open blocker to a department."""
    blocker = visible_log(current_user, log_id)
    if blocker is None or blocker.kind != "blocker":
        abort(404)
    require(Action.PROBLEM_RAISE)
    existing = queries.problem_of_blocker(blocker.id)
    if existing is not None:
        flash(_("This blocker was already raised as a problem."), "info")
        return redirect(url_for("supervision.problem", problem_id=existing), code=303)
    form = RaiseProblemForm(formdata=request.form if request.method == "POST" else None)
    form.department.choices = [("", "—")] + [(d, d) for d in queries.departments()]
    form.owner_id.choices = [("", "—")] + [(str(uid), name) for uid, name
                                           in queries.owner_choices(blocker.park_id)]
    if request.method == "GET":
        form.level.data = ProblemLevel.PARK.value
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                with transaction():
                    created = services.raise_problem(
                        blocker, department=form.department.data, level=form.level.data,
                        owner_id=parse_id(form.owner_id.data), due_days=form.due_days.data,
                        actor_id=current_user.id, today=today(), calendar=work_calendar())
            except DomainError as error:
                for message in apply_to_form(form, error):
                    flash(str(message), "warning")
            else:
                flash(_("Problem taken to %(department)s, due on %(due)s.",
                        department=created.department, due=created.due_on.isoformat()),
                      "success")
                return redirect(url_for("supervision.problem", problem_id=created.id), code=303)
        status = 422
    return render_template("supervision/raise.html", blocker=blocker, form=form), status


# -- meetings -------------------------------------------------------------------------------

@bp.get("/meetings")
@login_required
def meetings():
    page = _page()
    listed, more = queries.meetings_page(current_user, page)
    return render_template("supervision/meetings.html", meetings=listed, more=more, page=page,
                           may_record=can(current_user, Action.PROBLEM_MANAGE))


@bp.get("/meetings/<int:meeting_id>")
@login_required
def meeting(meeting_id: int):
    return render_template("supervision/meeting.html",
                           meeting=queries.get_meeting_or_404(current_user, meeting_id))


def meeting_form(formdata=None) -> MeetingForm:
    form = MeetingForm(formdata=formdata)
    form.park_id.choices = ([(CITY, _("The city"))] if sees_all(current_user) else []) + [
        (str(p.id), p.name) for p in visible_parks(current_user)]
    form.problem_ids.choices = queries.open_problem_choices(current_user, None)
    if formdata is None:
        form.held_on.data = today()
    return form


@bp.route("/meetings/new", methods=["GET", "POST"])
@login_required
def new_meeting():
    require(Action.PROBLEM_MANAGE)
    form = meeting_form(request.form if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.validate():
            park_id = None if form.park_id.data == CITY else parse_id(form.park_id.data)
            try:
                with transaction():
                    created = services.record_meeting(
                        user=current_user, park_id=park_id, held_on=form.held_on.data,
                        title=form.title.data, attendees=form.attendees.data,
                        decisions=form.decisions.data, problem_ids=form.problem_ids.data or [],
                        resolve_problems=form.resolve.data, today=today())
            except DomainError as error:
                for message in apply_to_form(form, error):
                    flash(str(message), "warning")
            else:
                flash(_("Meeting recorded."), "success")
                return redirect(url_for("supervision.meeting", meeting_id=created.id), code=303)
        status = 422
    return render_template("supervision/meeting_new.html", form=form), status
