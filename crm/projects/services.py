"""Project services: stage changes (by hand with a reason, or automatic).

Services flush but never commit.
"""

from __future__ import annotations

from crm.audit import services as audit
from crm.db import utcnow
from crm.extensions import db
from crm.projects.models import Project, Stage, StageChange


class StageChangeError(ValueError):
    """A stage change that the rules refuse; the message says why."""


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
