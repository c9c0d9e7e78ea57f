"""Reads of generated documents: which documents a user may see, a project's service orders,
file names; and the data for the PDF builders: the database turned into ``reports``
dataclasses.

Each gathering function runs a constant number of queries whatever the size of the plan or
the city, and returns plain frozen data: the caller can end its transaction before the (slow)
PDF build.  Labels of codes are translated into Chinese here (the PDFs are Chinese documents).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import abort, current_app
from flask_babel import force_locale
from sqlalchemy import and_, case, false, func, or_, select
from sqlalchemy.orm import joinedload

import reports
from reports.text import FILENAMES
from crm.agents.models import Assignment, AssignmentRole, Staff, staff_parks
from crm.agents.queries import busiest
from crm.auth.permissions import Action, can
from crm.auth.scope import park_condition, project_condition, sees_all
from crm.dashboard.queries import lists
from crm.documents.models import DocumentKind, GeneratedDocument
from crm.extensions import db
from crm.i18n import local_day_start
from crm.labels import label
from crm.milestones import graph, sla
from crm.milestones.calendar import WorkCalendar
from crm.milestones.models import (
    ApprovalItem, Milestone, MilestoneStatus, ProjectForecast,
)
from crm.milestones.queries import (
    dependency_map, project_forecast, promise_condition, promise_margin_totals, state_condition,
    warning_workdays,
)
from crm.parks.models import Park
from crm.portal.models import Rating, SatisfactionCase
from crm.portal.queries import case_late_condition, link_url, satisfaction_columns
from crm.projects.models import ProgressLog, Project, ProjectStatus, Stage
from crm.projects.queries import in_service_condition, open_blocker_condition

Doc = GeneratedDocument
SERVICE_ORDER, SUMMARY, ROUND_REPORT, ROUND_WORKBOOK = (str(k.value) for k in DocumentKind)
# Documents of a park or of the city (park None), for the roles that request summaries.
CITY_OR_PARK_KINDS = (SUMMARY, ROUND_REPORT, ROUND_WORKBOOK)
PDF_LOCALE = "zh_Hans_CN"
# Summaries list at most this many rows per table and count the rest.
SUMMARY_ROWS = 100
SUMMARY_STAFF_ROWS = 80

_ROLE_ORDER = {AssignmentRole.CONSULTANT: 0, AssignmentRole.LEAD_AGENT: 1, AssignmentRole.HELPER: 2}


def local_now() -> dt.datetime:
    return dt.datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]))


def project_url(project_id: int) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/projects/{project_id}"


def order_number(project_id: int, year: int) -> str:
    """The project's service-order number: FW-<year of the first order>-<project id>."""
    return f"FW-{year}-{project_id:06d}"


# -- service orders ------------------------------------------------------------------------

def service_order(project_id: int, *, number: str, version: int, today: dt.date,
                  calendar: WorkCalendar) -> reports.ServiceOrder:
    """The service order of a project as it stands now (about 7 queries)."""
    project = db.session.scalars(
        select(Project).options(joinedload(Project.park)).where(Project.id == project_id)
    ).one()
    assignments = db.session.scalars(
        select(Assignment).options(joinedload(Assignment.staff))
        .where(Assignment.project_id == project_id, Assignment.ended_at.is_(None))
        .order_by(Assignment.started_at, Assignment.id)
    ).all()
    milestones = db.session.scalars(
        select(Milestone).where(Milestone.project_id == project_id)
        .order_by(Milestone.sequence, Milestone.id)
    ).all()
    warning = warning_workdays()
    needs = dependency_map(project_id)
    names = {m.id: m.name for m in milestones}
    forecast = project_forecast(project_id)
    with force_locale(PDF_LOCALE):
        staff = tuple(
            reports.Person(label("assignment_role", a.role), a.staff.name, a.staff.phone)
            for a in sorted(assignments, key=lambda a: _ROLE_ORDER.get(a.role, 9))
        )
        plan = tuple(_plan_item(m, today, calendar, warning,
                                tuple(names[i] for i in needs.get(m.id, ()) if i in names))
                     for m in milestones)
        stage = label("stage", project.stage)
    return reports.ServiceOrder(
        order_number=number, version=version, issued_on=today, park_name=project.park.name,
        project_name=project.name, project_code=project.code,
        investor_name=project.investor_name, investment_wan=project.investment,
        stage_label=stage, contact_name=project.contact_name,
        contact_phone=project.contact_phone,
        project_url=link_url(project.id) or project_url(project.id),
        staff=staff, plan=plan, description=project.description, generated_at=local_now(),
        forecast_on=forecast.forecast_on if forecast else None,
        forecast_provisional=bool(forecast and forecast.provisional),
        chain_promise=_chain_promise(forecast, today),
    )


