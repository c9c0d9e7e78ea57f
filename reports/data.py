"""What the builders take: plain, frozen dataclasses made by the caller (the job).

Every string here is data (possibly typed by a user) and is escaped by the builders before it
enters ReportLab markup.  Labels of codes (stage, state, role) arrive already translated.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Person:
    role: str  # display label, e.g. 首席审批服务咨询师
    name: str
    phone: str | None = None


@dataclass(frozen=True)
class PlanItem:
    name: str
    department: str | None
    limit_value: int
    limit_unit: str  # "working" or "calendar"
    accepted_on: dt.date | None
    due_on: dt.date | None
    due_provisional: bool
    status: str  # stored lifecycle: pending, running, paused, done, waived
    state: str  # derived SLA state: pending, on_track, due_soon, overdue, paused, met, missed, waived
    state_label: str
    remaining_workdays: int | None = None  # paused milestones: the frozen working days left
    completed_on: dt.date | None = None
    needs: tuple[str, ...] = ()  # the items it needs issued first (parallel approvals)
    forecast_on: dt.date | None = None  # not yet issued: the expected issue date


@dataclass(frozen=True)
class OrderPromise:
    """The park's whole-chain promise: ``limit_workdays`` working days from the issue of
    ``start_item`` to the issue of ``end_item``; ``due_on`` once the clock has started."""

    name: str
    start_item: str
    end_item: str
    limit_workdays: int
    due_on: dt.date | None = None
    state: str | None = None  # not_started, on_track, at_risk, overdue, met, missed (as of the day)


@dataclass(frozen=True)
class ServiceOrder:
    order_number: str  # FW-2026-000123
    version: int
    issued_on: dt.date
    park_name: str
    project_name: str
    project_code: str | None
    investor_name: str
    investment_wan: int
    stage_label: str
    contact_name: str | None
    contact_phone: str | None
    project_url: str  # carried by the QR code
    staff: tuple[Person, ...] = ()
    plan: tuple[PlanItem, ...] = ()
    description: str | None = None
    promises: tuple[str, ...] | None = None  # None: the standard promises (reports.text)
    forecast_on: dt.date | None = None  # the expected date of the last approval
    forecast_provisional: bool = False
    chain_promise: OrderPromise | None = None
    generated_at: dt.datetime | None = None  # local time, shown in the footer


def compliance_pct(met: int, missed: int) -> float | None:
    """Share of completed milestones that met their deadline, in % (None: none completed)."""
    done = met + missed
    return None if done == 0 else 100.0 * met / done


@dataclass(frozen=True)
class KeyFigures:
    active_projects: int
    total_investment_wan: int
    milestones_met: int
    milestones_missed: int
    milestones_overdue: int
    workdays_saved: int
    milestones_extended: int = 0  # of the met and missed: after a statutory extension
    promises_at_risk: int = 0  # projects whose whole-chain promise is forecast to be missed
    promises_overdue: int = 0  # projects past the promised day, not yet through
    promises_running: int = 0  # running promises with a forecast ...
    promise_margin_workdays: int = 0  # ... the sum of their margins (< 0: forecast late)
    ratings: int = 0  # the enterprises' ratings given in the period ...
    ratings_satisfied: int = 0  # ... their scores of 4 or 5, over the five dimensions
    # ... and per dimension (政务公开, 办件规范, 办事便利, 文明服务, 纪律执行, in that order)
    satisfied_by_dimension: tuple[int, ...] = ()
    cases_late: int = 0  # bad-review cases past their due day

    @property
    def compliance_pct(self) -> float | None:
        return compliance_pct(self.milestones_met, self.milestones_missed)

    @property
    def satisfaction_pct(self) -> float | None:
        """Scores of 4 or 5 ÷ all scores (five per rating)."""
        return 100.0 * self.ratings_satisfied / (5 * self.ratings) if self.ratings else None

    @property
    def promise_margin_avg(self) -> float | None:
        """Forecast vs promise: average working days ahead (> 0) or behind (< 0)."""
        if not self.promises_running:
            return None
        return self.promise_margin_workdays / self.promises_running


@dataclass(frozen=True)
class Count:
    label: str
    value: int


@dataclass(frozen=True)
class ComplianceRow:
    label: str
    met: int
    missed: int

    @property
    def pct(self) -> float | None:
        return compliance_pct(self.met, self.missed)


@dataclass(frozen=True)
class OverdueRow:
    project_name: str
    park_name: str
    item_name: str
    due_on: dt.date
    workdays_overdue: int  # working days since the due date (0: due on a day before a weekend)
    owner_name: str | None = None


@dataclass(frozen=True)
class BlockerRow:
    project_name: str
    park_name: str
    raised_on: dt.date
    calendar_days_open: int
    text: str


@dataclass(frozen=True)
class WorkloadRow:
    name: str
    kind_label: str
    parks: tuple[str, ...]
    active_projects: int
    capacity: int
    overdue: int = 0

    @property
    def load_pct(self) -> float:
        return 100.0 * self.active_projects / self.capacity if self.capacity else 0.0


@dataclass(frozen=True)
class Summary:
    scope_label: str  # 全市 or the park's name
    period_start: dt.date
    period_end: dt.date
    generated_at: dt.datetime  # local time
    figures: KeyFigures
    stages: tuple[Count, ...] = ()
    compliance: tuple[ComplianceRow, ...] = ()
    compliance_by: str = "park"  # "park" (city summary) or "item" (one park)
    overdue: tuple[OverdueRow, ...] = ()
    overdue_total: int | None = None  # rows beyond those listed are counted, not listed
    blockers: tuple[BlockerRow, ...] = ()
    blockers_total: int | None = None
    workload: tuple[WorkloadRow, ...] = ()
    workload_total: int | None = None


# -- supervision round report (调度报告) ------------------------------------------------------

@dataclass(frozen=True)
class RoundParkRow:
    """One park's part of a round (or the whole round's, as the total row)."""

    park: str
    projects: int
    filled: int
    late: int
    missing: int
    investment_period: int  # 万元 completed in the round's period
    investment_year: int  # 万元 completed in the year so far
    planned_year: int  # 万元 planned for the year
    stages_advanced: int  # projects whose stage moved on since the previous round
    previous_reported: int | None = None  # the previous round's figures, when there was one
    previous_investment: int | None = None

    @property
    def reported(self) -> int:
        return self.filled + self.late

    @property
    def completion_pct(self) -> float | None:
        return 100.0 * self.investment_year / self.planned_year if self.planned_year else None


@dataclass(frozen=True)
class DepartmentRow:
    department: str
    new: int  # raised during the round
    open: int
    overdue: int
    projects: int  # projects held up by its open problems


@dataclass(frozen=True)
class MissingReport:
    project: str
    park: str
    reporter: str


@dataclass(frozen=True)
class RoundReportData:
    title: str
    scope_label: str  # 全市 or the park's name
    cadence: str  # label
    period_start: dt.date
    period_end: dt.date
    opened_on: dt.date
    due_on: dt.date
    closed_on: dt.date | None
    generated_at: dt.datetime  # local time
    year: int
    total: RoundParkRow
    parks: tuple[RoundParkRow, ...] = ()
    previous_title: str | None = None
    departments: tuple[DepartmentRow, ...] = ()
    missing: tuple[MissingReport, ...] = ()
    missing_total: int = 0
