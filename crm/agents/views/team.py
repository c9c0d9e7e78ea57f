"""A project's service team: the project-page panel (current team, forms for those who may
assign, full history) and the routes behind its forms (on the agents blueprint)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from crm import labels
from crm.agents import queries
from crm.agents.forms import ActionForm, AssignForm, EndHelperForm, HelperForm
from crm.agents.queries import CONSULTANT, HELPER, LEAD_AGENT, PRINCIPAL_ROLES, loads, roster_ids
from crm.agents.services import staffing as services
from crm.agents.views import bp
from crm.agents.views.roster import show_errors
from crm.auth.permissions import Action, can, require
from crm.auth.scope import get_project_or_404
from crm.errors import DomainError
from crm.i18n import today
from crm.projects.models import ProjectStatus
from crm.transaction import transaction

ROLE_ORDER = {CONSULTANT: 0, LEAD_AGENT: 1, HELPER: 2}


def _choices(people, load, kinds) -> list[SelectChoice]:
    """Active people of the given kinds, grouped by kind, with load and availability."""
    day = today()
    options = [SelectChoice("", _("— choose —"))]
    for kind in kinds:
        group = labels.label("staff_kind", kind)
        for person in people:
            if person.kind != kind or not person.active:
                continue
            used = load.get(person.id, 0)
            text = f"{person.name} · {used}/{person.capacity}"
            if person.on_leave(day):
                text += " · " + _("on leave until %(date)s", date=person.on_leave_until.isoformat())
            elif used >= person.capacity:
                text += " · " + _("at capacity")
            options.append(SelectChoice(str(person.id), text, optgroup=group))
    return options


def team_context(project, user, *, assign_form=None, helper_form=None, end_form=None) -> dict:
    """What the team panel shows: three queries (history; roster and loads when the user may
    assign)."""
    rows = queries.history(project.id)
    current = sorted((a for a in rows if a.is_active), key=lambda a: (ROLE_ORDER[a.role], a.started_at))
    held = {a.role for a in current}
    context = {
        "project": project,
        "current": current,
        "history": rows,
        "vacant": [r for r in PRINCIPAL_ROLES if r not in held],
        "can_assign": can(user, Action.ASSIGN) and project.status != ProjectStatus.DROPPED.value,
    }
    if context["can_assign"]:
        people = queries.park_roster(project.park_id)
        load = loads(roster_ids(project.park_id))
        assign_form = assign_form or AssignForm(formdata=None)
        assign_form.staff_id.choices = _choices(people, load, ("consultant", "agent"))
        helper_form = helper_form or HelperForm(formdata=None)
        helper_form.staff_id.choices = _choices(people, load, ("agent",))
        context.update(assign_form=assign_form, helper_form=helper_form,
                       end_form=end_form or EndHelperForm(formdata=None), action_form=ActionForm(formdata=None))
    return context


def _project(project_id: int, action: Action | None = Action.ASSIGN):
    project = get_project_or_404(current_user, project_id)  # out of scope: 404
    if action is not None:
        require(action)  # may see, may not assign: 403
    return project


def _render(project, status=200, **forms):
    return render_template("agents/team.html", project=project,
                           ctx=team_context(project, current_user, **forms)), status


def _submit(project, form, form_name: str, change):
    """Validate ``form``, run ``change(form)`` (a service call returning the success message)
    as one unit of work and go back to the project; on refusal show the team page with the
    errors."""
    if form.validate_on_submit():
        try:
            with transaction():
                message = change(form)
        except DomainError as error:
            show_errors(form, error)
        else:
            flash(message, "success")
            return redirect(url_for("projects.detail", project_id=project.id) + "#team")
    return _render(project, **{form_name: form})


@bp.get("/projects/<int:project_id>/team")
@login_required
def team(project_id: int):
    return _render(_project(project_id, None))


@bp.post("/projects/<int:project_id>/team/assign")
@login_required
def team_assign(project_id: int):
    project = _project(project_id)

    def change(form):
        made = services.assign(project, form.role.data, form.staff_id.data, actor_id=current_user.id,
                               reason=form.reason.data, handover_note=form.handover_note.data,
                               force=form.force.data)
        return _now_holds(made.staff, made.role)

    return _submit(project, AssignForm(), "assign_form", change)


@bp.post("/projects/<int:project_id>/team/helpers")
@login_required
def team_add_helper(project_id: int):
    project = _project(project_id)

    def change(form):
        made = services.add_helper(project, form.staff_id.data, actor_id=current_user.id,
                                   reason=form.reason.data, force=form.force.data)
        return _("%(name)s now helps on this project.", name=made.staff.name)

    return _submit(project, HelperForm(), "helper_form", change)


@bp.post("/projects/<int:project_id>/team/helpers/end")
@login_required
def team_end_helper(project_id: int):
    project = _project(project_id)

    def change(form):
        ended = services.end_helper(project, form.assignment_id.data, actor_id=current_user.id,
                                    reason=form.reason.data)
        return _("%(name)s no longer helps on this project.", name=ended.staff.name)

    return _submit(project, EndHelperForm(), "end_form", change)


def _now_holds(staff, role: str) -> str:
    return _("%(name)s is now the %(role)s.", name=staff.name,
             role=labels.label("assignment_role", role))


@bp.post("/projects/<int:project_id>/team/auto")
@login_required
def team_auto(project_id: int):
    project = _project(project_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        with transaction():
            result = services.auto_assign(project, current_user.id)
    except DomainError as error:
        show_errors(ActionForm(formdata=None), error)
        return redirect(url_for("agents.team", project_id=project.id))
    for role, person in result.assigned.items():
        flash(_now_holds(person, role), "success")
    for role in result.unassigned:
        flash(_("Nobody is eligible as %(role)s; the project waits in the unassigned queue.",
                role=labels.label("assignment_role", role)), "warning")
    if not result.assigned and not result.unassigned:
        flash(_("The project already has a chief consultant and a lead agent."), "info")
    return redirect(url_for("projects.detail", project_id=project.id) + "#team")
