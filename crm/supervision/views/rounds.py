"""Rounds: the list (and the reports one still owes), open a round, the round's page (progress
per park and per person, the reports, its documents), a project's report, close."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from crm.auth.permissions import Action, can, require
from crm.auth.scope import sees_all, visible_parks
from crm.db import parse_id
from crm.documents.queries import round_documents
from crm.errors import DomainError, apply_to_form
from crm.i18n import today
from crm.milestones.queries import work_calendar
from crm.supervision import queries
from crm.supervision.forms import CloseRoundForm, ReportForm, RoundForm
from crm.supervision.services import rounds as services
from crm.supervision.views import bp
from crm.transaction import transaction

CITY = "city"


def _int_arg(name: str) -> int | None:
    return parse_id(request.args.get(name, ""))


def _page() -> int:
    return max(_int_arg("page") or 1, 1)


@bp.get("/rounds")
@login_required
def rounds():
    page = _page()
    listed, more = queries.rounds_page(current_user, page)
    return render_template("supervision/rounds.html", rounds=listed, more=more, page=page,
                           owed=queries.owed_reports(current_user),
                           may_run=can(current_user, Action.ROUND_RUN))


def round_form(formdata=None) -> RoundForm:
    form = RoundForm(formdata=formdata)
    parks = [(str(p.id), p.name) for p in visible_parks(current_user)]
    form.park_id.choices = ([(CITY, _("Every park (the city)"))] if sees_all(current_user)
                            else []) + parks
    if formdata is None:
        day, calendar = today(), work_calendar()
        form.period_start.data = day.replace(day=1)
        form.period_end.data = day
        form.due_on.data = calendar.add_workdays(day, current_app.config["ROUND_DUE_WORKDAYS"])
        form.cadence.data = "monthly"
        form.title.data = _("%(year)s-%(month)02d monthly round", year=day.year, month=day.month)
    return form


@bp.route("/rounds/new", methods=["GET", "POST"])
@login_required
def new_round():
    require(Action.ROUND_RUN)
    form = round_form(request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate():
        park_id = None if form.park_id.data == CITY else int(form.park_id.data)
        try:
            with transaction():
                created = services.open_round(
                    user=current_user, title=form.title.data, cadence=form.cadence.data,
                    period_start=form.period_start.data, period_end=form.period_end.data,
                    due_on=form.due_on.data, park_id=park_id, stages=form.stages.data or (),
                    statuses=form.statuses.data or (), industries=form.industries.data or (),
                    today=today(), calendar=work_calendar())
        except DomainError as error:
            for message in apply_to_form(form, error):
                flash(str(message), "warning")
        else:
            if created.preparing:
                flash(_("Round opened for %(count)s projects: their reports are being prepared "
                        "and show here in a minute or two.", count=created.project_count),
                      "success")
            else:
                flash(_("Round opened: %(count)s projects owe a report by %(due)s.",
                        count=created.project_count, due=created.due_on.isoformat()), "success")
            return redirect(url_for("supervision.round_detail", round_id=created.id), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("supervision/round_new.html", form=form), status


@bp.get("/rounds/<int:round_id>")
@login_required
def round_detail(round_id: int):
    round_ = queries.get_round_or_404(current_user, round_id)
    state = request.args.get("state") if request.args.get("state") in queries.STATES else None
    park_id, page = _int_arg("park"), _page()
    by_park = queries.progress_by_park(current_user, round_)
    rows, more = queries.report_rows(current_user, round_, state=state, park_id=park_id,
                                     page=page)
    return render_template(
        "supervision/round.html", round=round_, by_park=by_park,
        total=queries.total_progress(by_park, None, _("Total")),
        by_person=queries.progress_by_person(current_user, round_), rows=rows, more=more,
        page=page, state=state, park_id=park_id,
        documents=round_documents(current_user, round_.id),
        may_close=(round_.is_open and not round_.preparing and can(current_user, Action.ROUND_RUN)
                   and queries.runs_round(current_user, round_)),
        close_form=CloseRoundForm(formdata=None, version=round_.version),
        may_report=round_.is_open and can(current_user, Action.ROUND_REPORT), today=today())


@bp.post("/rounds/<int:round_id>/close")
@login_required
def close_round(round_id: int):
    round_ = queries.get_round_or_404(current_user, round_id)
    require(Action.ROUND_RUN)
    if not queries.runs_round(current_user, round_):
        abort(403)
    form = CloseRoundForm()
    if not form.validate():
        abort(400)
    try:
        with transaction():
            services.close_round(round_, user=current_user,
                                 expected_version=parse_id(form.version.data))
    except DomainError as error:
        flash(str(error.message), "warning")
    else:
        flash(_("Round closed: its report and workbook are being generated."), "success")
    return redirect(url_for("supervision.round_detail", round_id=round_id), code=303)


@bp.route("/rounds/<int:round_id>/projects/<int:project_id>", methods=["GET", "POST"])
@login_required
def report(round_id: int, project_id: int):
    found = queries.get_report_or_404(current_user, round_id, project_id)
    may_fill = found.round.is_open and can(current_user, Action.ROUND_REPORT)
    if request.method == "POST" and not may_fill:
        if not can(current_user, Action.ROUND_REPORT):
            abort(403)
    form = ReportForm(formdata=request.form if request.method == "POST" else None,
                      obj=None if request.method == "POST" else found)
    form.problem_department.choices = [("", "—")] + [(d, d) for d in queries.departments()]
    if request.method == "GET":
        form.stage_reached.data = found.stage_reached or found.project.stage
        form.version.data = found.version
        part = found.enterprise_part
        if found.investment_completed is None and part is not None:
            form.investment_completed.data = part.investment_completed  # offered, not filed
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                with transaction():
                    services.submit_report(
                        found, user=current_user, progress=form.progress.data,
                        next_steps=form.next_steps.data,
                        investment_completed=form.investment_completed.data,
                        stage_reached=form.stage_reached.data,
                        problem_text=form.problem_text.data,
                        problem_department=form.problem_department.data or None,
                        problem_level=form.problem_level.data or "park",
                        expected_version=parse_id(form.version.data), today=today(),
                        calendar=work_calendar())
            except DomainError as error:
                field_names = {"department": "problem_department", "level": "problem_level"}
                for message in apply_to_form(form, error, field_names):
                    flash(str(message), "warning")
            else:
                flash(_("Report saved."), "success")
                return redirect(url_for("supervision.round_detail", round_id=round_id), code=303)
        status = 422
    return render_template("supervision/report.html", report=found, form=form,
                           may_fill=may_fill, previous=queries.previous_report(found),
                           so_far=queries.cumulative_investment(found.project_id,
                                                                excluding_report=found.id),
                           problems=queries.project_problems(found.project_id)), status
