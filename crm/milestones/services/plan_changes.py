"""Changes to a project's plan beyond the lifecycle: a statutory extension of a running
milestone, dependencies a manager adds or removes on one project (with the reason), and
items marked as handled jointly (联合办理) with the group's own capped clock.

Services flush but never commit.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from crm.audit import services as audit
from crm.errors import DomainError, InvalidState
from crm.extensions import db
from crm.milestones import graph
from crm.milestones import sla
from crm.milestones.calendar import WorkCalendar
from crm.milestones.models import JointHandling, Milestone, MilestoneDependency
from crm.milestones.queries import dependency_map, joint_facts
from crm.milestones.services.forecasts import lock_plans
from crm.milestones.services.lifecycle import (
    _check, _past_date, _text, apply_schedule, flush, replan, stale,
)

# 行政许可法 Art. 42: a decision may be extended by 10 working days (an item of the catalogue
# may allow another number; a custom milestone allows this).
DEFAULT_EXTENSION = 10


def extend(milestone: Milestone, *, workdays: int | None, document_no: str | None,
           approved_on: dt.date | None, today: dt.date, version: int | None = None) -> Milestone:
    """Extend a running milestone's deadline once, by up to its allowance, with the approving
    document; the original due date is kept."""
    calendar = _check(milestone, "extend", version)
    if milestone.extension_workdays is not None:
        raise InvalidState(_l("This milestone was already extended; a decision is extended "
                              "once at most."), "extension_workdays")
    allowance = (milestone.approval_item.extension_allowance if milestone.approval_item
                 else DEFAULT_EXTENSION)
    if workdays is None or not 1 <= workdays <= allowance:
        raise DomainError(_l("The extension is 1 to %(n)d working days for this approval.",
                             n=allowance), "extension_workdays")
    document_no = _text(document_no, "extension_doc_no",
                        _l("Enter the number of the document approving the extension."))
    approved_on = _past_date(approved_on, today, "extension_approved_on")
    if approved_on < milestone.accepted_on:
        raise DomainError(_l("The extension cannot be approved before the acceptance "
                             "(%(date)s).", date=milestone.accepted_on.isoformat()),
                          "extension_approved_on")
    if milestone.due_on is not None and approved_on > milestone.due_on:
        raise DomainError(_l("An extension is approved within the time limit, by the due date "
                             "(%(date)s).", date=milestone.due_on.isoformat()),
                          "extension_approved_on")
    milestone.original_due_on = milestone.due_on
    milestone.extension_workdays = workdays
    milestone.extension_doc_no = document_no
    milestone.extension_approved_on = approved_on
    apply_schedule(milestone, calendar)
    audit.tag(milestone, "milestone.extend", document_no)
    replan(milestone.project_id, today, calendar)
    return milestone


def add_dependency(milestone: Milestone, requires: Milestone | None, *, reason: str | None,
                   actor_id: int | None = None) -> MilestoneDependency:
    """``milestone`` will wait for ``requires`` (same project) to be issued."""
    if requires is None or requires.project_id != milestone.project_id:
        raise DomainError(_l("Choose an approval of this project."), "requires_id")
    if requires.id == milestone.id:
        raise DomainError(_l("An approval cannot wait for itself."), "requires_id")
    reason = _text(reason, "reason", _l("Give the reason for the change."))
    needs = dependency_map(milestone.project_id)
    if requires.id in needs.get(milestone.id, ()):
        raise DomainError(_l("%(name)s already waits for it.", name=milestone.name), "requires_id")
    needs.setdefault(milestone.id, []).append(requires.id)
    cycle = graph.find_cycle(needs)
    if cycle:
        names = {i: name for i, name in db.session.execute(
            select(Milestone.id, Milestone.name).where(Milestone.id.in_(cycle)))}
        raise DomainError(_l("That would make a loop: %(names)s.",
                             names=" → ".join(names[i] for i in cycle)), "requires_id")
    dependency = MilestoneDependency(project_id=milestone.project_id, milestone_id=milestone.id,
                                     requires_id=requires.id, reason=reason,
                                     created_by_id=actor_id)
    db.session.add(dependency)
    db.session.flush()
    audit.record(db.session, "dependency.add", dependency, note=reason,
                 changes={"milestone_id": [None, milestone.id], "requires_id": [None, requires.id]})
    replan(milestone.project_id)
    return dependency


def remove_dependency(dependency: MilestoneDependency, *, reason: str | None) -> None:
    reason = _text(reason, "reason", _l("Give the reason for the change."))
    project_id = dependency.project_id
    audit.record(db.session, "dependency.remove", dependency, note=reason, changes={
        "milestone_id": [dependency.milestone_id, None],
        "requires_id": [dependency.requires_id, None]})
    db.session.delete(dependency)
    replan(project_id)


# -- joint handling (联合办理) -------------------------------------------------------------------

def create_joint(project_id: int, members: list[Milestone], *, name: str | None,
                 reason: str | None, today: dt.date, calendar: WorkCalendar,
                 actor_id: int | None = None) -> JointHandling:
    """Mark two or more undecided approvals of one project as handled jointly: from the first
    acceptance they are all decided within 45 working days (``graph.joint_due``)."""
    lock_plans([project_id])
    name = _text(name, "name", _l("Give the joint handling a name."))
    reason = _text(reason, "reason")
    members = list({m.id: m for m in members}.values())
    if len(members) < 2:
        raise DomainError(_l("Choose at least two approvals of this project."), "milestone_ids")
    for m in members:
        if m.project_id != project_id:
            raise DomainError(_l("Choose approvals of this project."), "milestone_ids")
        if m.status in graph.DONE_STATES:
            raise DomainError(_l("%(name)s is already decided; only open approvals are handled "
                                 "jointly.", name=m.name), "milestone_ids")
        if m.joint_id is not None:
            raise DomainError(_l("%(name)s is already handled jointly with others.",
                                 name=m.name), "milestone_ids")
        limit = sla.limit_in_workdays(m.accepted_on or today, m.limit_value, m.limit_unit,
                                      calendar)
        if limit > graph.JOINT_LIMIT:
            raise DomainError(_l("%(name)s has a committed limit of %(n)d working days, longer "
                                 "than joint handling allows (%(cap)d).", name=m.name, n=limit,
                                 cap=graph.JOINT_LIMIT), "milestone_ids")
    joint = JointHandling(project_id=project_id, name=name, reason=reason,
                          created_by_id=actor_id)
    db.session.add(joint)
    db.session.flush()
    for m in members:
        m.joint_id = joint.id
    flush()
    audit.record(db.session, "joint.create", joint, note=reason or name,
                 changes={"members": [None, "、".join(m.name for m in members)]})
    return joint


def extend_joint(joint: JointHandling, *, workdays: int | None, document_no: str | None,
                 approved_on: dt.date | None, today: dt.date, calendar: WorkCalendar,
                 version: int | None = None) -> JointHandling:
    """The government's head extends the joint cap once, by up to 15 working days."""
    lock_plans([joint.project_id])
    if version is not None and int(version) != joint.version:
        raise stale()
    if joint.extension_workdays is not None:
        raise InvalidState(_l("This joint handling was already extended; it is extended once "
                              "at most."), "extension_workdays")
    members = joint_facts(joint.members)
    started_on = graph.joint_start(members)
    if started_on is None:
        raise InvalidState(_l("None of its approvals is accepted yet: the joint clock has not "
                              "started."), "extension_workdays")
    due_on = graph.joint_due(started_on, None, calendar)
    if graph.joint_state(members, due_on, today) in ("met", "missed"):
        raise InvalidState(_l("All of its approvals are decided."), "extension_workdays")
    if workdays is None or not 1 <= workdays <= graph.JOINT_EXTENSION:
        raise DomainError(_l("The extension is 1 to %(n)d working days for this approval.",
                             n=graph.JOINT_EXTENSION), "extension_workdays")
    document_no = _text(document_no, "extension_doc_no",
                        _l("Enter the number of the document approving the extension."))
    approved_on = _past_date(approved_on, today, "extension_approved_on")
    if approved_on < started_on:
        raise DomainError(_l("The extension cannot be approved before the acceptance "
                             "(%(date)s).", date=started_on.isoformat()), "extension_approved_on")
    if approved_on > due_on:
        raise DomainError(_l("An extension is approved within the time limit, by the due date "
                             "(%(date)s).", date=due_on.isoformat()), "extension_approved_on")
    joint.extension_workdays = workdays
    joint.extension_doc_no = document_no
    joint.extension_approved_on = approved_on
    audit.tag(joint, "joint.extend", document_no)
    flush()
    return joint


def remove_joint(joint: JointHandling, *, reason: str | None) -> None:
    """The items are handled separately again (each keeps its own deadline)."""
    lock_plans([joint.project_id])
    reason = _text(reason, "reason", _l("Give the reason for the change."))
    audit.record(db.session, "joint.remove", joint, note=reason,
                 changes={"members": ["、".join(m.name for m in joint.members), None]})
    for m in joint.members:
        m.joint_id = None
    db.session.delete(joint)
    flush()
