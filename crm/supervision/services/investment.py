"""A project's annual investment plan (年度计划投资), the yardstick of its completion."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from crm.audit import services as audit
from crm.errors import DomainError
from crm.extensions import db
from crm.projects.models import Project
from crm.supervision.models import InvestmentPlan

AUDIT_ACTIONS = {"investment.plan": _l("set the annual investment plan")}
FIRST_YEAR = 2000
YEARS_AHEAD = 10


def set_plan(project: Project, *, year: int, planned: int, today: dt.date) -> InvestmentPlan:
    """Set (or change) what the project plans to invest in ``year``, 万元."""
    if not FIRST_YEAR <= year <= today.year + YEARS_AHEAD:
        raise DomainError(_l("Choose a year between %(first)s and %(last)s.", first=FIRST_YEAR,
                             last=today.year + YEARS_AHEAD), "year")
    if planned < 0:
        raise DomainError(_l("The planned investment cannot be negative."), "planned")
    if planned > project.investment:
        raise DomainError(_l("A year's plan cannot exceed the project's total investment of "
                             "%(total)s 万元.", total=project.investment), "planned")
    plan = db.session.scalar(select(InvestmentPlan).where(
        InvestmentPlan.project_id == project.id, InvestmentPlan.year == year))
    if plan is None:
        plan = InvestmentPlan(project_id=project.id, year=year, planned=planned)
        db.session.add(plan)
    else:
        plan.planned = planned
    audit.tag(plan, "investment.plan")
    db.session.flush()
    return plan
