"""Reads of supervision: who may see which round, report and problem; each report's state; the
round's progress per park and per person; investment completion; problems by department.

Each figure is defined once here (a SQL expression or a grouped query) and used by the
pages, the API, the round report (PDF, xlsx) and the dashboards.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import abort
from sqlalchemy import and_, case, exists, func, literal, or_, select, true
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from crm.agents.models import Staff
from crm.auth.models import Role, User
from crm.auth.scope import park_condition, project_condition, sees_all
from crm.extensions import db
from crm.milestones.calendar import WorkCalendar
from crm.milestones.models import ApprovalItem
from crm.parks.models import Park
from crm.projects.models import Project
from crm.supervision.models import (
    Department, InvestmentPlan, Meeting, Problem, ProblemStatus, ReportStatus, Round, RoundReport,
    meeting_problems,
)

FILLED, LATE, MISSING = "filled", "late", "missing"
STATES = (FILLED, LATE, MISSING)
PAGE_SIZE = 50


# -- a report's state -----------------------------------------------------------------------

def state_condition(state: str, due_on=Round.due_on):
    """The reports in a state: ``filled`` by the due date, ``late`` (filled after it) or
    ``missing``.  Plain conditions on the row, so a filter can use the round's index."""
    filled = RoundReport.status == ReportStatus.FILLED.value
    return {MISSING: RoundReport.status == ReportStatus.MISSING.value,
            LATE: and_(filled, RoundReport.submitted_on > due_on),
            FILLED: and_(filled, RoundReport.submitted_on <= due_on)}[state]


def report_state(due_on=Round.due_on):
    """A report's state as a column (``state_condition`` of each state)."""
    return case((state_condition(MISSING, due_on), literal(MISSING)),
                (state_condition(LATE, due_on), literal(LATE)), else_=literal(FILLED))


def _counts(due_on):
    state = report_state(due_on)
    return (func.count(RoundReport.id).label("total"),
            func.sum(case((state == FILLED, 1), else_=0)).label(FILLED),
            func.sum(case((state == LATE, 1), else_=0)).label(LATE),
            func.sum(case((state == MISSING, 1), else_=0)).label(MISSING))


@dataclass(frozen=True)
class Progress:
    """How far a round (or a park's, a person's part of it) has got."""

    key: object
    label: str
    total: int
    filled: int
    late: int
    missing: int

    @property
    def reported(self) -> int:
        return self.filled + self.late


# -- scope ----------------------------------------------------------------------------------

def report_condition(user: User):
    """The reports the user may see: those of the projects in their scope."""
    return project_condition(user, RoundReport.project_id, RoundReport.park_id)


def round_condition(user: User):
    """The rounds the user may see: every round (admins, leaders); the rounds of their parks
    and the city's rounds (park managers, who see their parks' part of a city round); the
    rounds that hold one of their projects (consultants, agents)."""
    if sees_all(user):
        return true()
    if user.role == Role.PARK_MANAGER:
        return or_(park_condition(user, Round.park_id), Round.park_id.is_(None))
    return exists(select(RoundReport.id).where(RoundReport.round_id == Round.id,
                                               report_condition(user)))


def runs_round(user: User, round_: Round) -> bool:
    """Whether the user runs (closes) a round they can see: the city's rounds are the city
    bureau's (admins, leaders); a park's, its managers' too.  Their role must also allow
    running rounds (``Action.ROUND_RUN``)."""
    return sees_all(user) or round_.park_id is not None


def state_of(report: RoundReport) -> str:
    """One report's state (``report_state``), read from the database."""
    return db.session.scalar(select(report_state(Round.due_on))
                             .join(Round, Round.id == RoundReport.round_id)
                             .where(RoundReport.id == report.id))


def get_round_or_404(user: User, round_id: int) -> Round:
    found = db.session.scalar(select(Round).where(Round.id == round_id, round_condition(user))
                              .options(joinedload(Round.park)))
    if found is None:
        abort(404)
    return found