def _chain_promise(forecast, today: dt.date) -> reports.OrderPromise | None:
    """The park's whole-chain promise that applies to the project (its rule loads with the
    forecast; one query for the items' names), or None."""
    if forecast is None or forecast.rule_id is None:
        return None
    rule = forecast.rule
    items = dict(db.session.execute(select(ApprovalItem.code, ApprovalItem.name).where(
        ApprovalItem.code.in_((rule.start_code, rule.end_code)))).all())
    return reports.OrderPromise(
        name=rule.name, start_item=items.get(rule.start_code, rule.start_code),
        end_item=items.get(rule.end_code, rule.end_code), limit_workdays=rule.limit_workdays,
        due_on=forecast.promise_due_on,
        state=graph.promise_state(forecast.promise_due_on, forecast.promise_end_on,
                                  forecast.end_forecast_on, today))


def _plan_item(m: Milestone, today: dt.date, calendar: WorkCalendar, warning: int,
               needs: tuple[str, ...] = ()):
    state = sla.state(sla.MilestoneFacts(m.status, m.due_on, m.completed_on), today, calendar,
                      warning)
    return reports.PlanItem(
        name=m.name, department=m.department, limit_value=m.limit_value,
        limit_unit=m.limit_unit, accepted_on=m.accepted_on, due_on=m.due_on,
        due_provisional=m.due_provisional, status=m.status, state=state,
        state_label=label("sla_state", state), remaining_workdays=m.remaining_workdays,
        completed_on=m.completed_on, needs=needs,
        forecast_on=m.forecast_on if m.status not in ("done", "waived") else None,
    )


