"""A project's audit trail, readable in Chinese: actions, record types and field names
translated, stored codes shown as their labels, ids as names, times in local time.

Each package names the domain actions it writes (``audit.tag(obj, "milestone.pause")``) in an
``AUDIT_ACTIONS`` mapping beside the code that writes them; ``create_app`` collects them into
``app.extensions["audit_actions"]`` (a test checks that every action written has a label).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import literal, select, union_all
from sqlalchemy.orm import joinedload

from crm.agents.models import Staff
from crm.audit.models import AuditEvent
from crm.auth.models import User
from crm.extensions import db
from crm.i18n import local_time
from crm.labels import label
from crm.milestones.models import Milestone
from crm.parks.models import Park

TRAIL_SIZE = 50
MAX_VALUE = 200

# The row changes the session hook records by itself; packages add their domain actions.
GENERIC_ACTIONS: dict[str, object] = {
    "create": _l("added"),
    "update": _l("changed"),
    "delete": _l("deleted"),
}

ENTITIES: dict[str, object] = {
    "projects": _l("Project"),
    "progress_logs": _l("Progress log entry"),
    "log_annotations": _l("Annotation"),
    "stage_changes": _l("Stage record"),
    "milestones": _l("Approval milestone"),
    "milestone_pauses": _l("Clock pause"),
    "assignments": _l("Assignment"),
    "generated_documents": _l("Document"),
    "milestone_dependencies": _l("Dependency between approvals"),
    "enterprise_links": _l("Enterprise link"),
    "order_confirmations": _l("Service order confirmation"),
    "joint_handlings": _l("Joint handling"),
    "ratings": _l("Enterprise rating"),
    "satisfaction_cases": _l("Bad-review case"),
    "attachments": _l("Attached file"),
    "round_reports": _l("Supervision report"),
    "enterprise_round_parts": _l("The enterprise's part of a supervision report"),
    "problems": _l("Coordination problem"),
    "investment_plans": _l("Annual investment plan"),
}

FIELDS: dict[str, object] = {
    "name": _l("Name"), "investor_name": _l("Investor"),
    "investor_credit_code": _l("Credit code"), "code": _l("Project code"),
    "investment": _l("Total investment"), "industry": _l("Industry"), "park_id": _l("Park"),
    "stage": _l("Stage"), "status": _l("Status"), "approval_mode": _l("Approval mode"),
    "eia_category": _l("Environmental impact assessment"), "description": _l("Description"),
    "contact_name": _l("Enterprise contact"), "contact_phone": _l("Contact phone"),
    "signed_on": _l("Signed on"), "expected_start_on": _l("Expected start of construction"),
    "from_stage": _l("From stage"), "to_stage": _l("To stage"), "reason": _l("Reason"),
    "automatic": _l("Automatic"), "changed_at": _l("Changed at"), "kind": _l("Kind"),
    "happened_on": _l("Date"), "hours": _l("Hours"), "text": _l("Text"),
    "milestone_id": _l("Approval item"), "resolved_at": _l("Resolved at"),
    "resolved_by_id": _l("Resolved by"), "resolution_note": _l("Resolution note"),
    "resolved_by_log_id": _l("Resolution entry"), "author_id": _l("Author"),
    "staff_id": _l("Staff"), "role": _l("Role"), "started_at": _l("Started"),
    "ended_at": _l("Ended"), "handover_note": _l("Handover note"), "forced": _l("Assigned by exception"),
    "end_reason": _l("Reason for ending"), "assigned_by_id": _l("Assigned by"),
    "ended_by_id": _l("Ended by"), "accepted_on": _l("Accepted"), "due_on": _l("Due"),
    "completed_on": _l("Completed"), "outcome": _l("Outcome"), "waive_reason": _l("Reason for waiving"),
    "owner_staff_id": _l("Owner"), "approval_doc_no": _l("Approval document number"),
    "issuing_department": _l("Issuing department"), "remaining_workdays": _l("Working days left"),
    "workdays_used": _l("Working days used"), "paused_on": _l("Paused on"),
    "resumed_on": _l("Resumed on"), "reason_code": _l("Pause reason"),
    "document_ref": _l("Document reference"), "note": _l("Note"), "required": _l("Required"),
    "department": _l("Handling department"), "limit_value": _l("Committed limit"),
    "limit_unit": _l("Unit of the committed limit"), "statutory_value": _l("Statutory limit"),
    "statutory_unit": _l("Unit of the statutory limit"), "period_start": _l("Period from"),
    "period_end": _l("Period to"), "order_number": _l("Order number"),
    "doc_version": _l("Version"), "requested_by_id": _l("Requested by"),
    "filename": _l("File name"), "error": _l("Error"),
    "parallel_reason": _l("Reason for starting in parallel"),
    "extension_workdays": _l("Extension (working days)"),
    "extension_doc_no": _l("Extension approval document"),
    "extension_approved_on": _l("Extension approved on"),
    "original_due_on": _l("Due date before the extension"), "requires_id": _l("Needs first"),
    "expires_on": _l("Expires after"), "revoked_at": _l("Revoked"),
    "signer_name": _l("Confirmed by"), "signer_title": _l("Position"),
    "signer_phone": _l("Phone"), "joint_id": _l("Joint handling"),
    "members": _l("Approvals handled jointly"),
    "openness": _l("Openness of government affairs"), "standards": _l("Handling by the rules"),
    "convenience": _l("Convenience"), "courtesy": _l("Courtesy"), "discipline": _l("Discipline"),
    "comment": _l("Comment"), "source": _l("Source"), "assignee_staff_id": _l("Assignee"),
    "classification": _l("Classification"), "rectification": _l("What was done"),
    "rectified_on": _l("Done on"), "panel_members": _l("Panel members"),
    "closed_at": _l("Closed"), "closed_how": _l("How it closed"),
    "close_note": _l("What the enterprise said on the phone"),
    # supervision
    "round_id": _l("Supervision round"), "reporter_staff_id": _l("Reporter"),
    "stage_at_open": _l("Stage when the round opened"), "progress": _l("Progress"),
    "next_steps": _l("Next steps"),
    "investment_completed": _l("Investment completed (10,000 yuan)"),
    "needs": _l("Needs coordination"), "report_id": _l("Supervision report"),
    "stage_reached": _l("Stage reached"), "submitted_on": _l("Filled on"),
    "submitted_by_id": _l("Filled by"), "blocker_id": _l("Blocker"), "summary": _l("Problem"),
    "level": _l("Level"), "owner_id": _l("Owner"), "raised_on": _l("Raised on"),
    "raised_by_id": _l("Raised by"), "escalated_on": _l("Escalated on"),
    "resolution": _l("Decision"), "year": _l("Year"),
    "planned": _l("Planned investment (10,000 yuan)"),
}

# Only the fields above are shown.  These are the columns left out on purpose: bookkeeping
# that says nothing to a reader (the event already shows who and when) and internals (a
# test checks every column of an audited record is in one list or the other).
HIDDEN = {"id", "project_id", "log_id", "stage_changed_at", "created_by_id",
          "changed_by_id", "notified_state", "due_provisional", "sequence", "created_at",
          "updated_at", "version", "approval_item_id", "content_fingerprint", "request_key",
          "requested_at", "finished_at", "enqueued_at", "attempts", "job_id", "size", "sha256",
          "content", "forecast_on", "slack_workdays", "critical", "salt", "token_hash", "document_id", "link_id", "confirmed_at",
          "submitted_at", "opened_at", "classified_at", "rating_id", "calendar_salt",
          "calendar_token_hash",
          # attached files: where the bytes are and what they are, not for reading
          "owner_type", "owner_id", "content_type", "storage", "storage_key", "thumbnail_key",
          "width", "height", "uploaded_by_id", "uploaded_at", "purpose",
          # supervision bookkeeping
          "raised_at"}

# Stored codes shown as labels: field -> label group (status depends on the record type).
CODE_GROUPS = {
    "stage": "stage", "from_stage": "stage", "to_stage": "stage", "industry": "industry",
    "approval_mode": "approval_mode", "eia_category": "eia_category", "kind": "log_kind",
    "role": "assignment_role", "reason_code": "pause_reason", "outcome": "sla_state",
    "limit_unit": "limit_unit", "statutory_unit": "limit_unit",
    "classification": "case_classification", "closed_how": "case_closed_how",
    "source": "rating_source", "stage_at_open": "stage", "stage_reached": "stage",
    "level": "problem_level",
}
# Fields whose label group depends on the record type.
ENTITY_CODE_GROUPS = {
    ("projects", "status"): "project_status", ("milestones", "status"): "milestone_status",
    ("generated_documents", "status"): "document_status",
    ("generated_documents", "kind"): "document_kind",
    ("satisfaction_cases", "status"): "case_status", ("satisfaction_cases", "kind"): "case_kind",
    ("round_reports", "status"): "report_state", ("problems", "status"): "problem_status",
}
# Actions whose note is a stored code rather than words.
NOTE_GROUPS = {"milestone.pause": "pause_reason", "milestone.complete": "sla_state"}

# Fields holding ids, and the table that names them.
REFERENCES = {
    "park_id": "parks", "author_id": "users", "resolved_by_id": "users",
    "assigned_by_id": "users", "ended_by_id": "users", "staff_id": "staff",
    "owner_staff_id": "staff", "milestone_id": "milestones", "requested_by_id": "users",
    "requires_id": "milestones", "assignee_staff_id": "staff", "reporter_staff_id": "staff",
    "submitted_by_id": "users", "owner_id": "users", "raised_by_id": "users",
}
_NAME_QUERIES = {
    "parks": (Park.id, Park.name), "users": (User.id, User.display_name),
    "staff": (Staff.id, Staff.name), "milestones": (Milestone.id, Milestone.name),
}


def action_labels() -> dict[str, object]:
    """Every audited action's label (set up by ``create_app``)."""
    return current_app.extensions.get("audit_actions", GENERIC_ACTIONS)


