"""A round's report (调度报告): the figures per park and for the whole round, compared with the
previous round, as plain data for the PDF (reports.build_round_report), and the workbook
(.xlsx) with every project's report.  Grouped SQL: a handful of queries whatever the number
of projects; the workbook streams its rows."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased

import reports
from reports.text import ROUND_WORKBOOK as W
from crm.agents.models import Staff
from crm.extensions import db
from crm.i18n import local_date
from crm.labels import label
from crm.parks.models import Park
from crm.projects.models import Project, Stage
from crm.spreadsheets import batched, label_lookup, write_workbook
from crm.supervision import queries
from crm.supervision.models import (
    InvestmentPlan, Problem, ProblemStatus, ReportStatus, Round, RoundReport,
)

MISSING_LISTED = 200


def _stage_order(column):
    return case({s.value: s.order for s in Stage}, value=column, else_=-1)


def as_of(round_: Round, today: dt.date) -> dt.date:
    """The day the report speaks of: the closing day, or today while the round is open."""
    return local_date(round_.closed_at) if round_.closed_at else today


def round_projects(round_id: int):
    return select(RoundReport.project_id).where(RoundReport.round_id == round_id)


def _park_rows(round_: Round) -> dict[int, dict]:
    previous = aliased(RoundReport)
    now = func.coalesce(RoundReport.stage_reached, RoundReport.stage_at_open)
    before = func.coalesce(previous.stage_reached, previous.stage_at_open,
                           RoundReport.stage_at_open)
    filled = RoundReport.status == ReportStatus.FILLED.value
    query = (select(RoundReport.park_id, *queries._counts(round_.due_on),
                    func.sum(case((filled, func.coalesce(RoundReport.investment_completed, 0)),
                                  else_=0)).label("investment"),
                    func.sum(case((_stage_order(now) > _stage_order(before), 1), else_=0))
                    .label("advanced"))
             .select_from(RoundReport)
             .outerjoin(previous, (previous.round_id == round_.previous_id)
                        & (previous.project_id == RoundReport.project_id))
             .where(RoundReport.round_id == round_.id).group_by(RoundReport.park_id))
    return {row.park_id: row._asdict() for row in db.session.execute(query)}


def _year_rows(round_: Round) -> dict[int, tuple[int, int]]:
    """park -> (planned, completed up to this round) for the year of the round's period, over
    the round's projects."""
    year = round_.period_end.year
    done = queries.completed_in_year(year).where(Round.period_end <= round_.period_end).where(
        RoundReport.project_id.in_(round_projects(round_.id))).subquery()
    result: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for park_id, amount in db.session.execute(
            select(done.c.park_id, func.sum(done.c.amount)).group_by(done.c.park_id)):
        result[park_id][1] = int(amount or 0)
    for park_id, amount in db.session.execute(
            select(Project.park_id, func.sum(InvestmentPlan.planned))
            .join(Project, Project.id == InvestmentPlan.project_id)
            .where(InvestmentPlan.year == year,
                   InvestmentPlan.project_id.in_(round_projects(round_.id)))
            .group_by(Project.park_id)):
        result[park_id][0] = int(amount or 0)
    return {k: (v[0], v[1]) for k, v in result.items()}


def _previous_rows(round_: Round) -> dict[int, tuple[int, int]]:
    """park -> (reports filled, investment completed) in the previous round."""
    if round_.previous_id is None:
        return {}
    filled = RoundReport.status == ReportStatus.FILLED.value
    rows = db.session.execute(
        select(RoundReport.park_id, func.sum(case((filled, 1), else_=0)),
               func.sum(case((filled, func.coalesce(RoundReport.investment_completed, 0)),
                             else_=0)))
        .where(RoundReport.round_id == round_.previous_id).group_by(RoundReport.park_id))
    return {park_id: (int(n or 0), int(amount or 0)) for park_id, n, amount in rows}


def _departments(round_: Round, day: dt.date) -> tuple[reports.DepartmentRow, ...]:
    is_open = Problem.status == ProblemStatus.OPEN.value
    rows = db.session.execute(
        select(Problem.department,
               func.sum(case((Problem.raised_on.between(round_.opened_on, day), 1), else_=0)),
               func.sum(case((is_open, 1), else_=0)),
               func.sum(case((is_open & (Problem.due_on < day), 1), else_=0)),
               func.count(func.distinct(case((is_open, Problem.project_id)))))
        .where(Problem.project_id.in_(round_projects(round_.id)),
               is_open | Problem.raised_on.between(round_.opened_on, day))
        .group_by(Problem.department))
    result = [reports.DepartmentRow(d, int(n or 0), int(o or 0), int(late or 0), int(p or 0))
              for d, n, o, late, p in rows]
    return tuple(sorted(result, key=lambda r: (-r.projects, -r.open, r.department)))


