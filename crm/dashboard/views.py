"""Dashboards: a park's (park managers; admins and leaders pick any park), the city's
(leadership), and the drill-down lists behind their figures.

Charts are plain JSON computed here: ``{"kind": "bar" | "line" | "funnel", "categories":
[...], "series": [{"name": ..., "data": [...]}]}``; static/js/js turns it into ECharts
options.  The same numbers are in the page as a table for readers without JavaScript.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from crm.auth.permissions import Action, require
from crm.auth.scope import get_park_or_404, park_condition, sees_all, visible_parks
from crm.dashboard import services
from crm.dashboard.queries import boards, lists
from crm.dashboard.queries.figures import PERIODS, ParkFigures, trend_months
from crm.i18n import today
from crm.labels import label
from crm.milestones.models import Milestone
from crm.milestones.queries import warning_workdays, work_calendar
from crm.projects.models import INDUSTRIES, ProgressLog, Stage
from crm.db import parse_id
from crm.projects.queries import open_blocker_condition
from crm.supervision.queries import open_by_department, problem_condition
from crm.transaction import transaction

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

DRILL_PAGE = 50


@bp.get("/")
@login_required
def index():
    """The viewer's dashboard: the city for leadership, their first park for a manager;
    ``?park=ID`` (the park picker) goes to that park's."""
    chosen = parse_id(request.args.get("park"))
    if chosen is not None:
        return redirect(url_for(".park", park_id=chosen))
    if sees_all(current_user):
        return redirect(url_for(".city"))
    require(Action.PARK_DASHBOARD)
    parks = visible_parks(current_user)
    if not parks:
        abort(404)
    return redirect(url_for(".park", park_id=parks[0].id))


@bp.get("/parks/<int:park_id>")
@login_required
def park(park_id: int):
    park = get_park_or_404(current_user, park_id)
    require(Action.PARK_DASHBOARD)
    filters = boards.parse_filters(request.args)
    day, calendar = today(), work_calendar()
    board = boards.park_dashboard(park.id, filters, day, calendar)
    chart_data = {
        "stages": stage_funnel(board.figures),
        "milestones": milestone_states(board.figures),
        "trend": monthly_trend(board.figures, board.months),
    }
    return render_template(
        "dashboard/park.html", park=park, parks=visible_parks(current_user), board=board,
        f=board.figures, filters=filters, charts=chart_data, stages=list(Stage),
        industries=INDUSTRIES, periods=PERIODS, today=day)


@bp.get("/city")
@login_required
def city():
    require(Action.CITY_DASHBOARD)
    day, calendar = today(), work_calendar()
    with transaction():
        figures, refreshing = services.city_figures(park_condition(current_user), day, calendar)
    sort = request.args.get("sort", "name")
    sort = sort if sort in boards.CITY_SORTS else "name"
    descending = request.args.get("dir", "asc" if sort == "name" else "desc") == "desc"
    parks = boards.sort_parks(figures.parks, sort, descending)
    months = trend_months(day)
    chart_data = {
        "stages": stage_funnel(figures.total),
        "compliance": park_compliance(figures.parks),
        "trend": monthly_trend(figures.total, months),
    }
    return render_template(
        "dashboard/city.html", city=figures, f=figures.total, parks=parks, sort=sort,
        descending=descending, charts=chart_data, stages=list(Stage), months=months,
        lists=boards.city_lists(lambda column: park_condition(current_user, column), day,
                                  calendar),
        departments=open_by_department(problem_condition(current_user), day, calendar)[:10],
        today=day, refreshing=refreshing)


@bp.post("/city/refresh")
@login_required
def refresh_city():
    require(Action.CITY_DASHBOARD)
    with transaction():
        services.refresh(today(), work_calendar())
    flash(_("The park figures were recomputed just now."), "success")
    return redirect(url_for(".city"), code=303)


