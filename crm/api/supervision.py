"""Supervision rounds (调度), their reports, coordination problems and meetings.  The same
scope and rules as the web: a round, report, problem or meeting you cannot see answers 404;
a refused change answers 422 (409 for a closed round or a resolved problem) with field
details."""

from __future__ import annotations

from dataclasses import asdict

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from crm.api.attachments import (
    UPLOAD_DOC, AttachmentListSchema, AttachmentSchema, list_files, upload_file,
)
from crm.api.core import api_user
from crm.attachments.views import request_limit
from crm.api.errors import abort
from crm.api.projects import require
from crm.auth.permissions import Action
from crm.documents.queries import round_documents
from crm.i18n import today
from crm.milestones.queries import work_calendar
from crm.projects.queries import visible_log
from crm.supervision import queries
from crm.supervision.services import problems as problem_services
from crm.supervision.services import rounds as round_services
from crm.transaction import transaction

bp = Blueprint("api_supervision", __name__, url_prefix="/api/v1",
               description="Supervision rounds (调度): each project's report, investment "
                           "completed, problems taken to departments (问题处理) and "
                           "coordination meetings.")

TEXT = validate.Length(min=1, max=4000)


class SupervisionPageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))


class RoundCreateSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=100))
    cadence = fields.String(required=True, validate=validate.OneOf(("weekly", "monthly", "ad_hoc")))
    park_id = fields.Integer(allow_none=True, load_default=None, strict=True, metadata={
        "description": "the park; null: every park (leaders, admins)"})
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    due_on = fields.Date(required=True, metadata={
        "description": "not in the past; a day off moves to the next working day"})
    stages = fields.List(fields.String(), load_default=list, validate=validate.Length(max=20))
    statuses = fields.List(fields.String(), load_default=list, validate=validate.Length(max=10))
    industries = fields.List(fields.String(validate=validate.Length(max=40)), load_default=list,
                             validate=validate.Length(max=50))


class ProgressSchema(Schema):
    key = fields.Integer(allow_none=True, metadata={"description": "park or staff id"})
    label = fields.String(required=True)
    total = fields.Integer(required=True)
    filled = fields.Integer(required=True, metadata={"description": "by the due date"})
    late = fields.Integer(required=True, metadata={"description": "filled after it"})
    missing = fields.Integer(required=True)