def fingerprint(order: reports.ServiceOrder) -> str:
    """What a service order promises, hashed: a new version is made only when it changes.

    Leaves out what changes by itself (the date, the generation time, the number and version,
    and the SLA states and forecasts that move with today); keeps the project, the team, the
    plan with its dependencies and the whole-chain promise.
    """
    plan = [(i.name, i.department, i.limit_value, i.limit_unit, i.accepted_on, i.due_on,
             i.due_provisional, i.status, i.remaining_workdays, i.completed_on, list(i.needs))
            for i in order.plan]
    payload = {
        "project": (order.project_name, order.project_code, order.investor_name,
                    order.investment_wan, order.stage_label, order.contact_name,
                    order.contact_phone, order.description, order.park_name, order.project_url),
        "staff": [(p.role, p.name, p.phone) for p in order.staff],
        "plan": plan,
        # The promise made (its clock starts when its first item is issued); the forecast
        # moves with the days and makes no new version.
        "chain_promise": order.chain_promise and (
            order.chain_promise.name, order.chain_promise.limit_workdays,
            order.chain_promise.due_on),
    }
    text = json.dumps(payload, ensure_ascii=False, default=str, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


# -- summaries -------------------------------------------------------------------------------

def summary(park_id: int | None, start: dt.date, end: dt.date, *, today: dt.date,
            calendar: WorkCalendar) -> reports.Summary:
    """The summary of the city (park_id None) or one park (about a dozen queries)."""
    def in_scope(column):
        return column.is_not(None) if park_id is None else column == park_id

    with force_locale(PDF_LOCALE):
        scope_label = (label("summary_scope", "city") if park_id is None
                       else db.session.scalar(select(Park.name).where(Park.id == park_id)))
        stages, active, investment = _stages(in_scope)
        compliance, met, missed, extended = _compliance(park_id, in_scope, start, end)
        overdue, overdue_total = _overdue(in_scope, today, calendar)
        blockers, blockers_total = _blockers(in_scope, today)
        workload, workload_total = _workload(park_id, today)
        at_risk, promise_overdue, running, margin = _promises(in_scope, today)
        ratings, *satisfied = _satisfaction(in_scope, start, end)
        cases_late = db.session.scalar(select(func.count()).select_from(SatisfactionCase).where(
            in_scope(SatisfactionCase.park_id), case_late_condition(today)))
    figures = reports.KeyFigures(
        active_projects=active, total_investment_wan=investment, milestones_met=met,
        milestones_missed=missed, milestones_overdue=overdue_total,
        workdays_saved=_workdays_saved(in_scope, start, end, calendar),
        milestones_extended=extended, promises_at_risk=at_risk,
        promises_overdue=promise_overdue, promises_running=running,
        promise_margin_workdays=int(margin), ratings=ratings,
        ratings_satisfied=sum(satisfied), satisfied_by_dimension=tuple(satisfied),
        cases_late=cases_late,
    )
    return reports.Summary(
        scope_label=scope_label, period_start=start, period_end=end, generated_at=local_now(),
        figures=figures, stages=stages, compliance=compliance,
        compliance_by="park" if park_id is None else "item",
        overdue=overdue, overdue_total=overdue_total, blockers=blockers,
        blockers_total=blockers_total, workload=workload, workload_total=workload_total,
    )


def _stages(in_scope):
    """Active projects per stage; the projects in service (``Project.in_service``: approved
    ones are through) and their investment."""
    in_service = in_service_condition()
    rows = db.session.execute(
        select(Project.stage, func.count(), func.count().filter(in_service),
               func.coalesce(func.sum(Project.investment).filter(in_service), 0))
        .where(in_scope(Project.park_id), Project.status == ProjectStatus.ACTIVE)
        .group_by(Project.stage)
    ).all()
    by_stage = {stage: count for stage, count, _serving, _investment in rows}
    stages = tuple(reports.Count(label("stage", s.value), by_stage.get(s.value, 0)) for s in Stage)
    return (stages, sum(row[2] for row in rows), int(sum(row[3] for row in rows)))


def _compliance(park_id, in_scope, start, end):
    """Milestones completed in the period, met and missed, per park (city) or per item."""
    group = Park.name if park_id is None else Milestone.name
    query = (
        select(group,
               func.sum(case((Milestone.outcome == "met", 1), else_=0)),
               func.sum(case((Milestone.outcome == "missed", 1), else_=0)),
               func.count().filter(Milestone.extension_workdays.is_not(None)))
        .where(in_scope(Milestone.park_id), Milestone.status == MilestoneStatus.DONE,
               Milestone.completed_on.between(start, end))
        .group_by(group)
    )
    if park_id is None:
        query = query.join(Park, Park.id == Milestone.park_id)
    rows = db.session.execute(query).all()
    compliance = tuple(sorted((reports.ComplianceRow(name, int(met), int(missed))
                               for name, met, missed, _extended in rows),
                              key=lambda r: (-(r.pct or 0), r.label)))
    return (compliance, sum(r.met for r in compliance), sum(r.missed for r in compliance),
            sum(row[3] for row in rows))


def _workdays_saved(in_scope, start, end, calendar) -> int:
    """Statutory limit minus working days used, over milestones completed in the period.

    Working-day limits are summed in SQL; the few calendar-day limits are converted with the
    calendar.
    """
    done = (in_scope(Milestone.park_id), Milestone.status == MilestoneStatus.DONE,
            Milestone.completed_on.between(start, end), Milestone.statutory_value.is_not(None),
            Milestone.workdays_used.is_not(None), Milestone.accepted_on.is_not(None))
    working = db.session.scalar(
        select(func.coalesce(func.sum(Milestone.statutory_value - Milestone.workdays_used), 0))
        .where(*done, Milestone.statutory_unit == sla.WORKING)) or 0
    calendar_rows = db.session.execute(
        select(Milestone.accepted_on, Milestone.statutory_value, Milestone.statutory_unit,
               Milestone.workdays_used)
        .where(*done, Milestone.statutory_unit == sla.CALENDAR)
    ).all()
    return int(working) + sum(sla.time_saved(a, v, u, used, calendar)
                              for a, v, u, used in calendar_rows)


def _overdue(in_scope, today, calendar):
    """Running milestones past their due date, most overdue first (oldest due date), with the
    working days they are late (the dashboards' figure)."""
    condition = in_scope(Milestone.park_id) & state_condition("overdue", today, calendar)
    total = lists.count(Milestone, condition)
    rows = lists.milestones(condition, "overdue", today=today, calendar=calendar,
                            limit=SUMMARY_ROWS)
    listed = tuple(reports.OverdueRow(r.project, r.park, r.item, r.due_on, r.late,
                                      r.responsible) for r in rows)
    return listed, total


def _promises(in_scope, today):
    """Projects whose whole-chain promise is at risk / overdue, and the running promises'
    margins (the dashboards' figures)."""
    return db.session.execute(
        select(func.count().filter(promise_condition("at_risk", today)),
               func.count().filter(promise_condition("overdue", today)),
               *promise_margin_totals())
        .select_from(Project).join(ProjectForecast, ProjectForecast.project_id == Project.id)
        .where(in_scope(Project.park_id))).one()


def _satisfaction(in_scope, start, end):
    """The enterprise's ratings given in the period: their count and, per dimension, how many
    scored 4 or 5 (the dashboards' rule)."""
    return db.session.execute(
        select(*satisfaction_columns()).where(
            in_scope(Rating.park_id), Rating.submitted_at >= local_day_start(start),
            Rating.submitted_at < local_day_start(end + dt.timedelta(days=1)))).one()


def _blockers(in_scope, today):
    condition = in_scope(ProgressLog.park_id)
    total = lists.count(ProgressLog, condition & open_blocker_condition())
    rows = lists.open_blockers(condition, limit=SUMMARY_ROWS)
    listed = tuple(reports.BlockerRow(r.project, r.park, r.happened_on,
                                      (today - r.happened_on).days, r.text) for r in rows)
    return listed, total


def _workload(park_id, today):
    """Active staff of the scope, most loaded first: active projects against capacity."""
    condition = [Staff.active.is_(True)]
    if park_id is not None:
        condition.append(Staff.id.in_(
            select(staff_parks.c.staff_id).where(staff_parks.c.park_id == park_id)))
    total = db.session.scalar(select(func.count()).select_from(Staff).where(*condition))
    rows = busiest(today, park_id=park_id, limit=SUMMARY_STAFF_ROWS)
    parks: dict[int, list[str]] = {}
    for staff_id, short_name in db.session.execute(
        select(staff_parks.c.staff_id, Park.short_name)
        .join(Park, Park.id == staff_parks.c.park_id)
        .where(staff_parks.c.staff_id.in_([r[0] for r in rows]))
        .order_by(Park.id)
    ):
        parks.setdefault(staff_id, []).append(short_name)
    listed = tuple(
        reports.WorkloadRow(name, label("staff_kind", kind), tuple(parks.get(sid, ())),
                            int(active), capacity, int(late))
        for sid, name, kind, capacity, active, late in rows
    )
    return listed, total


# -- documents ---------------------------------------------------------------------------------

def visible_condition(user):
    """The documents a user may see: service orders of their projects; summaries of the city
    (leaders, admins) or of their parks, for the roles that may request summaries."""
    orders = and_(Doc.kind == SERVICE_ORDER,
                  Doc.project_id.in_(select(Project.id).where(project_condition(user))))
    if not can(user, Action.SUMMARY_REQUEST):
        return orders
    city = Doc.park_id.is_(None) if sees_all(user) else false()
    summaries = and_(Doc.kind.in_(CITY_OR_PARK_KINDS),
                     or_(city, and_(Doc.park_id.is_not(None), park_condition(user, Doc.park_id))))
    return or_(orders, summaries)


def get_document_or_404(user, document_id: int, *options) -> Doc:
    """A document the user may see; 404 otherwise (as if it did not exist)."""
    doc = db.session.scalar(
        select(Doc).where(Doc.id == document_id, visible_condition(user)).options(*options))
    if doc is None:
        abort(404)
    return doc


def project_service_orders(project_id: int, limit: int = 20) -> list[GeneratedDocument]:
    """The project's service orders, newest version first (content not loaded)."""
    return list(db.session.scalars(
        select(Doc).where(Doc.project_id == project_id, Doc.kind == SERVICE_ORDER)
        .order_by(Doc.doc_version.desc()).limit(limit)))


_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def safe_filename(text: str) -> str:
    """A file-name part: no path separators, reserved or control characters."""
    return _UNSAFE.sub("_", text).strip(" ._") or "document"


def content_disposition(filename: str, fallback: str) -> str:
    """``attachment`` with an ASCII name and the real (Chinese) name per RFC 5987/6266."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def recent_summaries(user, limit: int = 20) -> list[GeneratedDocument]:
    """The latest summaries the user may see, newest first."""
    return list(db.session.scalars(
        select(Doc).options(joinedload(Doc.park), joinedload(Doc.requested_by))
        .where(Doc.kind == SUMMARY, visible_condition(user))
        .order_by(Doc.requested_at.desc(), Doc.id.desc()).limit(limit)))


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def mimetype(doc: GeneratedDocument) -> str:
    return XLSX if doc.kind == ROUND_WORKBOOK else "application/pdf"


def ascii_filename(doc: GeneratedDocument) -> str:
    """The fallback name for clients that ignore RFC 5987's filename*."""
    names = FILENAMES
    if doc.round_id is not None:
        return names[f"{doc.kind}_ascii"].format(id=doc.round_id)
    if doc.kind == SERVICE_ORDER:
        return names["service_order_ascii"].format(number=doc.order_number,
                                                   version=doc.doc_version)
    return names["summary_ascii"].format(scope=doc.park_id or "city",
                                         start=doc.period_start, end=doc.period_end)


def round_documents(user, round_id: int) -> list[GeneratedDocument]:
    """A round's report and workbook the user may see, newest first (content not loaded)."""
    return list(db.session.scalars(
        select(Doc).where(Doc.round_id == round_id, visible_condition(user))
        .order_by(Doc.requested_at.desc(), Doc.id.desc()).limit(10)))
