"""Park staff pages: roster maintenance, staff records, hand-over, workload, unassigned queue.

Every page finds its park through the scope helper (another park answers 404) and checks the
role (agents, consultants: 403; leaders read but do not change: 403 on POST).
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user, login_required

from crm.agents import queries
from crm.agents.forms import ActionForm, AddToParkForm, HandoverForm, StaffEditForm, StaffForm
from crm.agents.models import Staff
from crm.agents.queries import KIND_OF_ROLE, loads, roster_ids
from crm.agents.services import roster
from crm.agents.services.staffing import auto_assign_many
from crm.agents.views import bp
from crm.auth.permissions import Action, can, require
from crm.auth.scope import get_park_or_404, project_condition, visible_parks
from crm.db import parse_id
from crm.errors import Conflict, DomainError, apply_to_form
from crm.i18n import today
from crm.transaction import transaction


def _park(park_id: int, action: Action = Action.ROSTER_VIEW):
    park = get_park_or_404(current_user, park_id)  # out of scope: 404
    require(action)  # a role that may not: 403
    return park


def _park_staff(park, staff_id: int) -> Staff:
    staff = queries.park_staff_member(park.id, staff_id)
    if staff is None:
        abort(404)
    return staff


def show_errors(form, error: DomainError) -> None:
    """The messages next to their fields; the others (and conflicts) as a flash message."""
    if isinstance(error, Conflict):
        flash(_("Someone changed this team at the same moment. Nothing was saved; please try again."), "danger")
        return
    for message in apply_to_form(form, error):
        flash(str(message), "danger")


@bp.get("/parks/")
@login_required
def index():
    require(Action.ROSTER_VIEW)
    parks = visible_parks(current_user)
    if len(parks) == 1:  # a park manager of one park goes straight to its roster
        return redirect(url_for("agents.roster_page", park_id=parks[0].id))
    return render_template("agents/parks.html", parks=parks,
                           figures=queries.park_figures([p.id for p in parks]))


# -- roster ------------------------------------------------------------------------------------

@bp.get("/parks/<int:park_id>/roster")
@login_required
def roster_page(park_id: int):
    park = _park(park_id)
    return _render_roster(park, AddToParkForm())


def _render_roster(park, add_form, status: int = 200):
    people = queries.park_roster(park.id)
    load = loads(roster_ids(park.id))
    q = (request.values.get("q") or "").strip()[:50]
    found = []
    if q and can(current_user, Action.ROSTER_EDIT):
        found = queries.roster_candidates(park.id, q, anyone=can(current_user, Action.ADMIN))
    return render_template(
        "agents/roster.html", park=park, people=people, load=load, q=q, found=found,
        add_form=add_form, today=today(), can_edit=can(current_user, Action.ROSTER_EDIT),
        unassigned=queries.unassigned_count(park.id), tab="roster"), status


@bp.post("/parks/<int:park_id>/roster/add")
@login_required
def roster_add(park_id: int):
    park = _park(park_id, Action.ROSTER_EDIT)
    form = AddToParkForm()
    if form.validate_on_submit():
        try:
            with transaction():
                staff = roster.add_to_park(park, form.staff_id.data,
                                           anyone=can(current_user, Action.ADMIN))
        except DomainError as error:
            show_errors(form, error)
            return _render_roster(park, form, error.status)
        else:
            flash(_("%(name)s now serves %(park)s.", name=staff.name, park=park.name), "success")
            return redirect(url_for("agents.roster_page", park_id=park.id))
    return _render_roster(park, form)


@bp.route("/parks/<int:park_id>/roster/new", methods=["GET", "POST"])
@login_required
def staff_new(park_id: int):
    park = _park(park_id, Action.ROSTER_EDIT)
    form = StaffForm(capacity=8 if request.method == "GET" else None)
    if form.validate_on_submit():
        with transaction():
            staff = roster.create_staff(park, name=form.name.data, kind=form.kind.data,
                                        phone=form.phone.data, title=form.title.data,
                                        capacity=form.capacity.data)
        flash(_("%(name)s was added to the roster.", name=staff.name), "success")
        return redirect(url_for("agents.roster_page", park_id=park.id))
    return render_template("agents/staff_new.html", park=park, form=form)


@bp.route("/parks/<int:park_id>/staff/<int:staff_id>", methods=["GET", "POST"])
@login_required
def staff_edit(park_id: int, staff_id: int):
    park = _park(park_id)
    staff = _park_staff(park, staff_id)
    form = StaffEditForm(obj=staff)
    if request.method == "GET" and staff.on_leave_until and staff.on_leave_until < today():
        form.on_leave_until.data = None  # an ended leave is not shown (nor re-checked)
    may_edit = _may_edit(staff)
    if request.method == "POST":
        require(Action.ROSTER_EDIT)
        if not may_edit:
            abort(403)  # they also serve a park outside the manager's: an admin's change
        if form.validate():
            with transaction():
                unavailable = roster.update_staff(
                    staff, capacity=form.capacity.data, on_leave_until=form.on_leave_until.data,
                    active=form.active.data, phone=form.phone.data, title=form.title.data,
                    actor_id=current_user.id)
            flash(_("Saved."), "success")
            if unavailable and queries.open_assignment_count(staff.id):
                flash(_("%(name)s is no longer available: hand their projects over.", name=staff.name), "warning")
                return redirect(url_for("agents.handover", park_id=park.id, staff_id=staff.id))
            return redirect(url_for("agents.staff_edit", park_id=park.id, staff_id=staff.id))
    open_rows = queries.open_assignments(staff.id, project_condition(current_user))
    return render_template("agents/staff_edit.html", park=park, staff=staff, form=form,
                           open_rows=open_rows, load=loads([staff.id]).get(staff.id, 0),
                           action_form=ActionForm(), can_edit=may_edit, today=today(),
                           can_remove=can(current_user, Action.ROSTER_EDIT))


def _may_edit(staff: Staff) -> bool:
    """A staff record is changed by admins, or by a park manager whose parks include every
    park the person serves (a shared person's phone is printed on other parks' orders)."""
    if not can(current_user, Action.ROSTER_EDIT):
        return False
    return can(current_user, Action.ADMIN) or queries.serves_only(
        staff.id, [p.id for p in visible_parks(current_user)])


@bp.post("/parks/<int:park_id>/staff/<int:staff_id>/remove")
@login_required
def staff_remove(park_id: int, staff_id: int):
    park = _park(park_id, Action.ROSTER_EDIT)
    staff = _park_staff(park, staff_id)
    if ActionForm().validate_on_submit():
        try:
            with transaction():
                roster.remove_from_park(park, staff)
        except DomainError as error:
            for message in error.messages:
                flash(str(message), "danger")
            return redirect(url_for("agents.staff_edit", park_id=park.id, staff_id=staff_id))
        flash(_("%(name)s no longer serves %(park)s.", name=staff.name, park=park.name), "success")
    return redirect(url_for("agents.roster_page", park_id=park.id))


# -- hand-over ---------------------------------------------------------------------------------

@bp.route("/parks/<int:park_id>/staff/<int:staff_id>/handover", methods=["GET", "POST"])
@login_required
def handover(park_id: int, staff_id: int):
    park = _park(park_id)
    staff = _park_staff(park, staff_id)
    rows = queries.open_assignments(staff.id, project_condition(current_user))
    form = HandoverForm()
    choices = {a.id: request.form.get(f"choice_{a.id}", roster.AUTO) for a in rows}
    row_errors: dict[int, str] = {}
    if request.method == "POST":
        require(Action.ROSTER_EDIT)
        if form.validate():
            try:
                with transaction():
                    outcomes = roster.hand_over(
                        staff, rows, choices, actor_id=current_user.id, reason=form.reason.data,
                        handover_note=form.handover_note.data, force=form.force.data)
            except Conflict as error:
                show_errors(form, error)
                return redirect(url_for("agents.handover", park_id=park.id, staff_id=staff.id))
            except DomainError as error:
                for name, messages in error.errors.items():
                    if name and name.startswith("choice_"):
                        row_errors[int(name.removeprefix("choice_"))] = messages[0]
                show_errors(form, DomainError(errors={
                    k: v for k, v in error.errors.items() if not (k and k.startswith("choice_"))}))
                rows = queries.open_assignments(staff.id, project_condition(current_user))
            else:
                _flash_handover(outcomes)
                return redirect(url_for("agents.handover", park_id=park.id, staff_id=staff.id))
    elsewhere = queries.open_assignment_count(staff.id) - len(rows)
    candidates = queries.rosters({a.project.park_id for a in rows})
    people = {p.id for group in candidates.values() for p in group}
    return render_template(
        "agents/handover.html", park=park, staff=staff, rows=rows, form=form, choices=choices,
        row_errors=row_errors, elsewhere=elsewhere, candidates=candidates,
        load=loads(people) if people else {}, today=today(), kind_of_role=KIND_OF_ROLE,
        can_edit=can(current_user, Action.ROSTER_EDIT))


def _flash_handover(outcomes) -> None:
    moved = sum(1 for o in outcomes if o.successor is not None)
    vacant = [o for o in outcomes if o.successor is None and o.role != "helper"]
    ended = sum(1 for o in outcomes if o.successor is None and o.role == "helper")
    flash(_("Handed over: %(moved)d reassigned, %(ended)d helper roles ended.", moved=moved, ended=ended),
          "success")
    if vacant:
        flash(ngettext("%(num)d role has nobody eligible; the project waits in the unassigned queue.",
                       "%(num)d roles have nobody eligible; the projects wait in the unassigned queue.",
                       len(vacant)), "warning")


# -- workload and unassigned queue -------------------------------------------------------------

@bp.get("/parks/<int:park_id>/workload")
@login_required
def workload(park_id: int):
    park = _park(park_id)
    sort = request.args.get("sort", "ratio")
    if sort not in queries.SORT_KEYS:
        sort = "ratio"
    descending = request.args.get("dir", "desc") != "asc"
    rows = queries.workload(park.id, today(), sort, descending)
    return render_template("agents/workload.html", park=park, rows=rows, sort=sort,
                           descending=descending, tab="workload", today=today())


@bp.get("/parks/<int:park_id>/unassigned")
@login_required
def unassigned(park_id: int):
    park = _park(park_id)
    size = current_app.config["PAGE_SIZE"]
    total = queries.unassigned_count(park.id)
    pages = max((total + size - 1) // size, 1)
    page = min(parse_id(request.args.get("page")) or 1, pages)
    rows = queries.unassigned_page(park.id, size, page)
    return render_template("agents/unassigned.html", park=park, rows=rows, total=total, page=page,
                           pages=pages, form=ActionForm(), tab="unassigned",
                           can_assign=can(current_user, Action.ASSIGN))


@bp.post("/parks/<int:park_id>/unassigned/auto")
@login_required
def unassigned_auto(park_id: int):
    park = _park(park_id, Action.ASSIGN)
    if not ActionForm().validate_on_submit():
        abort(400)
    raw = request.form.get("project_id")
    project_id = parse_id(raw)
    if raw and project_id is None:
        abort(404)  # names no project: never "all of them"
    projects = queries.unassigned_projects(park.id, project_id)
    try:
        with transaction():
            results = auto_assign_many(projects, current_user.id)
    except Conflict as error:
        show_errors(ActionForm(formdata=None), error)
        return redirect(url_for("agents.unassigned", park_id=park.id))
    done = sum(1 for r in results if r.complete)
    flash(_("Auto-assignment: %(done)d of %(total)d projects now have a full team.",
            done=done, total=len(results)), "success" if done == len(results) else "warning")
    return redirect(url_for("agents.unassigned", park_id=park.id))