@dataclass
class TrailEntry:
    when: dt.datetime
    who: str | None
    record: str
    action: str
    changes: list[tuple[str, str | None, str | None]]  # (field, before, after); None: not shown
    note: str | None


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE - 1] + "…"


def show_value(entity: str, name: str, value, names: dict) -> str:
    """One stored value as a reader should see it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if name in REFERENCES:
        return names.get(REFERENCES[name], {}).get(value) or f"#{value}"
    group = ENTITY_CODE_GROUPS.get((entity, name)) or CODE_GROUPS.get(name)
    if group:
        return label(group, value)
    if name == "investment":
        return _("%(amount)s (10,000 yuan)", amount=value)
    if isinstance(value, str) and len(value) > 18 and value[10:11] == "T":
        try:
            return local_time(dt.datetime.fromisoformat(value))
        except ValueError:
            pass
    if isinstance(value, (list, dict)):
        value = "、".join(map(str, value)) if isinstance(value, list) else str(value)
    return _shorten(str(value))


def _lookups(events) -> dict[str, dict]:
    """Names for every id the events mention, in one query (a UNION over the kinds of
    reference), so the page's query count does not depend on which kinds occur."""
    wanted: dict[str, set] = {}
    for event in events:
        for name, change in (event.changes or {}).items():
            table = REFERENCES.get(name)
            if table and isinstance(change, list):
                wanted.setdefault(table, set()).update(
                    v for v in change if isinstance(v, int) and not isinstance(v, bool))
    names: dict[str, dict] = {table: {} for table in _NAME_QUERIES}
    if not events:
        return names
    parts = [
        select(literal(table).label("kind"), id_col.label("id"), name_col.label("name"))
        .where(id_col.in_(sorted(wanted.get(table, ()))))
        for table, (id_col, name_col) in _NAME_QUERIES.items()
    ]
    for kind, ident, name in db.session.execute(union_all(*parts)).all():
        names[kind][ident] = name
    return names


