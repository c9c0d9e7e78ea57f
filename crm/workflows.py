"""Cross-domain reactions: what one package's event sets off in another, all in one place.

Services announce what happened (crm/signals.py) and never reach sideways into another
package; the receivers below do, in the same transaction as the change (a reaction that fails
undoes the change).  ``connect()`` is called by ``create_app``.

  project registered    -> its approval plan (from ``signed`` on) and its staff by the rule
  stage changed         -> the approval plan of a project reaching ``signed`` or later
  milestone finished    -> the project's stage advances when its stage is finished
  assignments changed   -> the people concerned are notified
  milestones due        -> owners and park managers are notified (the SLA sweep)
  staff unavailable     -> the park managers are told to hand the projects over
  case opened           -> the case's assignee and the park managers are notified
  blocker opened        -> the project's consultant, lead agent and park managers are notified
  document ready        -> whoever asked for the PDF is notified
  deadlines moved       -> the consultant and lead agent of each project concerned are told
  round opened          -> its reporters are told what they owe
  round reports due     -> the reporters still owing are reminded (due tomorrow, late)
  round closed          -> its report (PDF and workbook) is made
  problems changed      -> the owner and park managers (leaders at city level) are told

Hooks without a reaction yet (for the features to come): ``project_approved``.
"""

from __future__ import annotations

from crm import signals
from crm.agents.services import staffing
from crm.documents import services as documents
from crm.milestones.services import lifecycle, plans
from crm.notifications import services as notifications
from crm.projects.models import ProjectStatus, Stage


def _plan_if_signed(project) -> None:
    if Stage(project.stage).order >= Stage.SIGNED.order:
        plans.create_plan(project)


def on_project_registered(sender, *, project, actor_id, **_):
    """A new project: its approval plan from ``signed`` on, then a chief consultant and a lead
    agent chosen by the park's rule (a role nobody is eligible for leaves the project in the
    park's unassigned queue)."""
    _plan_if_signed(project)
    if project.status != ProjectStatus.DROPPED.value:
        staffing.auto_assign(project, actor_id=actor_id)


def on_stage_changed(sender, *, project, change, actor_id, **_):
    """Reaching ``signed`` or a later stage draws up the plan (items already in it are kept)."""
    _plan_if_signed(project)


def on_milestone_finished(sender, *, milestone, actor_id, **_):
    lifecycle.advance_stage(milestone.project, actor_id=actor_id)


def on_assignments_changed(sender, *, events, **_):
    return notifications.announce_assignments(events)


def on_milestones_due(sender, *, rows, **_):
    return notifications.announce_deadlines(rows)


def on_staff_unavailable(sender, *, staff, open_assignments, actor_id=None, **_):
    return notifications.announce_unavailable(staff, open_assignments, actor_id=actor_id)


def on_case_opened(sender, *, case, **_):
    return notifications.announce_case(case)


def on_blocker_opened(sender, *, log, **_):
    return notifications.announce_blocker(log)


def on_document_ready(sender, *, document_id, **_):
    return notifications.announce_document(document_id)


def on_deadlines_moved(sender, *, year, moved, **_):
    return notifications.announce_deadlines_moved(year, moved)


def on_round_opened(sender, *, round, **_):
    return notifications.announce_round(round)


def on_round_reports_due(sender, *, round, kind, owed, **_):
    return notifications.announce_round(round, f"round_{kind}", owed)


def on_round_closed(sender, *, round, user, **_):
    return documents.request_round_report(round, user)


def on_problems_changed(sender, *, problems, event, **_):
    return notifications.announce_problems(problems, event)


RECEIVERS = (
    (signals.project_registered, on_project_registered),
    (signals.stage_changed, on_stage_changed),
    (signals.milestone_finished, on_milestone_finished),
    (signals.assignments_changed, on_assignments_changed),
    (signals.milestones_due, on_milestones_due),
    (signals.staff_unavailable, on_staff_unavailable),
    (signals.case_opened, on_case_opened),
    (signals.blocker_opened, on_blocker_opened),
    (signals.document_ready, on_document_ready),
    (signals.deadlines_moved, on_deadlines_moved),
    (signals.round_opened, on_round_opened),
    (signals.round_reports_due, on_round_reports_due),
    (signals.round_closed, on_round_closed),
    (signals.problems_changed, on_problems_changed),
)


def connect() -> None:
    """Connect every reaction (idempotent: a receiver is connected once however often)."""
    for signal, receiver in RECEIVERS:
        signal.connect(receiver)
