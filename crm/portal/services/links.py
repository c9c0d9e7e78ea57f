"""Issuing and rotating a project's enterprise link, and recording its page's views.

Services flush but never commit.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from crm.audit import services as audit
from crm.db import utcnow
from crm.errors import DomainError
from crm.extensions import db
from crm.documents.models import DocumentKind, DocumentStatus, GeneratedDocument
from crm.portal.models import EnterpriseLink, EnterpriseView, OrderConfirmation
from crm.security import token_hash
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


def _active_row(project_id: int) -> EnterpriseLink | None:
    return db.session.scalar(select(EnterpriseLink).where(
        EnterpriseLink.project_id == project_id, EnterpriseLink.active))


def active_link(project_id: int) -> EnterpriseLink | None:
    """The project's link that opens under the current secret key (after a key change the
    old link opens nothing and counts as none: issue a new one)."""
    link = _active_row(project_id)
    return link if link is not None and link.valid_under(secret()) else None


def issue(project, *, actor_id: int | None, today: dt.date,
          expires_on: dt.date | None = None) -> tuple[EnterpriseLink, str]:
    """A new link for the project (the active one, if any, is revoked: its address stops
    opening at once).  Returns the link and its token."""
    if expires_on is not None and not today <= expires_on <= today + dt.timedelta(MAX_LINK_DAYS):
        raise DomainError(_l("The link can expire from today up to three years ahead."),
                          "expires_on")
    lock(project)  # two rotations at once: one after the other, one link left active
    old = _active_row(project.id)
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


def ensure(project, *, actor_id: int | None, today: dt.date) -> EnterpriseLink | None:
    """The project's active link, issued when the project never had one or its link died
    with a key change (a service order prints it); None when staff revoked it on purpose
    (the order then prints the staff address until they issue a new link)."""
    lock(project)
    link = _active_row(project.id)
    if link is not None and link.valid_under(secret()):
        return link
    if link is None and db.session.scalar(select(EnterpriseLink.id).where(
            EnterpriseLink.project_id == project.id).limit(1)) is not None:
        return None
    return issue(project, actor_id=actor_id, today=today)[0]


def revoke(project) -> None:
    """No link at all: the address stops opening until a new one is issued."""
    lock(project)
    link = _active_row(project.id)
    if link is None:
        raise DomainError(_l("This project has no enterprise link to revoke."))
    link.revoked_at = utcnow()
    audit.tag(link, "enterprise_link.revoke")
    flush()


def open_page(token: str, today: dt.date, *, view: bool = True,
              audit_miss: Callable[[], bool] = lambda: True) -> EnterpriseLink | None:
    """The link a token opens today (recording the view when ``view``), or None: unknown,
    revoked or expired all answer the same.  A miss leaves an audit event when
    ``audit_miss()`` says so (the caller keeps guessing from filling the trail)."""
    link = None
    if 20 <= len(token) <= 64:
        link = db.session.scalar(select(EnterpriseLink).where(
            EnterpriseLink.token_hash == token_hash(token)))
    if link is None or not link.opens_on(today) or not link.matches(token, secret()):
        if audit_miss():
            audit.record(db.session, "enterprise_link.miss", link or EnterpriseLink())
        return None
    if view:
        db.session.add(EnterpriseView(link_id=link.id))
    return link


def ready_orders(query, project_id: int):
    """``query`` over the project's service orders ready to download, newest version first."""
    return (query.where(GeneratedDocument.project_id == project_id,
                        GeneratedDocument.kind == DocumentKind.SERVICE_ORDER,
                        GeneratedDocument.status == DocumentStatus.DONE)
            .order_by(GeneratedDocument.doc_version.desc()))


def confirm(link: EnterpriseLink, order_id: int, *, signer_name: str, signer_title: str,
            signer_phone: str) -> OrderConfirmation:
    """The enterprise confirms the version of its service order it was shown; refused when a
    newer version has been issued since (it must read that one) or it is confirmed already."""
    lock(link.project)  # a new version issued meanwhile waits for this check, or comes first
    latest = db.session.scalar(ready_orders(select(GeneratedDocument), link.project_id).limit(1))
    if latest is None or latest.id != order_id:
        raise DomainError(_l("A newer version of the service order has been issued: read it, "
                             "then confirm that one."))
    if db.session.scalar(select(OrderConfirmation.id).where(
            OrderConfirmation.document_id == latest.id)) is not None:
        raise DomainError(_l("This version of the service order is already confirmed."))
    confirmation = OrderConfirmation(
        project_id=link.project_id, document_id=latest.id, doc_version=latest.doc_version,
        link_id=link.id, signer_name=signer_name, signer_title=signer_title,
        signer_phone=signer_phone)
    db.session.add(confirmation)
    audit.tag(confirmation, "service_order.confirm", signer_name)
    flush()
    return confirmation