def _missing(round_: Round) -> tuple[tuple[reports.MissingReport, ...], int]:
    condition = (RoundReport.round_id == round_.id,
                 RoundReport.status == ReportStatus.MISSING.value)
    total = db.session.scalar(select(func.count(RoundReport.id)).where(*condition))
    rows = db.session.execute(
        select(Project.name, Park.short_name, Staff.name).select_from(RoundReport)
        .join(Project, Project.id == RoundReport.project_id)
        .join(Park, Park.id == RoundReport.park_id)
        .outerjoin(Staff, Staff.id == RoundReport.reporter_staff_id)
        .where(*condition).order_by(RoundReport.park_id, Project.name).limit(MISSING_LISTED))
    return tuple(reports.MissingReport(n, p, s or "—") for n, p, s in rows), total


def round_report(round_id: int, *, today: dt.date, now: dt.datetime) -> reports.RoundReportData:
    """The report's data; ``now`` is the local time it is generated at."""
    round_ = db.session.get(Round, round_id)
    day = as_of(round_, today)
    counts, year_rows, previous = _park_rows(round_), _year_rows(round_), _previous_rows(round_)
    names = dict(db.session.execute(select(Park.id, Park.short_name).where(
        Park.id.in_(list(counts)))).all()) if counts else {}
    parks = []
    for park_id in sorted(counts):
        c = counts[park_id]
        planned, completed = year_rows.get(park_id, (0, 0))
        prev = previous.get(park_id)
        parks.append(reports.RoundParkRow(
            names.get(park_id, str(park_id)), c["total"] or 0, c["filled"] or 0, c["late"] or 0,
            c["missing"] or 0, int(c["investment"] or 0), completed, planned,
            int(c["advanced"] or 0), prev[0] if prev else None, prev[1] if prev else None))
    has_previous = round_.previous_id is not None
    total = reports.RoundParkRow(
        label("summary_scope", "city") if round_.park_id is None
        else names.get(round_.park_id, ""),
        *(sum(getattr(p, f) for p in parks) for f in (
            "projects", "filled", "late", "missing", "investment_period", "investment_year",
            "planned_year", "stages_advanced")),
        sum(v[0] for v in previous.values()) if has_previous else None,
        sum(v[1] for v in previous.values()) if has_previous else None)
    missing, missing_total = _missing(round_)
    previous_title = None
    if has_previous:
        previous_title = db.session.scalar(select(Round.title).where(
            Round.id == round_.previous_id))
    return reports.RoundReportData(
        title=round_.title, scope_label=total.park, cadence=label("cadence", round_.cadence),
        period_start=round_.period_start, period_end=round_.period_end,
        opened_on=round_.opened_on, due_on=round_.due_on,
        closed_on=local_date(round_.closed_at) if round_.closed_at else None,
        generated_at=now, year=round_.period_end.year, total=total, parks=tuple(parks),
        previous_title=previous_title, departments=_departments(round_, day),
        missing=missing, missing_total=missing_total)


# -- the workbook ---------------------------------------------------------------------------

def _park_cells(r: reports.RoundParkRow) -> list:
    pct = r.completion_pct
    return [r.park, r.projects, r.filled, r.late, r.missing, r.investment_period,
            r.investment_year, r.planned_year, round(pct, 1) if pct is not None else None,
            r.stages_advanced, r.previous_reported, r.previous_investment]


def _report_rows(round_: Round):
    state = queries.report_state(round_.due_on)
    stage, report_state = label_lookup("stage"), label_lookup("report_state")
    statement = (select(Project.name, Project.code, Park.short_name, Staff.name, state,
                        RoundReport.submitted_on, RoundReport.investment_completed,
                        RoundReport.stage_at_open, RoundReport.stage_reached,
                        RoundReport.progress, RoundReport.next_steps)
                 .select_from(RoundReport)
                 .join(Project, Project.id == RoundReport.project_id)
                 .join(Park, Park.id == RoundReport.park_id)
                 .outerjoin(Staff, Staff.id == RoundReport.reporter_staff_id)
                 .where(RoundReport.round_id == round_.id)
                 .order_by(RoundReport.park_id, Project.name, RoundReport.id))
    for (name, code, park, reporter, st, submitted, amount, at_open, reached, progress,
         next_steps) in batched(statement):
        yield [name, code or "", park, reporter or "", report_state(st), submitted, amount,
               stage(at_open), stage(reached) if reached else "", progress or "",
               next_steps or ""]


def round_workbook(round_id: int, data: reports.RoundReportData) -> bytes:
    """The round's workbook: parks, departments and every project's report (streamed)."""
    round_ = db.session.get(Round, round_id)
    parks = [*(_park_cells(p) for p in data.parks), _park_cells(data.total)]
    departments = [[d.department, d.new, d.open, d.overdue, d.projects]
                   for d in data.departments]
    out = write_workbook([
        (W["parks"], W["park_headers"], parks, (18, 10, 10, 10, 10, 16, 18, 16, 14, 12, 10, 16)),
        (W["departments"], W["department_headers"], departments, (30, 14, 12, 12, 10)),
        (W["reports"], W["report_headers"], _report_rows(round_),
         (30, 26, 14, 10, 10, 12, 14, 12, 12, 40, 40)),
    ])
    return out.read()