def get_report_or_404(user: User, round_id: int, project_id: int) -> RoundReport:
    """A project's report in a round; 404 when the project is not in the round or not in the
    user's scope."""
    found = db.session.scalar(
        select(RoundReport).where(RoundReport.round_id == round_id,
                                  RoundReport.project_id == project_id, report_condition(user))
        .options(joinedload(RoundReport.round), joinedload(RoundReport.project),
                 joinedload(RoundReport.reporter), joinedload(RoundReport.enterprise_part)))
    if found is None:
        abort(404)
    return found


# -- rounds ---------------------------------------------------------------------------------

def rounds_page(user: User, page: int = 1, size: int = 20) -> tuple[list[tuple[Round, Progress]], bool]:
    """The newest rounds the user may see, each with the progress of the part they may see;
    whether older ones exist.  Two queries."""
    rounds = list(db.session.scalars(
        select(Round).where(round_condition(user)).options(joinedload(Round.park))
        .order_by(Round.opened_on.desc(), Round.id.desc())
        .limit(size + 1).offset((max(page, 1) - 1) * size)))
    more = len(rounds) > size
    rounds = rounds[:size]
    counts = {}
    if rounds:
        rows = db.session.execute(
            select(RoundReport.round_id, *_counts(Round.due_on))
            .join(Round, Round.id == RoundReport.round_id)
            .where(RoundReport.round_id.in_([r.id for r in rounds]), report_condition(user))
            .group_by(RoundReport.round_id))
        counts = {row.round_id: row for row in rows}
    result = []
    for r in rounds:
        row = counts.get(r.id)
        result.append((r, _progress(r.id, r.title, row)))
    return result, more


def _progress(key, text, row) -> Progress:
    if row is None:
        return Progress(key, text, 0, 0, 0, 0)
    return Progress(key, text, row.total or 0, row.filled or 0, row.late or 0, row.missing or 0)


def progress_by_park(user: User, round_: Round) -> list[Progress]:
    rows = db.session.execute(
        select(RoundReport.park_id, Park.short_name, *_counts(round_.due_on))
        .join(Park, Park.id == RoundReport.park_id)
        .where(RoundReport.round_id == round_.id, report_condition(user))
        .group_by(RoundReport.park_id, Park.short_name).order_by(RoundReport.park_id))
    return [_progress(row.park_id, row.short_name, row) for row in rows]


def progress_by_person(user: User, round_: Round, limit: int = 100) -> list[Progress]:
    """Per reporter, those with the most reports missing first (at most ``limit``)."""
    counts = _counts(round_.due_on)
    rows = db.session.execute(
        select(RoundReport.reporter_staff_id, Staff.name, *counts)
        .outerjoin(Staff, Staff.id == RoundReport.reporter_staff_id)
        .where(RoundReport.round_id == round_.id, report_condition(user))
        .group_by(RoundReport.reporter_staff_id, Staff.name)
        .order_by(counts[3].desc(), counts[2].desc(), Staff.name).limit(limit))
    return [_progress(row.reporter_staff_id, row.name or "", row) for row in rows]


def total_progress(parts: list[Progress], key, text: str) -> Progress:
    return Progress(key, text, sum(p.total for p in parts), sum(p.filled for p in parts),
                    sum(p.late for p in parts), sum(p.missing for p in parts))


@dataclass(frozen=True)
class ReportRow:
    report: RoundReport
    project_name: str
    park_name: str
    reporter_name: str | None
    state: str


def report_rows(user: User, round_: Round, *, state: str | None = None,
                park_id: int | None = None, page: int = 1,
                size: int = PAGE_SIZE) -> tuple[list[ReportRow], bool]:
    """A page of the round's reports in the user's scope (missing first), and whether more
    follow.  One query."""
    column = report_state(round_.due_on)
    query = (select(RoundReport, Project.name, Park.short_name, Staff.name, column.label("state"))
             .join(Project, Project.id == RoundReport.project_id)
             .join(Park, Park.id == RoundReport.park_id)
             .outerjoin(Staff, Staff.id == RoundReport.reporter_staff_id)
             .where(RoundReport.round_id == round_.id, report_condition(user)))
    if state in STATES:
        query = query.where(state_condition(state, round_.due_on))
    if park_id is not None:
        query = query.where(RoundReport.park_id == park_id)
    order = case((column == MISSING, 0), (column == LATE, 1), else_=2)
    rows = db.session.execute(query.order_by(order, RoundReport.park_id, Project.name,
                                             RoundReport.id)
                              .limit(size + 1).offset((max(page, 1) - 1) * size)).all()
    return [ReportRow(*row) for row in rows[:size]], len(rows) > size


