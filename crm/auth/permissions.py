"""What each role may do to a record it can see.  Seeing is decided by auth/scope.py;
doing something you may not do to a visible record answers 403."""

from __future__ import annotations

import enum

from flask import abort
from flask_login import current_user

from crm.auth.models import Role


class Action(enum.StrEnum):
    PROJECT_CREATE = "project.create"
    PROJECT_EDIT = "project.edit"
    PROJECT_STATUS = "project.status"  # set active / on hold / dropped
    PROJECT_STAGE = "project.stage"  # move the stage by hand
    LOG_CREATE = "log.create"
    LOG_DELETE = "log.delete"
    MILESTONE_UPDATE = "milestone.update"  # start, pause, resume, complete, waive
    MILESTONE_REOPEN = "milestone.reopen"
    PLAN_EDIT = "plan.edit"  # add or remove a dependency between a project's approvals
    ENTERPRISE_LINK = "enterprise_link"  # issue or revoke the enterprise's progress link
    CASE_MANAGE = "case.manage"  # classify a bad-review case, record the panel, close it
    CASE_RECTIFY = "case.rectify"  # record the rectification of a simple case
    CALLBACKS = "callbacks"  # the monthly callback sample: see, export
    ASSIGN = "assign"
    ROSTER_VIEW = "roster.view"  # park rosters, workload, unassigned queue
    ROSTER_EDIT = "roster.edit"
    DOCUMENT_REQUEST = "document.request"
    DOCUMENT_DOWNLOAD = "document.download"
    SUMMARY_REQUEST = "summary.request"  # leadership summaries (city or park): request, download
    PARK_DASHBOARD = "dashboard.park"  # a park's figures and lists (all its projects)
    CITY_DASHBOARD = "dashboard.city"  # every park side by side
    IMPORT = "import"  # bring a ledger or a roster in from a spreadsheet, revert it
    ROUND_RUN = "round.run"  # open and close supervision rounds (调度)
    ROUND_REPORT = "round.report"  # fill a project's report in a round
    PROBLEM_RAISE = "problem.raise"  # take an open blocker to a department
    PROBLEM_MANAGE = "problem.manage"  # change, resolve problems; record coordination meetings
    ATTACHMENT_UPLOAD = "attachment.upload"  # attach a file to a milestone, a log entry...
    ATTACHMENT_DOWNLOAD = "attachment.download"
    # Remove a file: staff only the files they attached (crm/attachments/services.py).
    ATTACHMENT_DELETE = "attachment.delete"
    ADMIN = "admin"


_ALL_WRITERS = {Role.ADMIN, Role.PARK_MANAGER, Role.CONSULTANT, Role.AGENT}

ALLOWED: dict[Action, set[Role]] = {
    Action.PROJECT_CREATE: {Role.ADMIN, Role.PARK_MANAGER},
    Action.PROJECT_EDIT: {Role.ADMIN, Role.PARK_MANAGER, Role.CONSULTANT},
    Action.PROJECT_STATUS: {Role.ADMIN, Role.PARK_MANAGER},
    Action.PROJECT_STAGE: {Role.ADMIN, Role.PARK_MANAGER},
    Action.LOG_CREATE: _ALL_WRITERS,
    Action.LOG_DELETE: {Role.ADMIN},
    Action.MILESTONE_UPDATE: _ALL_WRITERS,
    Action.MILESTONE_REOPEN: {Role.ADMIN, Role.PARK_MANAGER},
    Action.PLAN_EDIT: {Role.ADMIN, Role.PARK_MANAGER},
    Action.ENTERPRISE_LINK: _ALL_WRITERS,
    Action.CASE_MANAGE: {Role.ADMIN, Role.PARK_MANAGER},
    Action.CASE_RECTIFY: _ALL_WRITERS,
    Action.CALLBACKS: {Role.ADMIN, Role.LEADER, Role.PARK_MANAGER},
    Action.ASSIGN: {Role.ADMIN, Role.PARK_MANAGER},
    Action.ROSTER_VIEW: {Role.ADMIN, Role.LEADER, Role.PARK_MANAGER},
    Action.ROSTER_EDIT: {Role.ADMIN, Role.PARK_MANAGER},
    # Generating a new official version is for the people who serve or run the park; the
    # leader (read-only) downloads what exists.
    Action.DOCUMENT_REQUEST: _ALL_WRITERS,
    Action.DOCUMENT_DOWNLOAD: {Role.ADMIN, Role.LEADER, Role.PARK_MANAGER, Role.CONSULTANT,
                               Role.AGENT},
    Action.SUMMARY_REQUEST: {Role.ADMIN, Role.LEADER, Role.PARK_MANAGER},
    Action.PARK_DASHBOARD: {Role.ADMIN, Role.LEADER, Role.PARK_MANAGER},
    Action.CITY_DASHBOARD: {Role.ADMIN, Role.LEADER},
    Action.IMPORT: {Role.ADMIN, Role.PARK_MANAGER},
    # The city bureau (leaders) runs city-wide rounds and coordinates the problems taken to
    # departments: the one place leaders write, beside their read-only view.
    Action.ROUND_RUN: {Role.ADMIN, Role.LEADER, Role.PARK_MANAGER},
    Action.ROUND_REPORT: _ALL_WRITERS,
    Action.PROBLEM_RAISE: _ALL_WRITERS,
    Action.PROBLEM_MANAGE: {Role.ADMIN, Role.LEADER, Role.PARK_MANAGER},
    Action.ATTACHMENT_UPLOAD: _ALL_WRITERS,
    Action.ATTACHMENT_DOWNLOAD: {Role.ADMIN, Role.LEADER, Role.PARK_MANAGER, Role.CONSULTANT,
                                 Role.AGENT},
    Action.ATTACHMENT_DELETE: _ALL_WRITERS,
    Action.ADMIN: {Role.ADMIN},
}


def can(user, action: Action) -> bool:
    return bool(user and user.is_authenticated and user.role in ALLOWED[action])


def can_current(action: str) -> bool:
    """``can('dashboard.city')`` in templates: whether the current user's role allows it."""
    return can(current_user, Action(action))


def require(action: Action, user=None) -> None:
    """Abort with 403 unless the user's role allows the action."""
    if not can(user or current_user, action):
        abort(403)
