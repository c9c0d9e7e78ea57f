"""The records files can be attached to: an owner type names a model and says which project
and park a record of it belongs to (its scope) and where it is shown.

The attachments package registers milestones and progress logs itself; a later package
registers its own (supervision: problems) from ``create_app`` with::

    from crm.attachments.owners import OwnerType, register_owner_type
    register_owner_type(app, OwnerType(
        name="problem", model=Problem, label=_l("Problem"),
        page=lambda problem: url_for("supervision.problem", problem_id=problem.id)))

The model needs ``id`` and ``park_id`` columns; ``project_id`` too unless ``project_of``
says otherwise (a record of no project is seen by whoever sees its park: admins, leaders, the
park's managers).  The name must be one of ``OWNER_TYPES`` (the database's check constraint).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, url_for
from flask_babel import lazy_gettext as _l

from crm.attachments.models import OWNER_TYPES, Purpose
from crm.extensions import db
from crm.milestones.models import Milestone
from crm.projects.models import ProgressLog

REGISTRY_KEY = "attachment_owners"


@dataclass(frozen=True)
class Owner:
    """A record files are attached to, resolved: its scope and where it is shown."""

    type: str
    id: int
    project_id: int | None
    park_id: int
    title: str
    link: Callable[[], str]  # the URL of the page that shows the record's files (in a request)

    @property
    def url(self) -> str:
        return self.link()


@dataclass(frozen=True)
class OwnerType:
    name: str
    model: type
    label: object  # what the record is called ("Milestone")
    page: Callable[[object], str]  # the record -> the URL of the page that shows its files
    title: Callable[[object], str] = lambda record: ""
    # The purposes offered on the upload form, the first one preselected.
    purposes: tuple[str, ...] = (Purpose.OTHER.value,)

    def resolve(self, record_id: int) -> Owner | None:
        record = db.session.get(self.model, record_id)
        if record is None:
            return None
        return Owner(self.name, record.id, getattr(record, "project_id", None), record.park_id,
                     self.title(record), lambda: self.page(record))


def register_owner_type(app: Flask, owner_type: OwnerType) -> None:
    if owner_type.name not in OWNER_TYPES:
        raise ValueError(f"owner type {owner_type.name!r} is not in the attachments table's "
                         f"check constraint {OWNER_TYPES}: add it with a migration first")
    app.extensions.setdefault(REGISTRY_KEY, {})[owner_type.name] = owner_type


def owner_types() -> dict[str, OwnerType]:
    return current_app.extensions.get(REGISTRY_KEY, {})


def owner_type(name: str) -> OwnerType | None:
    return owner_types().get(name)


def resolve(type_name: str, record_id: int) -> Owner | None:
    """The owner record, or None if the type is not registered or no such record exists."""
    kind = owner_type(type_name)
    return kind.resolve(record_id) if kind else None


def install(app: Flask) -> None:
    """Register the owner types of the packages before this one (create_app)."""
    register_owner_type(app, OwnerType(
        name="milestone", model=Milestone, label=_l("Milestone"),
        page=lambda m: url_for("projects.detail", project_id=m.project_id,
                               _anchor=f"milestone-{m.id}"),
        title=lambda m: m.name,
        purposes=(Purpose.APPROVAL_DOCUMENT.value, Purpose.CORRECTION_NOTICE.value,
                  Purpose.OTHER.value)))
    register_owner_type(app, OwnerType(
        name="log", model=ProgressLog, label=_l("Progress log entry"),
        page=lambda log: url_for("projects.detail", project_id=log.project_id,
                                 _anchor=f"log-{log.id}"),
        title=lambda log: f"{log.happened_on.isoformat()} {log.text[:30]}",
        purposes=(Purpose.PHOTO.value, Purpose.OTHER.value)))