def _note(event: AuditEvent) -> str | None:
    group = NOTE_GROUPS.get(event.action)
    return label(group, event.note) if group and event.note else event.note


def project_trail(project_id: int, limit: int = TRAIL_SIZE) -> list[TrailEntry]:
    """The latest events of a project, newest first, in words."""
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.project_id == project_id,
                                 AuditEvent.entity_type.in_(list(ENTITIES)))
        .options(joinedload(AuditEvent.user))
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()).limit(limit)
    ).all()
    names = _lookups(events)
    actions = action_labels()
    entries = []
    for event in events:
        shown = [(name, change) for name, change in (event.changes or {}).items()
                 if name in FIELDS and isinstance(change, list) and len(change) == 2]
        added = all(before is None for _, (before, _after) in shown)
        removed = not added and all(after is None for _, (_before, after) in shown)
        changes = []
        for name, (before, after) in shown:
            if added and after is None:
                continue
            changes.append((
                str(FIELDS.get(name, name)),
                None if added else show_value(event.entity_type, name, before, names),
                None if removed else show_value(event.entity_type, name, after, names),
            ))
        entries.append(TrailEntry(
            when=event.occurred_at,
            who=event.user.display_name if event.user else None,
            record=str(ENTITIES.get(event.entity_type, event.entity_type)),
            action=str(actions.get(event.action, event.action)),
            changes=changes, note=_note(event)))
    return entries
