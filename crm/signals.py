"""Domain events: what a service announces when something happened that other packages react
to.  A service sends the event after its change is flushed; the receivers run at once, in the
same transaction (so a reaction that fails undoes the change, and nothing half-happens).

The receivers live in one place, crm/workflows.py, connected by ``create_app``: a package
never reaches sideways into another to make it react.  Events without a receiver yet are the
hooks later features connect to.
"""

from __future__ import annotations

from blinker import Namespace

_events = Namespace()

# projects ---------------------------------------------------------------------------------
#: A project was registered (created).  kwargs: project, actor_id
project_registered = _events.signal("project-registered")
#: A project's stage changed (by hand or automatically).  kwargs: project, change, actor_id
stage_changed = _events.signal("stage-changed")
#: A project reached the approved stage (every approval done).  kwargs: project, actor_id
project_approved = _events.signal("project-approved")
#: A blocker was logged.  kwargs: log
blocker_opened = _events.signal("blocker-opened")

# milestones -------------------------------------------------------------------------------
#: A milestone was completed or waived.  kwargs: milestone, actor_id
milestone_finished = _events.signal("milestone-finished")
#: A year's working-day schedule was loaded and moved open deadlines.  kwargs: year, moved
#: ({project id: milestones whose due date moved})
deadlines_moved = _events.signal("deadlines-moved")
#: Running milestones became due soon or overdue (the SLA sweep).  kwargs: rows, a list of
#: (MilestoneDue, state) with state "due_soon" or "overdue"
milestones_due = _events.signal("milestones-due")

# documents --------------------------------------------------------------------------------
#: A PDF (service order, summary) was built and stored.  kwargs: document_id
document_ready = _events.signal("document-ready")

# supervision ------------------------------------------------------------------------------
#: A supervision round was opened.  kwargs: round
round_opened = _events.signal("round-opened")
#: A round closed (by hand or after its due date).  kwargs: round, user (None: by itself)
round_closed = _events.signal("round-closed")
#: Reporters still owe reports: the day before the due date ("due") or after it ("late").
#: kwargs: round, kind, owed ({user id: reports owed})
round_reports_due = _events.signal("round-reports-due")
#: Coordination problems were raised or escalated.  kwargs: problems, event ("raised" |
#: "escalated")
problems_changed = _events.signal("problems-changed")

# agents -----------------------------------------------------------------------------------
#: People started or stopped serving projects.  kwargs: events, a list of
#: (kind "assigned" | "unassigned", staff_id, project, role)
assignments_changed = _events.signal("assignments-changed")
#: A staff member became unavailable (deactivated, or on leave from today) while serving
#: projects.  kwargs: staff, open_assignments (count)
staff_unavailable = _events.signal("staff-unavailable")

# portal ------------------------------------------------------------------------------------
#: A bad-review case was opened (a low rating or a complaint).  kwargs: case
case_opened = _events.signal("case-opened")

ALL = (project_registered, stage_changed, project_approved, blocker_opened, milestone_finished,
       milestones_due, assignments_changed, staff_unavailable, case_opened, document_ready,
       deadlines_moved, round_opened, round_closed, round_reports_due, problems_changed)