def owed_reports(user: User, limit: int = 20) -> list[tuple[RoundReport, str]]:
    """The reports the user still owes in open rounds (their agent's missing reports), the
    soonest due first, with the project's name."""
    if user.staff_id is None:
        return []
    return [tuple(row) for row in db.session.execute(
        select(RoundReport, Project.name).join(Round, Round.id == RoundReport.round_id)
        .join(Project, Project.id == RoundReport.project_id)
        .where(RoundReport.reporter_staff_id == user.staff_id,
               RoundReport.status == ReportStatus.MISSING.value, Round.status == "open")
        .options(joinedload(RoundReport.round))
        .order_by(Round.due_on, Project.name).limit(limit))]


def open_reports_of_project(project_id: int, round_id: int | None = None) -> list[RoundReport]:
    """The project's reports in open rounds (or in the open round ``round_id``), the soonest
    due first, with their rounds and the enterprise's parts.  One query."""
    query = (select(RoundReport).join(Round, Round.id == RoundReport.round_id)
             .where(RoundReport.project_id == project_id, Round.status == "open")
             .options(contains_eager(RoundReport.round), joinedload(RoundReport.enterprise_part))
             .order_by(Round.due_on, Round.id))
    if round_id is not None:
        query = query.where(Round.id == round_id)
    return list(db.session.scalars(query))


def previous_report(report: RoundReport) -> RoundReport | None:
    """The project's report in the previous round of the same scope."""
    previous_id = report.round.previous_id
    if previous_id is None:
        return None
    return db.session.scalar(select(RoundReport).where(RoundReport.round_id == previous_id,
                                                       RoundReport.project_id == report.project_id))


def missing_reporters(round_id: int) -> dict[int, int]:
    """user id -> how many reports they still owe in the round (reporters with a login)."""
    rows = db.session.execute(
        select(User.id, func.count(RoundReport.id))
        .join(User, User.staff_id == RoundReport.reporter_staff_id)
        .where(RoundReport.round_id == round_id,
               RoundReport.status == ReportStatus.MISSING.value, User.active.is_(True))
        .group_by(User.id))
    return {user_id: count for user_id, count in rows}


# -- investment -----------------------------------------------------------------------------

def _year_bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def completed_in_year(year: int):
    """Reports counted in a year's completed investment: filled, in a round whose period
    ends in that year (select of project_id, park_id, amount)."""
    first, last = _year_bounds(year)
    return (select(RoundReport.project_id, RoundReport.park_id,
                   func.coalesce(RoundReport.investment_completed, 0).label("amount"))
            .join(Round, Round.id == RoundReport.round_id)
            .where(RoundReport.status == ReportStatus.FILLED.value,
                   Round.period_end.between(first, last)))


def completion_pct(planned: int, completed: int) -> float | None:
    """年度计划完成率: completed ÷ planned, in per cent (None without a plan)."""
    return round(100 * completed / planned, 1) if planned else None


@dataclass(frozen=True)
class ProjectInvestment:
    year: int
    planned: int | None
    completed_year: int
    cumulative: int
    total: int
    periods: list[tuple[str, int]]  # (round's period end, amount) in the year

    @property
    def pct(self) -> float | None:
        return completion_pct(self.planned or 0, self.completed_year)


