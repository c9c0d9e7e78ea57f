"""What the enterprise's progress page reads beyond the service order's data: its address,
the approvals waiting on the enterprise, the milestones reached and the latest service order.
Only what the enterprise may see: no internal notes, blockers, workload or other projects."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import aliased, joinedload, undefer

from crm.agents.models import Assignment, Staff
from crm.agents.queries import LEAD_AGENT
from crm.documents.models import GeneratedDocument
from crm.extensions import db
from crm.milestones.models import Milestone, MilestonePause, MilestoneStatus
from crm.portal.models import (
    DIMENSIONS, SATISFIED, STEP_STATUSES, CallbackItem, EnterpriseLink, EnterpriseView,
    OrderConfirmation,
    Rating, SatisfactionCase,
)
from crm.portal.services import active_link, ready_orders, secret
from crm.portal.services.ratings import CHANGE_DAYS
from crm.parks.models import Park
from crm.projects.models import Project, Stage

REACHED_ROWS = 10
# Pauses that wait on the enterprise (the others wait on experts, a hearing, a laboratory).
ENTERPRISE_REASONS = ("supplement", "enterprise")


class Waiting(NamedTuple):
    item: str
    reason_code: str  # pause_reason label group
    since: dt.date
    document_ref: str | None


class Reached(NamedTuple):
    item: str
    completed_on: dt.date
    document_no: str | None


class Order(NamedTuple):
    document_id: int
    version: int
    finished_at: dt.datetime | None
    confirmed_by: str | None  # the enterprise's signer, once this version is confirmed
    confirmed_at: dt.datetime | None


def page_url(link: EnterpriseLink) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/e/{link.token(secret())}"


def link_url(project_id: int) -> str | None:
    """The address of the project's active enterprise link (what its QR code carries)."""
    link = active_link(project_id)
    return page_url(link) if link is not None else None


def link_with_views(project_id: int) -> tuple[EnterpriseLink | None, int, dt.datetime | None]:
    """The project's active link, how often its page was opened and when last."""
    row = db.session.execute(
        select(EnterpriseLink, func.count(EnterpriseView.id), func.max(EnterpriseView.viewed_at))
        .outerjoin(EnterpriseView, EnterpriseView.link_id == EnterpriseLink.id)
        .where(EnterpriseLink.project_id == project_id, EnterpriseLink.active)
        .group_by(EnterpriseLink.id)).first()
    if row is None or not row[0].valid_under(secret()):  # a key change killed it
        return None, 0, None
    return row[0], row[1], row[2]


def waiting_on_enterprise(project_id: int) -> list[Waiting]:
    """Approvals whose clock is stopped until the enterprise acts (supplementing materials, its
    own reasons), oldest first."""
    rows = db.session.execute(
        select(Milestone.name, MilestonePause.reason_code, MilestonePause.paused_on,
               MilestonePause.document_ref)
        .join(MilestonePause, MilestonePause.milestone_id == Milestone.id)
        .where(Milestone.project_id == project_id, Milestone.status == MilestoneStatus.PAUSED,
               MilestonePause.resumed_on.is_(None),
               MilestonePause.reason_code.in_(ENTERPRISE_REASONS))
        .order_by(MilestonePause.paused_on, Milestone.sequence))
    return [Waiting(*row) for row in rows]


def reached(project_id: int, limit: int = REACHED_ROWS) -> list[Reached]:
    rows = db.session.execute(
        select(Milestone.name, Milestone.completed_on, Milestone.approval_doc_no)
        .where(Milestone.project_id == project_id, Milestone.status == MilestoneStatus.DONE)
        .order_by(Milestone.completed_on.desc(), Milestone.sequence.desc()).limit(limit))
    return [Reached(*row) for row in rows]


def latest_order(project_id: int) -> Order | None:
    """The latest service order ready to download, and whether the enterprise confirmed it."""
    row = db.session.execute(ready_orders(
        select(GeneratedDocument.id, GeneratedDocument.doc_version, GeneratedDocument.finished_at,
               OrderConfirmation.signer_name, OrderConfirmation.confirmed_at)
        .outerjoin(OrderConfirmation, OrderConfirmation.document_id == GeneratedDocument.id),
        project_id).limit(1)).first()
    return Order(*row) if row else None


def order_content(document_id: int) -> GeneratedDocument | None:
    """A ready service order with its bytes (the enterprise's download)."""
    doc = db.session.scalar(select(GeneratedDocument).options(undefer(GeneratedDocument.content))
                            .where(GeneratedDocument.id == document_id))
    return doc if doc is not None and doc.content is not None else None


def confirmations(document_ids) -> dict[int, OrderConfirmation]:
    """The enterprise's confirmations of these service orders, by document id."""
    if not document_ids:
        return {}
    return {c.document_id: c for c in db.session.scalars(
        select(OrderConfirmation).where(OrderConfirmation.document_id.in_(list(document_ids))))}


# -- ratings and bad-review cases -------------------------------------------------------------

