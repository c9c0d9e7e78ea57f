"""What each kind of alert says: one template per kind, filled with the alert's parameters in
the reader's language when it is shown (in-app) or sent (email, WeCom)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

MESSAGES = {
    "assigned": _l("You were assigned to %(project)s as %(role)s."),
    "unassigned": _l("You no longer serve %(project)s as %(role)s."),
    "milestone_due_soon": _l("%(milestone)s of %(project)s is due on %(due)s."),
    "milestone_overdue": _l("%(milestone)s of %(project)s is overdue (due %(due)s)."),
    "staff_unavailable": _l("%(name)s is no longer available and still serves %(count)s "
                            "projects: hand them over."),
    "case_opened": _l("A bad review of %(project)s to put right: classify it by %(due)s."),
    "blocker_opened": _l("A blocker was logged on %(project)s: %(summary)s"),
    "milestone_escalated": _l("Escalated: %(milestone)s of %(project)s is %(days)s working "
                              "days overdue (due %(due)s)."),
    "blocker_escalated": _l("Escalated: a blocker on %(project)s has been open for %(days)s "
                            "working days: %(summary)s"),
    "document_ready": _l("%(document)s of %(project)s is ready to download."),
    "deadlines_moved": _l("The %(year)s working-day schedule was loaded: %(count)s deadlines "
                          "of %(project)s moved."),
    "round_opened": _l("Supervision round %(round)s: %(count)s reports due from you by %(due)s."),
    "round_due": _l("Supervision round %(round)s is due on %(due)s: %(count)s reports still "
                    "to fill."),
    "round_late": _l("Supervision round %(round)s was due on %(due)s: %(count)s of your reports "
                     "are late."),
    "problem_raised": _l("A problem of %(project)s was taken to %(department)s: %(summary)s"),
    "problem_escalated": _l("Escalated: a problem of %(project)s with %(department)s is "
                            "overdue and went one level up: %(summary)s"),
    "digest": _l("Daily digest of %(date)s"),
    "robot_test": _l("A test message from Daiban to the group of %(park)s: alerts will "
                     "arrive here."),
}

# What a person may choose to receive outside the app (the preferences page), in this order.
CHOOSABLE = ("assigned", "unassigned", "milestone_due_soon", "milestone_overdue",
             "milestone_escalated", "blocker_opened", "blocker_escalated", "document_ready",
             "case_opened", "staff_unavailable", "deadlines_moved", "round_opened", "round_due",
             "round_late", "problem_raised", "problem_escalated")
KIND_LABELS = {
    "assigned": _l("Assigned to a project"),
    "unassigned": _l("No longer on a project"),
    "milestone_due_soon": _l("Approval due soon"),
    "milestone_overdue": _l("Approval overdue"),
    "milestone_escalated": _l("Overdue approval escalated"),
    "blocker_opened": _l("Blocker logged"),
    "blocker_escalated": _l("Standing blocker escalated"),
    "document_ready": _l("Service order or summary ready"),
    "case_opened": _l("Bad review to handle"),
    "staff_unavailable": _l("Staff member unavailable"),
    "deadlines_moved": _l("Deadlines moved by the calendar"),
    "round_opened": _l("Supervision round opened"),
    "round_due": _l("Supervision reports due tomorrow"),
    "round_late": _l("Supervision reports late"),
    "problem_raised": _l("Problem taken to a department"),
    "problem_escalated": _l("Overdue problem escalated"),
}
SUBJECT = _l("Daiban: %(text)s")
DIGEST_SUBJECT = _l("Daiban daily digest, %(date)s: %(count)s alerts")


def text(kind: str, params: dict) -> str:
    """The message of an alert in the current language (the kind itself when unknown)."""
    template = MESSAGES.get(kind)
    if template is None:
        return kind
    try:
        return str(template) % params
    except (KeyError, TypeError, ValueError):
        return str(template)