def project_investment(project: Project, year: int) -> ProjectInvestment:
    """A project's plan for the year against what its reports say was completed.  Two
    queries."""
    planned = db.session.scalar(select(InvestmentPlan.planned).where(
        InvestmentPlan.project_id == project.id, InvestmentPlan.year == year))
    rows = db.session.execute(
        select(Round.period_end, func.coalesce(RoundReport.investment_completed, 0))
        .join(Round, Round.id == RoundReport.round_id)
        .where(RoundReport.project_id == project.id,
               RoundReport.status == ReportStatus.FILLED.value)
        .order_by(Round.period_end, Round.id)).all()
    first, last = _year_bounds(year)
    periods = [(end.isoformat(), int(amount)) for end, amount in rows if first <= end <= last]
    return ProjectInvestment(year, planned, sum(a for _, a in periods),
                             sum(int(a) for _, a in rows), project.investment, periods)


def cumulative_investment(project_id: int, *, excluding_report: int | None = None) -> int:
    """What the project's filled reports say it has invested so far, 万元."""
    query = select(func.coalesce(func.sum(RoundReport.investment_completed), 0)).where(
        RoundReport.project_id == project_id, RoundReport.status == ReportStatus.FILLED.value)
    if excluding_report is not None:
        query = query.where(RoundReport.id != excluding_report)
    return int(db.session.scalar(query) or 0)


# -- problems -------------------------------------------------------------------------------

def departments() -> list[str]:
    """The departments a problem can be taken to: the approval catalogue's and the extra ones
    an admin added, in order."""
    names = set(db.session.scalars(select(ApprovalItem.department).where(
        ApprovalItem.active.is_(True)).distinct()))
    names |= set(db.session.scalars(select(Department.name).where(Department.active.is_(True))))
    return sorted(n for n in names if n)


def problem_condition(user: User):
    return project_condition(user, Problem.project_id, Problem.park_id)


def get_problem_or_404(user: User, problem_id: int) -> Problem:
    found = db.session.scalar(
        select(Problem).where(Problem.id == problem_id, problem_condition(user))
        .options(joinedload(Problem.project), joinedload(Problem.owner),
                 joinedload(Problem.blocker), selectinload(Problem.meetings)))
    if found is None:
        abort(404)
    return found


def overdue_condition(today: dt.date):
    return and_(Problem.status == ProblemStatus.OPEN.value, Problem.due_on < today)


def problems_page(user: User, *, status: str | None = "open", department: str | None = None,
                  level: str | None = None, park_id: int | None = None,
                  project_id: int | None = None, page: int = 1,
                  size: int = PAGE_SIZE) -> tuple[list[Problem], bool]:
    query = (select(Problem).where(problem_condition(user))
             .options(joinedload(Problem.project), joinedload(Problem.owner)))
    if status in ("open", "resolved"):
        query = query.where(Problem.status == status)
    if department:
        query = query.where(Problem.department == department)
    if level:
        query = query.where(Problem.level == level)
    if park_id is not None:
        query = query.where(Problem.park_id == park_id)
    if project_id is not None:
        query = query.where(Problem.project_id == project_id)
    rows = list(db.session.scalars(query.order_by(Problem.due_on, Problem.id)
                                   .limit(size + 1).offset((max(page, 1) - 1) * size)))
    return rows[:size], len(rows) > size


@dataclass(frozen=True)
class DepartmentLoad:
    """Open problems held by one department: the figure leadership asks for."""

    department: str
    problems: int
    projects: int
    overdue: int
    workdays_open: int  # summed over its open problems
    oldest: dt.date | None


def open_by_department(condition, today: dt.date, calendar: WorkCalendar,
                       since: dt.date | None = None) -> list[DepartmentLoad]:
    """Departments by the projects their open problems hold up, then by working days open.

    Grouped in SQL by department and raising day; the working days come from the calendar's
    ordinals per distinct day (a few hundred at most), never per problem.
    """
    query = (select(Problem.department, Problem.raised_on, func.count(Problem.id),
                    func.sum(case((Problem.due_on < today, 1), else_=0)))
             .where(Problem.status == ProblemStatus.OPEN.value, condition)
             .group_by(Problem.department, Problem.raised_on))
    projects = dict(db.session.execute(
        select(Problem.department, func.count(func.distinct(Problem.project_id)))
        .where(Problem.status == ProblemStatus.OPEN.value, condition)
        .group_by(Problem.department)).all())
    if since is not None:
        query = query.where(Problem.raised_on >= since)
    loads: dict[str, list] = {}
    today_ordinal = calendar.ordinal(today)
    for department, raised_on, count, overdue in db.session.execute(query):
        days = max(today_ordinal - calendar.ordinal(raised_on), 0) * count
        entry = loads.setdefault(department, [0, 0, 0, None])
        entry[0] += count
        entry[1] += int(overdue or 0)
        entry[2] += days
        entry[3] = raised_on if entry[3] is None else min(entry[3], raised_on)
    result = [DepartmentLoad(d, e[0], projects.get(d, 0), e[1], e[2], e[3])
              for d, e in loads.items()]
    return sorted(result, key=lambda d: (-d.projects, -d.workdays_open, d.department))


