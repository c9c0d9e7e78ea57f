"""The enterprise's part of its project's round report, filled on its progress page: what it
did and invested in the period, what it needs coordinated, who answered.  It informs the lead
agent's report (shown beside the form, its amount offered as the report's) and never replaces
it.  Flush, never commit."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from crm.audit import services as audit
from crm.db import utcnow
from crm.errors import DomainError, InvalidState
from crm.extensions import db
from crm.supervision.models import EnterprisePart, RoundReport
from crm.supervision.services.rounds import check_period_investment
from crm.transaction import check_version, flush, lock

AUDIT_ACTIONS = {
    "round.enterprise": _l("filled the enterprise's part of the supervision report"),
}


def fill(report: RoundReport, *, progress: str, investment_completed: int | None,
         needs: str | None, contact_name: str, contact_phone: str | None,
         expected_version: int | None = None) -> EnterprisePart:
    """Fill (or correct, while the round is open) the enterprise's part of ``report``."""
    lock(report.round)
    if not report.round.is_open:
        raise InvalidState(_l("This round is closed: its reports can no longer change."))
    part = report.enterprise_part
    if part is not None:
        check_version(part, expected_version)
    progress = (progress or "").strip()
    if not progress:
        raise DomainError(_l("Say what progress the project made in this period."), "progress")
    contact_name = (contact_name or "").strip()
    if not contact_name:
        raise DomainError(_l("Give the name of the person answering."), "contact_name")
    check_period_investment(report, investment_completed, "investment_completed")
    if part is None:
        part = EnterprisePart(report=report)
        db.session.add(part)
    part.progress = progress
    part.investment_completed = investment_completed
    part.needs = (needs or "").strip() or None
    part.contact_name = contact_name
    part.contact_phone = (contact_phone or "").strip() or None
    part.submitted_at = utcnow()
    audit.tag(part, "round.enterprise", contact_name)
    flush()
    return part