class Target(NamedTuple):
    """Something the enterprise may rate: a finished milestone, or the whole service (None)."""

    milestone_id: int | None
    name: str | None  # None: the whole service
    completed_on: dt.date | None
    rating: Rating | None  # the enterprise's rating of it
    changeable: bool  # no rating yet, within the days to change it, or a case waits on it


def rating_targets(project, now: dt.datetime) -> list[Target]:
    """What the enterprise may rate, latest first, with its ratings so far (three queries)."""
    ratings = {r.milestone_id: r for r in db.session.scalars(
        select(Rating).where(Rating.project_id == project.id, Rating.source == "online"))}
    waiting = set(db.session.scalars(select(SatisfactionCase.rating_id).where(
        SatisfactionCase.project_id == project.id, SatisfactionCase.status != "closed",
        SatisfactionCase.rating_id.is_not(None))))
    rows = [(None, None, None)] if project.stage == Stage.APPROVED.value else []
    rows += db.session.execute(
        select(Milestone.id, Milestone.name, Milestone.completed_on)
        .where(Milestone.project_id == project.id, Milestone.status == MilestoneStatus.DONE)
        .order_by(Milestone.completed_on.desc(), Milestone.sequence.desc())).all()

    def changeable(rating):
        return (rating is None or rating.id in waiting
                or now - rating.submitted_at <= dt.timedelta(CHANGE_DAYS))
    return [Target(mid, name, done, ratings.get(mid), changeable(ratings.get(mid)))
            for mid, name, done in rows]


def satisfaction_columns():
    """SQL aggregates over Rating: the count, then per dimension (``DIMENSIONS``) how many
    scored 4 or 5; a satisfaction rate is their ratio."""
    return (func.count(Rating.id),
            *(func.count().filter(getattr(Rating, d) >= SATISFIED) for d in DIMENSIONS))


def case_late_condition(today: dt.date):
    """SQL condition on SatisfactionCase: past its due day with its step not done (a new case
    not classified, a classified one not rectified or accepted)."""
    return SatisfactionCase.status.in_(STEP_STATUSES) & (SatisfactionCase.due_on < today)


def project_feedback(project_id: int) -> tuple[list[Rating], list[SatisfactionCase]]:
    """The project's ratings (with the milestone rated and who served) and its cases, newest
    first (three queries)."""
    ratings = list(db.session.scalars(
        select(Rating).where(Rating.project_id == project_id)
        .options(joinedload(Rating.milestone), joinedload(Rating.staff))
        .order_by(Rating.submitted_at.desc())))
    cases = list(db.session.scalars(
        select(SatisfactionCase).where(SatisfactionCase.project_id == project_id)
        .options(joinedload(SatisfactionCase.assignee))
        .order_by(SatisfactionCase.opened_at.desc())))
    return ratings, cases


def project_case(project_id: int, case_id: int) -> SatisfactionCase | None:
    return db.session.scalar(select(SatisfactionCase).where(
        SatisfactionCase.id == case_id, SatisfactionCase.project_id == project_id))


# -- the monthly callback sample ----------------------------------------------------------------

class CallbackRow(NamedTuple):
    item_id: int
    park: str
    project_id: int
    project: str
    investor: str
    contact_name: str | None
    contact_phone: str | None
    milestone: str
    department: str | None
    accepted_on: dt.date | None
    completed_on: dt.date | None
    served_by: str | None  # the milestone's owner, else the project's lead agent
    rating: Rating | None  # the result, once entered


def callback_months(condition) -> list[tuple[str, int, int]]:
    """(month, items, results entered) of the samples in scope, newest first."""
    return db.session.execute(
        select(CallbackItem.month, func.count(), func.count(CallbackItem.rating_id))
        .where(condition).group_by(CallbackItem.month)
        .order_by(CallbackItem.month.desc())).all()


def callback_rows(month: str, condition) -> list[CallbackRow]:
    """The month's sample in scope, by park and project (one query)."""
    lead = aliased(Staff)
    owner = aliased(Staff)
    lead_id = (select(Assignment.staff_id).where(
        Assignment.project_id == Project.id, Assignment.role == LEAD_AGENT,
        Assignment.ended_at.is_(None)).limit(1).scalar_subquery())
    rows = db.session.execute(
        select(CallbackItem.id, Park.name, Project.id, Project.name, Project.investor_name,
               Project.contact_name, Project.contact_phone, Milestone.name, Milestone.department,
               Milestone.accepted_on, Milestone.completed_on,
               func.coalesce(owner.name, lead.name), Rating)
        .join(Milestone, Milestone.id == CallbackItem.milestone_id)
        .join(Project, Project.id == CallbackItem.project_id)
        .join(Park, Park.id == CallbackItem.park_id)
        .outerjoin(owner, owner.id == Milestone.owner_staff_id)
        .outerjoin(lead, lead.id == lead_id)
        .outerjoin(Rating, Rating.id == CallbackItem.rating_id)
        .where(CallbackItem.month == month, condition)
        .order_by(Park.name, Project.name, Milestone.completed_on, CallbackItem.id))
    return [CallbackRow(*row) for row in rows]


def callback_item(item_id: int, condition) -> CallbackItem | None:
    return db.session.scalar(select(CallbackItem).where(CallbackItem.id == item_id, condition))