def _drill_scope():
    """The park of a drill-down list (None: every park; leadership only).  A park outside
    the viewer's scope is 404 before the role is checked (403), as everywhere."""
    raw = request.args.get("park")
    if raw in (None, ""):
        require(Action.PARK_DASHBOARD)
        if not sees_all(current_user):
            abort(404)
        return None
    park_id = parse_id(raw)
    if park_id is None:
        abort(404)
    park = get_park_or_404(current_user, park_id)
    require(Action.PARK_DASHBOARD)
    return park


def _page() -> int:
    return parse_id(request.args.get("page")) or 1


@bp.get("/milestones")
@login_required
def milestones():
    park = _drill_scope()
    filters = boards.parse_filters(request.args)
    state = request.args.get("state", "overdue")
    if state not in lists.MILESTONE_STATES:
        filters.cleared.append("state")
        state = "overdue"
    day, calendar = today(), work_calendar()
    slice_ = filters.slice(park.id if park else None)
    condition = (lists.milestone_state_condition(state, day, calendar, filters.period)
                 & park_condition(current_user, Milestone.park_id))
    page = _page()
    rows = lists.milestones(condition, state, today=day, calendar=calendar, limit=DRILL_PAGE,
                            offset=(page - 1) * DRILL_PAGE, slice_=slice_)
    total = lists.count(Milestone, condition, slice_)
    return render_template(
        "dashboard/milestones.html", park=park, state=state, states=lists.MILESTONE_STATES,
        rows=rows, total=total, page=page, page_size=DRILL_PAGE, filters=filters, today=day)


@bp.get("/blockers")
@login_required
def blockers():
    park = _drill_scope()
    filters = boards.parse_filters(request.args)
    slice_ = filters.slice(park.id if park else None)
    condition = park_condition(current_user, ProgressLog.park_id)
    page = _page()
    rows = lists.open_blockers(condition, limit=DRILL_PAGE, offset=(page - 1) * DRILL_PAGE,
                               slice_=slice_)
    total = lists.count(ProgressLog, condition & open_blocker_condition(), slice_)
    return render_template(
        "dashboard/blockers.html", park=park, rows=rows, total=total, page=page,
        page_size=DRILL_PAGE, filters=filters, today=today())


# -- chart data ------------------------------------------------------------------------------

def stage_funnel(figures: ParkFigures) -> dict:
    """Active projects (not on hold, not dropped) per stage: the last stage holds the approved
    ones, which are not in service any more."""
    return {
        "kind": "funnel",
        "categories": [label("stage", s.value) for s in Stage],
        "series": [{"name": _("Projects"),
                    "data": [figures.stages.get(s.value, [0, 0])[0] for s in Stage]}],
    }


def milestone_states(figures: ParkFigures) -> dict:
    return {
        "kind": "bar",
        "categories": [_("Overdue"), ngettext("Due within %(num)d working day",
                                              "Due within %(num)d working days",
                                              warning_workdays()),
                       _("On track"), _("Paused")],
        "series": [{"name": _("Running milestones"),
                    "data": [figures.overdue, figures.due_soon, figures.on_track,
                             figures.paused]}],
    }


def monthly_trend(figures: ParkFigures, months: list[str]) -> dict:
    values = [figures.months.get(m, [0, 0, 0]) for m in months]
    return {
        "kind": "line",
        "categories": months,
        "series": [{"name": _("New projects"), "data": [v[0] for v in values]},
                   {"name": _("Milestones met"), "data": [v[1] for v in values]},
                   {"name": _("Milestones missed"), "data": [v[2] for v in values]}],
    }


def park_compliance(parks) -> dict:
    """Compliance of the parks that finished milestones in the period (a park with none has
    no rate: it is left out, not drawn as an empty bar that reads as 0 %)."""
    measured = [p for p in parks if p.figures.compliance_pct is not None]
    return {
        "kind": "bar",
        "categories": [p.short_name for p in measured],
        "series": [{"name": _("SLA compliance (%)"),
                    "data": [round(p.figures.compliance_pct, 1) for p in measured]}],
        "left_out": len(parks) - len(measured),
    }