def workdays_open(problem: Problem, today: dt.date, calendar: WorkCalendar) -> int:
    end = today if problem.is_open or problem.resolved_at is None else problem.resolved_at.date()
    return max(calendar.ordinal(end) - calendar.ordinal(problem.raised_on), 0)


def problem_of_blocker(blocker_id: int) -> int | None:
    """The id of the problem a blocker was raised as, if it was."""
    return db.session.scalar(select(Problem.id).where(Problem.blocker_id == blocker_id))


def project_problems(project_id: int) -> list[Problem]:
    return list(db.session.scalars(
        select(Problem).where(Problem.project_id == project_id)
        .options(joinedload(Problem.owner))
        .order_by(Problem.status, Problem.due_on, Problem.id)))


def owner_choices(park_id: int) -> list[tuple[int, str]]:
    """Who may own a problem of a park: its managers, the city's leaders and the admins."""
    from crm.auth.models import user_parks

    managers = select(user_parks.c.user_id).where(user_parks.c.park_id == park_id)
    rows = db.session.execute(
        select(User.id, User.display_name).where(
            User.active.is_(True),
            or_(User.role.in_((Role.ADMIN.value, Role.LEADER.value)),
                and_(User.role == Role.PARK_MANAGER.value, User.id.in_(managers))))
        .order_by(User.role, User.display_name))
    return [tuple(row) for row in rows]


# -- meetings -------------------------------------------------------------------------------

def meeting_condition(user: User):
    """Every meeting (admins, leaders); their parks' and the city's (park managers); the
    meetings that took one of their projects' problems (consultants, agents)."""
    if sees_all(user):
        return true()
    if user.role == Role.PARK_MANAGER:
        return or_(park_condition(user, Meeting.park_id), Meeting.park_id.is_(None))
    return exists(select(Problem.id).join(meeting_problems,
                                          meeting_problems.c.problem_id == Problem.id)
                  .where(meeting_problems.c.meeting_id == Meeting.id, problem_condition(user)))


def get_meeting_or_404(user: User, meeting_id: int) -> Meeting:
    found = db.session.scalar(
        select(Meeting).where(Meeting.id == meeting_id, meeting_condition(user))
        .options(joinedload(Meeting.park), selectinload(Meeting.problems)))
    if found is None:
        abort(404)
    return found


def meetings_page(user: User, page: int = 1, size: int = 20) -> tuple[list[Meeting], bool]:
    rows = list(db.session.scalars(
        select(Meeting).where(meeting_condition(user)).options(joinedload(Meeting.park))
        .order_by(Meeting.held_on.desc(), Meeting.id.desc())
        .limit(size + 1).offset((max(page, 1) - 1) * size)))
    return rows[:size], len(rows) > size


def open_problem_choices(user: User, park_id: int | None, limit: int = 200) -> list[tuple[int, str]]:
    """Open problems a meeting may take: in the user's scope (and the meeting's park)."""
    query = (select(Problem.id, Project.name, Problem.department, Problem.summary)
             .join(Project, Project.id == Problem.project_id)
             .where(Problem.status == ProblemStatus.OPEN.value, problem_condition(user)))
    if park_id is not None:
        query = query.where(Problem.park_id == park_id)
    rows = db.session.execute(query.order_by(Problem.due_on, Problem.id).limit(limit))
    return [(pid, f"{name} · {dept} · {summary[:40]}") for pid, name, dept, summary in rows]
