"""Issuing and rotating a project's enterprise link, and recording its page's views.

Services flush but never commit.
"""

from __future__ import annotations

import datetime as dt
import secrets

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from crm.audit import services as audit
from crm.db import utcnow
from crm.errors import DomainError
from crm.extensions import db
from crm.documents.models import GeneratedDocument
from crm.portal.models import EnterpriseLink, EnterpriseView, OrderConfirmation, token_hash
from crm.transaction import flush, lock

AUDIT_ACTIONS = {
    "enterprise_link.issue": _l("issued the enterprise's progress link"),
    "enterprise_link.revoke": _l("revoked the enterprise's progress link"),
    "enterprise_link.miss": _l("opened an enterprise page with an unknown link"),
    "service_order.confirm": _l("the enterprise confirmed the service order"),
}
MAX_LINK_DAYS = 3 * 366  # an expiry is at most about three years away


def secret() -> str:
    return current_app.config["SECRET_KEY"]


def active_link(project_id: int) -> EnterpriseLink | None:
    return db.session.scalar(select(EnterpriseLink).where(
        EnterpriseLink.project_id == project_id, EnterpriseLink.active))


def issue(project, *, actor_id: int | None, today: dt.date,
          expires_on: dt.date | None = None) -> tuple[EnterpriseLink, str]:
    """A new link for the project (the active one, if any, is revoked: its address stops
    opening at once).  Returns the link and its token."""
    if expires_on is not None and not today <= expires_on <= today + dt.timedelta(MAX_LINK_DAYS):
        raise DomainError(_l("The link can expire from today up to three years ahead."),
                          "expires_on")
    lock(project)  # two rotations at once: one after the other, one link left active
    old = active_link(project.id)
    if old is not None:
        old.revoked_at = utcnow()
        audit.tag(old, "enterprise_link.revoke")
        flush()
    link = EnterpriseLink(project_id=project.id, salt=secrets.token_hex(16),
                          expires_on=expires_on, created_by_id=actor_id)
    token = link.token(secret())
    link.token_hash = token_hash(token)
    db.session.add(link)
    audit.tag(link, "enterprise_link.issue")
    flush()
    return link, token


def ensure(project, *, actor_id: int | None, today: dt.date) -> EnterpriseLink:
    """The project's active link, issued when it has none (a service order prints it)."""
    return active_link(project.id) or issue(project, actor_id=actor_id, today=today)[0]


def revoke(project) -> None:
    """No link at all: the address stops opening until a new one is issued."""
    lock(project)
    link = active_link(project.id)
    if link is None:
        raise DomainError(_l("This project has no enterprise link to revoke."))
    link.revoked_at = utcnow()
    audit.tag(link, "enterprise_link.revoke")
    flush()


def open_page(token: str, today: dt.date, *, view: bool = True) -> EnterpriseLink | None:
    """The link a token opens today (recording the view when ``view``), or None: unknown,
    revoked or expired all answer the same (the miss is recorded for the trail of
    enumeration)."""
    link = None
    if 20 <= len(token) <= 64:
        link = db.session.scalar(select(EnterpriseLink).where(
            EnterpriseLink.token_hash == token_hash(token)))
    if link is None or not link.opens_on(today):
        audit.record(db.session, "enterprise_link.miss", link or EnterpriseLink())
        return None
    if view:
        db.session.add(EnterpriseView(link_id=link.id))
    return link


def confirm(link: EnterpriseLink, order_id: int, *, signer_name: str, signer_title: str,
            signer_phone: str) -> OrderConfirmation:
    """The enterprise confirms the latest version of its service order through its link (the
    caller read it as the latest ready one).  A version is confirmed once."""
    document = db.session.get(GeneratedDocument, order_id)
    if document is None or document.project_id != link.project_id:
        raise DomainError(_l("This service order is not yours to confirm."))
    if db.session.scalar(select(OrderConfirmation.id).where(
            OrderConfirmation.document_id == document.id)) is not None:
        raise DomainError(_l("This version of the service order is already confirmed."))
    confirmation = OrderConfirmation(
        project_id=link.project_id, document_id=document.id, doc_version=document.doc_version,
        link_id=link.id, signer_name=signer_name, signer_title=signer_title,
        signer_phone=signer_phone)
    db.session.add(confirmation)
    audit.tag(confirmation, "service_order.confirm", signer_name)
    flush()
    return confirmation
