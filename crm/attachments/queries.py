"""Reads: a user's attachments (the scope of auth/scope.py applied to each file's project and
park), a project page's files in one statement, one owner's files, the bytes."""

from __future__ import annotations

from collections import defaultdict

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crm.attachments import storage
from crm.attachments.models import Attachment
from crm.attachments.owners import Owner, resolve
from crm.auth.scope import can_see_project, park_condition, project_condition
from crm.extensions import db
from crm.parks.models import Park


def visible_condition(user):
    """SQL condition: the attachments the user may see (those of the projects, or for records
    of no project the parks, in the user's scope)."""
    return project_condition(user, Attachment.project_id, Attachment.park_id)


def get_attachment_or_404(user, attachment_id: int) -> Attachment:
    found = db.session.scalar(select(Attachment).where(
        Attachment.id == attachment_id, visible_condition(user)))
    if found is None:
        abort(404)
    return found


def owner_visible(user, owner: Owner) -> bool:
    if owner.project_id is not None:
        return can_see_project(user, owner.project_id)
    return db.session.scalar(select(Park.id).where(
        Park.id == owner.park_id, park_condition(user))) is not None


def get_owner_or_404(user, type_name: str, owner_id: int) -> Owner:
    """The owner record if its type is registered, it exists and the user sees it; else 404."""
    owner = resolve(type_name, owner_id)
    if owner is None or not owner_visible(user, owner):
        abort(404)
    return owner


def owner_attachments(type_name: str, owner_id: int) -> list[Attachment]:
    return list(db.session.scalars(
        select(Attachment).options(joinedload(Attachment.uploaded_by))
        .where(Attachment.owner_type == type_name, Attachment.owner_id == owner_id)
        .order_by(Attachment.uploaded_at, Attachment.id)))


def project_attachments(project_id: int) -> dict[tuple[str, int], list[Attachment]]:
    """Every file on the project's records, by (owner type, owner id): one statement."""
    grouped: dict[tuple[str, int], list[Attachment]] = defaultdict(list)
    for attachment in db.session.scalars(
            select(Attachment).options(joinedload(Attachment.uploaded_by))
            .where(Attachment.project_id == project_id)
            .order_by(Attachment.uploaded_at, Attachment.id)):
        grouped[(attachment.owner_type, attachment.owner_id)].append(attachment)
    return grouped


def content(attachment: Attachment, thumbnail: bool = False) -> bytes:
    """The file's bytes (or its thumbnail's); 404 when the backend has lost them."""
    key = attachment.thumbnail_key if thumbnail else attachment.storage_key
    if key is None:
        abort(404)
    try:
        return storage.backend(attachment.storage).load(key)
    except storage.Missing:
        abort(404)
