"""Display labels of stored codes (stages, roles, kinds...), translated at render time.

Codes are stored in English; people read the labels.  ``label("stage", "land")`` gives
"用地" in Chinese and "Land" in English.  Forms use ``choices("stage")``.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

LABELS: dict[str, dict[str, object]] = {
    "stage": {
        "negotiating": _l("Negotiating"),
        "signed": _l("Signed"),
        "filing": _l("Filing"),
        "land": _l("Land"),
        "planning": _l("Planning permit"),
        "permitting": _l("Construction permit"),
        "approved": _l("Approvals complete"),
    },
    "project_status": {
        "active": _l("Active"),
        "on_hold": _l("On hold"),
        "dropped": _l("Dropped"),
    },
    "approval_mode": {
        "filing": _l("Filing (备案)"),
        "verification": _l("Verification (核准)"),
    },
    "eia_category": {
        "report_book": _l("EIA report book"),
        "report_form": _l("EIA report form"),
        "registration": _l("EIA registration form"),
    },
    "role": {
        "admin": _l("Administrator"),
        "leader": _l("Leader"),
        "park_manager": _l("Park manager"),
        "consultant": _l("Chief consultant"),
        "agent": _l("Project agent"),
    },
    "staff_kind": {
        "consultant": _l("Chief consultant"),
        "agent": _l("Project agent"),
    },
    "assignment_role": {
        "consultant": _l("Chief consultant"),
        "lead_agent": _l("Lead agent"),
        "helper": _l("Helper agent"),
    },
    "log_kind": {
        "visit": _l("Visit"),
        "call": _l("Call"),
        "materials": _l("Materials"),
        "coordination": _l("Coordination"),
        "blocker": _l("Blocker"),
        "resolution": _l("Resolution"),
    },
    "milestone_status": {
        "pending": _l("Not started"),
        "running": _l("Running"),
        "paused": _l("Paused"),
        "done": _l("Done"),
        "waived": _l("Waived"),
    },
    "sla_state": {
        "pending": _l("Not started"),
        "on_track": _l("On track"),
        "due_soon": _l("Due soon"),
        "overdue": _l("Overdue"),
        "paused": _l("Paused"),
        "met": _l("Met"),
        "missed": _l("Missed"),
        "waived": _l("Waived"),
    },
    # A project's promise (N working days from one approval to another).
    "promise_state": {
        "not_started": _l("Clock not started"),
        "on_track": _l("On track"),
        "at_risk": _l("At risk"),
        "overdue": _l("Overdue"),
        "met": _l("Kept"),
        "missed": _l("Not kept"),
    },
    # A bar of the project's plan on working days (milestones.timeline.GanttBar.kind).
    "gantt_kind": {
        "done": _l("Issued"),
        "running": _l("Under review"),
        "paused": _l("Paused"),
        "planned": _l("Expected"),
    },
    # The five dimensions of the enterprise's rating (portal.models.DIMENSIONS).
    "dimension": {
        "openness": _l("Openness of government affairs"),
        "standards": _l("Handling by the rules"),
        "convenience": _l("Convenience"),
        "courtesy": _l("Courtesy"),
        "discipline": _l("Discipline"),
    },
    # A bad-review case (portal.models.SatisfactionCase).
    "case_status": {
        "open": _l("New"),
        "classified": _l("Being rectified"),
        "rectified": _l("Rectified, awaiting the enterprise"),
        "closed": _l("Closed"),
    },
    "case_kind": {"low_rating": _l("Low rating"), "complaint": _l("Complaint")},
    "rating_source": {"online": _l("On the progress page"), "callback": _l("Callback survey")},
    "case_classification": {"simple": _l("Simple"), "complex": _l("Complex")},
    "case_closed_how": {"re_rated": _l("The enterprise rated again, satisfied"),
                        "phone": _l("The enterprise confirmed by phone")},
    # The project list's deadline filter (projects.queries.SLA_FILTERS).
    "deadline_filter": {
        "overdue": _l("A milestone overdue"),
        "due_soon": _l("A milestone due soon"),
        "promise_at_risk": _l("Whole-chain promise at risk"),
        "promise_overdue": _l("Whole-chain promise overdue"),
    },
    # The dashboards' drill-down lists of milestones.
    "dashboard_state": {
        "overdue": _l("Overdue"),
        "due_soon": _l("Due soon"),
        "on_track": _l("Running on track"),
        "paused": _l("Paused"),
        "met": _l("Met"),
        "missed": _l("Missed"),
        "finished": _l("Finished"),
    },
    "pause_reason": {
        "supplement": _l("Supplementing materials"),
        "hearing": _l("Hearing"),
        "expert_review": _l("Expert review"),
        "testing": _l("Inspection and testing"),
        "enterprise": _l("Enterprise's reasons"),
        "other": _l("Other"),
    },
    "applicability": {
        "always": _l("Every project"),
        "filing": _l("Filed projects (备案)"),
        "verification": _l("Verified projects (核准)"),
        "eia_report_book": _l("EIA report book projects"),
        "eia_report_form": _l("EIA report form projects"),
    },
    "limit_unit": {
        "working": _l("working days"),
        "calendar": _l("calendar days"),
    },
    "document_kind": {
        "service_order": _l("Service order"),
        "summary": _l("Summary"),
        "round_report": _l("Supervision round report"),
        "round_workbook": _l("Supervision round workbook"),
    },
    "document_status": {
        "queued": _l("Queued"),
        "running": _l("Generating"),
        "done": _l("Ready"),
        "failed": _l("Failed"),
    },
    "summary_scope": {
        "city": _l("City-wide"),
    },
    "park_level": {
        "national": _l("National"),
        "provincial": _l("Provincial"),
    },
    "import_status": {
        "uploaded": _l("Columns to check"),
        "checking": _l("Checking"),
        "checked": _l("Checked, not imported yet"),
        "committing": _l("Importing"),
        "committed": _l("Imported"),
        "failed": _l("Stopped on an error"),
        "reverted": _l("Reverted"),
    },
    "import_sheet": {
        "projects": _l("Projects"),
        "progress": _l("Approval progress"),
        "roster": _l("Staff roster"),
    },
    "delivery_status": {
        "pending": _l("Waiting"),
        "sending": _l("Sending"),
        "sent": _l("Sent"),
        "failed": _l("Failed, will retry"),
        "dead": _l("Given up"),
        "digest": _l("In the next digest"),
        "digested": _l("Sent in a digest"),
    },
    "escalation_audience": {
        "owner": _l("the owner and the chief consultant"),
        "park_manager": _l("the park manager"),
        "city": _l("the city bureau"),
    },
    "delivery_channel": {
        "email": _l("Email"),
        "wecom": _l("WeCom group"),
    },
    "cadence": {
        "weekly": _l("Weekly"),
        "monthly": _l("Monthly"),
        "ad_hoc": _l("Ad hoc"),
    },
    "round_status": {"open": _l("Taking reports"), "closed": _l("Round closed")},
    "report_state": {
        "filled": _l("Filled"),
        "late": _l("Filled late"),
        "missing": _l("Missing"),
    },
    "problem_level": {
        "park": _l("Park level"),
        "district": _l("District level"),
        "city": _l("City level"),
    },
    "problem_status": {"open": _l("Open"), "resolved": _l("Resolved")},
    "industry": {
        "high_end_equipment": _l("High-end equipment"),
        "new_energy": _l("New energy"),
        "new_materials": _l("New materials"),
        "electronic_information": _l("Electronic information"),
        "biomedicine": _l("Biomedicine"),
        "marine_engineering": _l("Marine engineering and shipbuilding"),
        "textiles": _l("Textiles and apparel"),
        "fine_chemicals": _l("Fine chemicals"),
        "automotive_parts": _l("Automotive and parts"),
        "modern_services": _l("Modern services"),
        "logistics": _l("Logistics"),
        "food": _l("Food processing"),
    },
}


def label(group: str, code: str | None) -> str:
    """The translated label of ``code`` in ``group``; the code itself when unknown."""
    if code is None:
        return ""
    value = LABELS.get(group, {}).get(code)
    return str(value) if value is not None else str(code)


def choices(group: str) -> list[tuple[str, object]]:
    """(code, label) pairs for a select field, in catalogue order."""
    return list(LABELS[group].items())
