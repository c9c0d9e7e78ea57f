"""Dashboard figures: one park's (live) and the city's (per-park rollups, at most a few
minutes old), the same numbers as the dashboards in the web UI."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from crm.api.core import api_user
from crm.api.projects import require
from crm.auth.permissions import Action
from crm.auth.scope import get_park_or_404, park_condition
from crm.dashboard import services
from crm.dashboard.queries import boards
from crm.dashboard.queries.boards import Filters
from crm.dashboard.queries.figures import DEFAULT_PERIOD, PERIODS, ParkFigures, compute, trend_months
from crm.i18n import today
from crm.milestones.queries import work_calendar
from crm.portal.models import DIMENSIONS
from crm.transaction import transaction
from crm.projects.models import INDUSTRIES, Stage

bp = Blueprint("api_dashboard", __name__, url_prefix="/api/v1/dashboard",
               description="Dashboard figures of a park and of the city.")


class StageFigureSchema(Schema):
    stage = fields.String(required=True)
    active_projects = fields.Integer(required=True, metadata={
        "description": "projects in service (active, not yet approved) at this stage"})
    investment = fields.Integer(required=True, metadata={"description": "万元"})


class StageDaysSchema(Schema):
    stage = fields.String(required=True)
    finished = fields.Integer(required=True)
    average_workdays_used = fields.Float(required=True, allow_none=True)
    average_workdays_committed = fields.Float(required=True, allow_none=True)


class MonthSchema(Schema):
    month = fields.String(required=True, metadata={"example": "2026-11"})
    new_projects = fields.Integer(required=True)
    met = fields.Integer(required=True)
    missed = fields.Integer(required=True)


class FiguresSchema(Schema):
    active_projects = fields.Integer(required=True, metadata={
        "description": "projects in service: active and not yet approved "
                       "(the project list's status=in_service)"})
    investment = fields.Integer(required=True,
                                metadata={"description": "of the projects in service, 万元"})
    approved_projects = fields.Integer(required=True, metadata={
        "description": "active projects whose approvals are all done"})
    new_this_month = fields.Integer(required=True)
    milestones_overdue = fields.Integer(required=True)
    milestones_due_soon = fields.Integer(required=True,
                                         metadata={"description": "running, due within "
                                                   "SLA_WARNING_WORKDAYS working days (default 2)"})
    milestones_on_track = fields.Integer(required=True)
    milestones_paused = fields.Integer(required=True)
    milestones_met = fields.Integer(required=True, metadata={"description": "in the period"})
    milestones_missed = fields.Integer(required=True, metadata={"description": "in the period"})
    milestones_extended = fields.Integer(required=True, metadata={
        "description": "of the met and missed: finished after a statutory extension "
                       "(行政许可法 Art. 42), counted separately"})
    compliance_pct = fields.Float(required=True, allow_none=True,
                                  metadata={"description": "met ÷ finished in the period, %"})
    workdays_saved = fields.Integer(required=True,
                                    metadata={"description": "against statutory limits"})
    open_blockers = fields.Integer(required=True)
    unassigned_projects = fields.Integer(required=True)
    promises_at_risk = fields.Integer(required=True, metadata={
        "description": "projects whose whole-chain promise is forecast to be missed "
                       "(the project list's sla=promise_at_risk)"})
    promises_overdue = fields.Integer(required=True, metadata={
        "description": "projects past their promised day, the end item not yet issued "
                       "(sla=promise_overdue)"})
    promises_running = fields.Integer(required=True, metadata={
        "description": "running promises (start item issued, end item not) with a forecast"})
    promise_margin_avg_workdays = fields.Float(required=True, allow_none=True, metadata={
        "description": "forecast vs promise: the working days the end items' forecasts run "
                       "ahead of (> 0) or behind (< 0) the promised days, averaged over the "
                       "running promises; null without any"})
    ratings = fields.Integer(required=True, metadata={
        "description": "the enterprises' ratings given in the period"})
    satisfaction_pct = fields.Float(required=True, allow_none=True, metadata={
        "description": "scores of 4 or 5 ÷ all scores over the five dimensions, %"})
    satisfaction_by_dimension = fields.Dict(
        keys=fields.String(), values=fields.Float(allow_none=True), required=True, metadata={
            "description": "openness (政务公开), standards (办件规范), convenience (办事便利), "
                           "courtesy (文明服务), discipline (纪律执行): ratings of 4 or 5 ÷ all, %"})
    cases_open = fields.Integer(required=True, metadata={"description": "bad-review cases open"})
    cases_late = fields.Integer(required=True, metadata={
        "description": "of which past their due day with their step not done"})
    stages = fields.List(fields.Nested(StageFigureSchema), required=True)
    stage_workdays = fields.List(fields.Nested(StageDaysSchema), required=True)
    months = fields.List(fields.Nested(MonthSchema), required=True)


class ParkFiguresSchema(Schema):
    park_id = fields.Integer(required=True)
    name = fields.String(required=True)
    short_name = fields.String(required=True)
    as_of = fields.Date(required=True)
    period_days = fields.Integer(required=True)
    figures = fields.Nested(FiguresSchema, required=True)


class CityFiguresSchema(Schema):
    as_of = fields.Date(required=True)
    computed_at = fields.DateTime(required=True, allow_none=True,
                                  metadata={"description": "when the oldest park rollup was made"})
    refreshing = fields.Boolean(required=True, metadata={
        "description": "the rollups are older than the maximum age: a worker is recomputing "
                       "them (ask again in a minute)"})
    period_days = fields.Integer(required=True)
    figures = fields.Nested(FiguresSchema, required=True)
    parks = fields.List(fields.Nested(ParkFiguresSchema), required=True)


class ParkArgsSchema(Schema):
    period = fields.Integer(load_default=DEFAULT_PERIOD, validate=validate.OneOf(PERIODS),
                            metadata={"description": "days back for met / missed / saved"})
    stage = fields.String(validate=validate.OneOf([s.value for s in Stage]))
    industry = fields.String(validate=validate.OneOf(INDUSTRIES))


def figures_payload(f: ParkFigures, months: list[str]) -> dict:
    return {
        "active_projects": f.active_projects, "investment": f.investment,
        "approved_projects": f.approved_projects,
        "new_this_month": f.new_this_month, "milestones_overdue": f.overdue,
        "milestones_due_soon": f.due_soon, "milestones_on_track": f.on_track,
        "milestones_paused": f.paused, "milestones_met": f.met, "milestones_missed": f.missed,
        "milestones_extended": f.extended,
        "compliance_pct": f.compliance_pct, "workdays_saved": f.workdays_saved,
        "open_blockers": f.open_blockers, "unassigned_projects": f.unassigned,
        "promises_at_risk": f.promise_at_risk, "promises_overdue": f.promise_overdue,
        "promises_running": f.promise_running,
        "ratings": f.ratings, "satisfaction_pct": f.satisfaction_pct(),
        "satisfaction_by_dimension": {d: f.satisfaction_pct(d) for d in DIMENSIONS},
        "cases_open": f.cases_open, "cases_late": f.cases_late,
        "promise_margin_avg_workdays": (None if f.promise_margin_avg is None
                                        else round(f.promise_margin_avg, 1)),
        "stages": [{"stage": s.value, "active_projects": f.stages.get(s.value, [0, 0])[0],
                    "investment": f.stages.get(s.value, [0, 0])[1]} for s in Stage],
        "stage_workdays": [{"stage": stage, "finished": d.finished,
                            "average_workdays_used": d.average_used,
                            "average_workdays_committed": d.average_committed}
                           for stage, d in sorted(f.stage_days.items())],
        "months": [{"month": m, "new_projects": v[0], "met": v[1], "missed": v[2]}
                   for m in months for v in [f.months.get(m, [0, 0, 0])]],
    }


@bp.route("/parks/<int:park_id>")
class ParkDashboard(MethodView):
    @bp.arguments(ParkArgsSchema, location="query")
    @bp.response(200, ParkFiguresSchema)
    def get(self, args, park_id):
        """A park's figures, computed now (park managers of the park, leaders, admins)."""
        user = api_user()
        park = get_park_or_404(user, park_id)
        require(Action.PARK_DASHBOARD)
        day = today()
        filters = Filters(stage=args.get("stage"), industry=args.get("industry"),
                          period=args["period"])
        figures = compute(filters.slice(park.id), day, work_calendar()).get(park.id, ParkFigures())
        return {"park_id": park.id, "name": park.name, "short_name": park.short_name,
                "as_of": day, "period_days": filters.period,
                "figures": figures_payload(figures, trend_months(day))}


@bp.route("/city")
class CityDashboard(MethodView):
    @bp.response(200, CityFiguresSchema)
    def get(self):
        """Every park's figures and the city's sum (leaders, admins), from rollups refreshed
        every minute; older ones are answered with their ``computed_at`` while a worker
        recomputes them (``refreshing``)."""
        user = api_user()
        require(Action.CITY_DASHBOARD)
        day = today()
        with transaction():
            city, refreshing = services.city_figures(park_condition(user), day, work_calendar())
        months = trend_months(day)
        return {
            "as_of": day, "computed_at": city.computed_at, "period_days": city.period_days,
            "refreshing": refreshing,
            "figures": figures_payload(city.total, months),
            "parks": [{"park_id": p.park_id, "name": p.name, "short_name": p.short_name,
                       "as_of": day, "period_days": city.period_days,
                       "figures": figures_payload(p.figures, months)} for p in city.parks],
        }
