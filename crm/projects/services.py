"""Project services: register and edit projects, change stages (by hand with a reason, or
automatic).  Progress logs and blockers live in projects/progress.py.

Services flush but never commit.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from crm.audit import services as audit
from crm.db import utcnow
from crm.extensions import db
from crm.projects.models import Project, ProjectStatus, Stage, StageChange

# The columns a project form may set (the park and the stage have their own rules).
EDITABLE_FIELDS = (
    "name", "investor_name", "investor_credit_code", "code", "investment", "industry",
    "approval_mode", "eia_category", "status", "description", "contact_name", "contact_phone",
    "signed_on", "expected_start_on",
)


class StageChangeError(ValueError):
    """A stage change that the rules refuse; the message says why."""


class ProjectConflict(Exception):
    """The project changed since the form was loaded (optimistic locking): nothing was saved."""


class DuplicateProjectCode(ValueError):
    """Another project already carries this project code."""


def _check_code_free(code: str | None, project_id: int | None) -> None:
    if not code:
        return
    query = select(Project.id).where(Project.code == code)
    if project_id is not None:
        query = query.where(Project.id != project_id)
    if db.session.scalar(query) is not None:
        raise DuplicateProjectCode(code)


def create_project(data: dict, *, park_id: int, stage: str, actor_id: int | None) -> Project:
    """Register a project in a park at a stage; ``data`` holds EDITABLE_FIELDS values."""
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if stage not in {s.value for s in Stage}:
        raise StageChangeError(f"unknown stage {stage!r}")
    _check_code_free(data.get("code"), None)
    project = Project(park_id=park_id, stage=stage, created_by_id=actor_id, **data)
    db.session.add(project)
    db.session.flush()
    project_created(project, actor_id=actor_id)
    return project


def project_created(project: Project, *, actor_id: int | None) -> None:
    """Everything a newly flushed project sets off: its first stage record, from ``signed`` on
    its approval plan, and its chief consultant and lead agent chosen by the park's rule (a
    role nobody is eligible for leaves the project in the park's unassigned queue)."""
    from crm.agents.services import auto_assign

    db.session.add(StageChange(project_id=project.id, from_stage=None, to_stage=project.stage,
                               changed_by_id=actor_id, automatic=False))
    if Stage(project.stage).order >= Stage.SIGNED.order:
        from crm.milestones.services import create_plan

        create_plan(project)
    db.session.flush()
    if project.status != ProjectStatus.DROPPED.value:
        auto_assign(project, actor_id=actor_id)


def update_project(project: Project, data: dict, *, expected_version: int | None) -> Project:
    """Apply ``data`` (EDITABLE_FIELDS values) if the project is still at ``expected_version``.

    Raises ProjectConflict when someone else saved it in between, whether before this request
    loaded it (the form's version is old) or during it (the versioned UPDATE matches no row).
    The caller rolls back and shows the current values.
    """
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    project_id = project.id
    if expected_version is None or project.version != expected_version:
        raise ProjectConflict(project_id)
    if "code" in data:
        _check_code_free(data["code"], project_id)
    for key, value in data.items():
        setattr(project, key, value)
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise ProjectConflict(project_id) from exc
    return project


def change_stage(project: Project, to_stage: str, *, reason: str | None, actor_id: int | None,
                 automatic: bool = False) -> StageChange:
    """Move the project to ``to_stage`` and record it.

    By hand (``automatic=False``) a reason is required.  Reaching ``signed`` or any later stage
    draws up the milestone plan from the catalogue (items already in the plan are kept).
    """
    if to_stage not in {s.value for s in Stage}:
        raise StageChangeError(f"unknown stage {to_stage!r}")
    if to_stage == project.stage:
        raise StageChangeError("the project is already in that stage")
    reason = (reason or "").strip()
    if not automatic and not reason:
        raise StageChangeError("a reason is required to change the stage by hand")
    change = StageChange(project_id=project.id, from_stage=project.stage, to_stage=to_stage,
                         changed_by_id=actor_id, automatic=automatic, reason=reason or None)
    db.session.add(change)
    project.stage = to_stage
    project.stage_changed_at = utcnow()
    audit.tag(project, "project.stage_auto" if automatic else "project.stage", reason or None)
    if Stage(to_stage).order >= Stage.SIGNED.order:
        from crm.milestones.services import create_plan

        create_plan(project)
    db.session.flush()
    return change
