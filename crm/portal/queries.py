"""What the enterprise's progress page reads beyond the service order's data: its address,
the approvals waiting on the enterprise, the milestones reached and the latest service order.
Only what the enterprise may see: no internal notes, blockers, workload or other projects."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import undefer

from crm.documents.models import GeneratedDocument
from crm.extensions import db
from crm.milestones.models import Milestone, MilestonePause, MilestoneStatus
from crm.portal.models import EnterpriseLink, EnterpriseView, OrderConfirmation
from crm.portal.services import active_link, ready_orders, secret

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