class RoundSchema(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    cadence = fields.String(required=True)
    park_id = fields.Integer(allow_none=True)
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    opened_on = fields.Date(required=True)
    due_on = fields.Date(required=True)
    status = fields.String(required=True, metadata={"description": "open or closed"})
    project_count = fields.Integer(required=True)
    reports_ready = fields.Boolean(required=True, metadata={
        "description": "false while a worker writes the reports of a large round"})
    previous_id = fields.Integer(allow_none=True)
    version = fields.Integer(required=True)
    by_park = fields.List(fields.Nested(ProgressSchema), metadata={
        "description": "in your scope (round detail only)"})
    documents = fields.List(fields.Dict(), metadata={
        "description": "the report (PDF) and workbook (xlsx) once closed: id, kind, status"})


class ReportArgs(SupervisionPageArgs):
    state = fields.String(load_default=None, validate=validate.OneOf(queries.STATES))


class ReportSchema(Schema):
    project_id = fields.Integer(required=True)
    project = fields.String(required=True)
    park = fields.String(required=True)
    reporter = fields.String(allow_none=True)
    state = fields.String(required=True, metadata={"description": "filled, late or missing"})
    stage_at_open = fields.String(required=True)
    stage_reached = fields.String(allow_none=True)
    progress = fields.String(allow_none=True)
    next_steps = fields.String(allow_none=True)
    investment_completed = fields.Integer(allow_none=True, metadata={"description": "万元"})
    submitted_on = fields.Date(allow_none=True)
    version = fields.Integer(required=True)


class EnterprisePartSchema(Schema):
    progress = fields.String(required=True)
    investment_completed = fields.Integer(allow_none=True, metadata={"description": "万元"})
    needs = fields.String(allow_none=True)
    contact_name = fields.String(required=True)
    contact_phone = fields.String(allow_none=True)
    submitted_at = fields.DateTime(required=True)


class ReportDetailSchema(ReportSchema):
    enterprise_part = fields.Nested(
        EnterprisePartSchema, allow_none=True,
        metadata={"description": "what the enterprise sent on its progress page, if anything"})


class ReportPageSchema(Schema):
    items = fields.List(fields.Nested(ReportSchema), required=True)
    page = fields.Integer(required=True)
    more = fields.Boolean(required=True)


class ProblemInSchema(Schema):
    text = fields.String(required=True, validate=TEXT)
    department = fields.String(required=True, validate=validate.Length(min=1, max=100))
    level = fields.String(load_default="park", validate=validate.OneOf(problem_services.LEVELS))


class ReportFillSchema(Schema):
    progress = fields.String(required=True, validate=TEXT)
    next_steps = fields.String(allow_none=True, load_default=None,
                               validate=validate.Length(max=4000))
    investment_completed = fields.Integer(allow_none=True, load_default=None, strict=True,
                                          validate=validate.Range(min=0, max=100_000_000),
                                          metadata={"description": "万元 in this period"})
    stage_reached = fields.String(required=True, validate=validate.Length(max=20))
    problem = fields.Nested(ProblemInSchema, allow_none=True, load_default=None)
    version = fields.Integer(allow_none=True, load_default=None, strict=True, metadata={
        "description": "the version you read (a stale one answers 409)"})


class RoundVersionSchema(Schema):
    version = fields.Integer(allow_none=True, load_default=None, strict=True)


class ProblemSchema(Schema):
    id = fields.Integer(required=True)
    project_id = fields.Integer(required=True)
    project = fields.String(required=True)
    park_id = fields.Integer(required=True)
    blocker_id = fields.Integer(allow_none=True)
    round_id = fields.Integer(allow_none=True)
    summary = fields.String(required=True)
    department = fields.String(required=True)
    level = fields.String(required=True, metadata={"description": "park, district or city"})
    owner_id = fields.Integer(allow_none=True)
    raised_on = fields.Date(required=True)
    due_on = fields.Date(required=True)
    status = fields.String(required=True, metadata={"description": "open or resolved"})
    escalated_on = fields.Date(allow_none=True)
    resolution = fields.String(allow_none=True)
    version = fields.Integer(required=True)


class ProblemArgs(SupervisionPageArgs):
    status = fields.String(load_default="open", validate=validate.OneOf(("open", "resolved", "all")))
    department = fields.String(load_default=None, validate=validate.Length(max=100))
    level = fields.String(load_default=None, validate=validate.OneOf(problem_services.LEVELS))


class DepartmentLoadSchema(Schema):
    department = fields.String(required=True)
    problems = fields.Integer(required=True)
    projects = fields.Integer(required=True, metadata={"description": "projects held up"})
    overdue = fields.Integer(required=True)
    workdays_open = fields.Integer(required=True)


class RaiseSchema(Schema):
    department = fields.String(required=True, validate=validate.Length(min=1, max=100))
    level = fields.String(load_default="park", validate=validate.OneOf(problem_services.LEVELS))
    owner_id = fields.Integer(allow_none=True, load_default=None, strict=True)
    due_days = fields.Integer(allow_none=True, load_default=None, strict=True,
                              validate=validate.Range(min=1, max=120))


class ProblemResolveSchema(Schema):
    decision = fields.String(required=True, validate=TEXT)
    version = fields.Integer(allow_none=True, load_default=None, strict=True)


class MeetingCreateSchema(Schema):
    park_id = fields.Integer(allow_none=True, load_default=None, strict=True)
    held_on = fields.Date(required=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    attendees = fields.String(required=True, validate=TEXT)
    decisions = fields.String(required=True, validate=TEXT)
    problem_ids = fields.List(fields.Integer(strict=True), load_default=list,
                              validate=validate.Length(max=200))
    resolve = fields.Boolean(load_default=False, metadata={
        "description": "the decisions resolve the problems discussed"})


class MeetingSchema(Schema):
    id = fields.Integer(required=True)
    park_id = fields.Integer(allow_none=True)
    held_on = fields.Date(required=True)
    title = fields.String(required=True)
    attendees = fields.String(required=True)
    decisions = fields.String(required=True)
    problem_ids = fields.List(fields.Integer(), required=True)


def _round(r, detail: bool = False) -> dict:
    result = {k: getattr(r, k) for k in (
        "id", "title", "cadence", "park_id", "period_start", "period_end", "opened_on", "due_on",
        "status", "project_count", "reports_ready", "previous_id", "version")}
    if detail:
        user = api_user()
        result["by_park"] = [asdict(p) for p in queries.progress_by_park(user, r)]
        result["documents"] = [{"id": d.id, "kind": d.kind, "status": d.status}
                               for d in round_documents(user, r.id)]
    return result


def _problem(p) -> dict:
    result = {k: getattr(p, k) for k in (
        "id", "project_id", "park_id", "blocker_id", "round_id", "summary", "department",
        "level", "owner_id", "raised_on", "due_on", "status", "escalated_on", "resolution",
        "version")}
    result["project"] = p.project.name
    return result


def _meeting(m) -> dict:
    return {"id": m.id, "park_id": m.park_id, "held_on": m.held_on, "title": m.title,
            "attendees": m.attendees, "decisions": m.decisions,
            "problem_ids": [p.id for p in m.problems]}


@bp.route("/rounds")
class Rounds(MethodView):
    @bp.arguments(SupervisionPageArgs, location="query")
    @bp.response(200, RoundSchema(many=True))
    def get(self, args):
        """The rounds you may see, newest first (20 a page)."""
        listed, _more = queries.rounds_page(api_user(), args["page"])
        return [_round(r) for r, _progress in listed]

    @bp.arguments(RoundCreateSchema)
    @bp.response(201, RoundSchema)
    def post(self, values):
        """Open a round: every project chosen by the filters owes one report."""
        require(Action.ROUND_RUN)
        with transaction():
            created = round_services.open_round(user=api_user(), today=today(),
                                                calendar=work_calendar(), **values)
        return _round(created)


@bp.route("/rounds/<int:round_id>")
class RoundDetail(MethodView):
    @bp.response(200, RoundSchema)
    def get(self, round_id: int):
        """A round with its progress per park (your scope) and its documents."""
        return _round(queries.get_round_or_404(api_user(), round_id), detail=True)


@bp.route("/rounds/<int:round_id>/close")
class RoundClose(MethodView):
    @bp.arguments(RoundVersionSchema)
    @bp.response(200, RoundSchema)
    def post(self, values, round_id: int):
        """Close the round; its report (PDF) and workbook (xlsx) are generated."""
        user = api_user()
        found = queries.get_round_or_404(user, round_id)
        require(Action.ROUND_RUN)
        if not queries.runs_round(user, found):
            abort(403, "Only the city bureau closes a city-wide round.")
        with transaction():
            round_services.close_round(found, user=user, expected_version=values["version"])
        return _round(found, detail=True)


@bp.route("/rounds/<int:round_id>/reports")
class RoundReports(MethodView):
    @bp.arguments(ReportArgs, location="query")
    @bp.response(200, ReportPageSchema)
    def get(self, args, round_id: int):
        """The round's reports in your scope, missing first (50 a page)."""
        user = api_user()
        found = queries.get_round_or_404(user, round_id)
        rows, more = queries.report_rows(user, found, state=args["state"], page=args["page"])
        return {"items": [_report(row.report, row.project_name, row.park_name,
                                  row.reporter_name, row.state) for row in rows],
                "page": args["page"], "more": more}


def _report(r, project: str, park: str, reporter: str | None, state: str) -> dict:
    return {"project_id": r.project_id, "project": project, "park": park, "reporter": reporter,
            "state": state, "stage_at_open": r.stage_at_open, "stage_reached": r.stage_reached,
            "progress": r.progress, "next_steps": r.next_steps,
            "investment_completed": r.investment_completed, "submitted_on": r.submitted_on,
            "version": r.version}


def _report_detail(found) -> dict:
    return {**_report(found, found.project.name, found.project.park.short_name,
                      found.reporter.name if found.reporter else None, queries.state_of(found)),
            "enterprise_part": found.enterprise_part}


@bp.route("/rounds/<int:round_id>/reports/<int:project_id>")
class RoundReport(MethodView):
    @bp.response(200, ReportDetailSchema)
    def get(self, round_id: int, project_id: int):
        """A project's report in the round."""
        return _report_detail(queries.get_report_or_404(api_user(), round_id, project_id))

    @bp.arguments(ReportFillSchema)
    @bp.response(200, ReportDetailSchema)
    def put(self, values, round_id: int, project_id: int):
        """Fill (or correct, while the round is open) the project's report; a `problem` is
        logged as a blocker and taken to its department."""
        user = api_user()
        found = queries.get_report_or_404(user, round_id, project_id)
        require(Action.ROUND_REPORT)
        problem = values["problem"] or {}
        with transaction():
            round_services.submit_report(
                found, user=user, progress=values["progress"], next_steps=values["next_steps"],
                investment_completed=values["investment_completed"],
                stage_reached=values["stage_reached"], problem_text=problem.get("text"),
                problem_department=problem.get("department"),
                problem_level=problem.get("level", "park"),
                expected_version=values["version"], today=today(), calendar=work_calendar())
        return _report_detail(found)


@bp.route("/problems")
class Problems(MethodView):
    @bp.arguments(ProblemArgs, location="query")
    @bp.response(200, ProblemSchema(many=True))
    def get(self, args):
        """Problems in your scope, the soonest due first (50 a page)."""
        listed, _more = queries.problems_page(api_user(), status=args["status"],
                                              department=args["department"],
                                              level=args["level"], page=args["page"])
        return [_problem(p) for p in listed]


@bp.route("/problems/by-department")
class ProblemsByDepartment(MethodView):
    @bp.response(200, DepartmentLoadSchema(many=True))
    def get(self):
        """Open problems per department, ranked by the projects they hold up, then by working
        days open."""
        loads = queries.open_by_department(queries.problem_condition(api_user()), today(),
                                           work_calendar())
        return [{"department": d.department, "problems": d.problems, "projects": d.projects,
                 "overdue": d.overdue, "workdays_open": d.workdays_open} for d in loads]


@bp.route("/problems/<int:problem_id>")
class ProblemDetail(MethodView):
    @bp.response(200, ProblemSchema)
    def get(self, problem_id: int):
        return _problem(queries.get_problem_or_404(api_user(), problem_id))


@bp.route("/problems/<int:problem_id>/resolve")
class ProblemResolve(MethodView):
    @bp.arguments(ProblemResolveSchema)
    @bp.response(200, ProblemSchema)
    def post(self, values, problem_id: int):
        """Resolve the problem with the decision; its blocker closes with it."""
        user = api_user()
        found = queries.get_problem_or_404(user, problem_id)
        require(Action.PROBLEM_MANAGE)
        with transaction():
            problem_services.resolve(found, decision=values["decision"], actor_id=user.id,
                                     expected_version=values["version"])
        return _problem(found)


@bp.route("/problems/<int:problem_id>/attachments")
class ProblemAttachments(MethodView):
    @bp.response(200, AttachmentListSchema)
    def get(self, problem_id: int):
        """The files of a problem (correspondence, evidence), oldest first."""
        return list_files("problem", problem_id)

    @bp.doc(description=UPLOAD_DOC)
    @bp.response(201, AttachmentSchema)
    def post(self, problem_id: int):
        """Attach a file to a problem."""
        return upload_file("problem", problem_id)


@bp.record_once
def _limits(state):
    """Uploads to a problem take the attachments' size limit, not the app's 2 MB."""
    state.app.extensions.setdefault("upload_limits", {})[
        "api_supervision.ProblemAttachments"] = request_limit


@bp.route("/blockers/<int:log_id>/problem")
class RaiseProblem(MethodView):
    @bp.arguments(RaiseSchema)
    @bp.response(201, ProblemSchema)
    def post(self, values, log_id: int):
        """Take an open blocker to a department."""
        user = api_user()
        blocker = visible_log(user, log_id)
        if blocker is None or blocker.kind != "blocker":
            abort(404, "No such blocker.")
        require(Action.PROBLEM_RAISE)
        with transaction():
            created = problem_services.raise_problem(
                blocker, actor_id=user.id, today=today(), calendar=work_calendar(), **values)
        return _problem(created)


@bp.route("/meetings")
class Meetings(MethodView):
    @bp.arguments(SupervisionPageArgs, location="query")
    @bp.response(200, MeetingSchema(many=True))
    def get(self, args):
        """Coordination meetings you may see, newest first."""
        listed, _more = queries.meetings_page(api_user(), args["page"])
        return [_meeting(m) for m in listed]

    @bp.arguments(MeetingCreateSchema)
    @bp.response(201, MeetingSchema)
    def post(self, values):
        """Record a meeting held, the problems it took and, with `resolve`, resolve them."""
        require(Action.PROBLEM_MANAGE)
        resolve = values.pop("resolve")
        with transaction():
            created = problem_services.record_meeting(user=api_user(), today=today(),
                                                      resolve_problems=resolve, **values)
        return _meeting(created)


@bp.route("/meetings/<int:meeting_id>")
class MeetingDetail(MethodView):
    @bp.response(200, MeetingSchema)
    def get(self, meeting_id: int):
        return _meeting(queries.get_meeting_or_404(api_user(), meeting_id))


class DepartmentSchema(Schema):
    name = fields.String(required=True)


@bp.route("/departments")
class Departments(MethodView):
    @bp.response(200, DepartmentSchema(many=True))
    def get(self):
        """The departments problems can be taken to."""
        return [{"name": name} for name in queries.departments()]
