"""The access matrix (DESIGN §4 Access), generated from ``app.url_map``: route × role × scope.

Rules:

- roles: ``admin``, ``leader`` (everything, read-only), ``park_manager`` (their parks),
  ``consultant`` and ``agent`` (the projects they are assigned to);
- a record outside the user's scope answers 404, as if it did not exist;
- an action the role may not take on a record it can see answers 403;
- an allowed request answers neither 403 nor 404 (2xx, 3xx, or 400/409/422 for an invalid
  empty form), and nothing answers 500;
- a scoped user's response never names a record outside the scope (another park, its
  projects and people; for consultants and agents also the projects they do not serve).

``MATRIX`` below is the explicit table: every rule of the URL map (but the ones in ``SKIPPED``)
has an entry per method saying which kind of record each URL parameter names and which roles
may take the action.  A route without an entry fails ``test_every_route_has_an_entry``,
naming the rule.

Each (entry, role, case) is one test, requested as:

- ``own``: ids in the user's scope (project a1 and its records, park A, the user's own token
  and notification);
- ``other_park``: the same route with park B's records (404 unless the role sees everything;
  another user's token or notification is 404 for every role);
- ``same_park``: (consultants and agents) the records of project a2, in their park but not
  assigned to them: 404;
- ``mismatch``: a child record of park B under a parent in scope (a milestone, a log entry, a
  staff member of another park under one's own project or park): 404;
- ``body_other``: an id of park B's record in the form or JSON body (a staff member to assign,
  a park to summarise, a project to log on...): refused (not carried out, naming nobody
  outside the scope) or 404 where the entry says so.

The world (tests/factories.py ``build_world`` plus milestones, log entries, documents, a
helper agent per park, notifications and API tokens) is built once for the module; each test
starts from a copy of that database (SQLite only), with every role already logged in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests import factories
from tests.conftest import _create_app, base_config, login


# -- roles ---------------------------------------------------------------------------------

# role -> the world user who plays it (tests/factories.py build_world)
ROLES = {
    "admin": "admin",
    "leader": "leader",
    "park_manager": "manager_a",
    "consultant": "consultant_a",
    "agent": "agent_a",
}
SEE_ALL = frozenset({"admin", "leader"})
ASSIGNED_ONLY = frozenset({"consultant", "agent"})

ALL = frozenset(ROLES)
WRITERS = ALL - {"leader"}  # log.create, milestone.update, document.request
MANAGE = frozenset({"admin", "park_manager"})
CALLBACKS = frozenset({"admin", "leader", "park_manager"})  # the callback sample  # project.create/status/stage, assign, roster.edit, milestone.reopen
EDITORS = frozenset({"admin", "park_manager", "consultant"})  # project.edit
LEADERSHIP = frozenset({"admin", "leader", "park_manager"})  # roster.view, summaries, park dashboard
CITY = frozenset({"admin", "leader"})  # dashboard.city
ADMIN = frozenset({"admin"})  # log.delete, admin
NOBODY = frozenset()

# -- routes outside the matrix ---------------------------------------------------------------

SKIPPED_ENDPOINTS = {"static"}
SKIPPED_PREFIXES = ("/admin/",)  # Flask-Admin: admins only (tests/integration/test_access.py)
SKIPPED_RULES = {"/api/v1/openapi.json", "/api/v1/docs", "/healthz", "/favicon.ico", "/login",
                 "/logout", "/language",
                 # The enterprise's pages: no account, a token instead (tests/integration/test_portal.py).
                 "/e/<token>", "/e/<token>/order.pdf", "/e/<token>/confirm",
                 "/e/<token>/rate", "/e/<token>/complain",  # (and test_ratings.py)
                 "/e/<token>/rounds/<int:round_id>",  # (test_supervision_enterprise.py)
                 # The deadline calendar feed: a secret address, no account (test_calendar_feed.py).
                 "/calendar/<token>.ics",
                 # Resending a failed alert: needs a delivery; admins only (test_alerts.py).
                 "/notifications/deliveries/<int:delivery_id>/resend",
                 # Supervision records (a round, its reports, a problem, a meeting, a blocker
                 # to raise): role x scope in tests/integration/test_supervision.py.
                 "/rounds/<int:round_id>", "/rounds/<int:round_id>/close",
                 "/rounds/<int:round_id>/projects/<int:project_id>",
                 "/problems/<int:problem_id>", "/problems/<int:problem_id>/resolve",
                 "/logs/<int:log_id>/raise", "/meetings/<int:meeting_id>",
                 "/api/v1/rounds/<int:round_id>", "/api/v1/rounds/<int:round_id>/close",
                 "/api/v1/rounds/<int:round_id>/reports",
                 "/api/v1/rounds/<int:round_id>/reports/<int:project_id>",
                 "/api/v1/problems/<int:problem_id>", "/api/v1/problems/<int:problem_id>/resolve",
                 "/api/v1/blockers/<int:log_id>/problem", "/api/v1/meetings/<int:meeting_id>",
                 "/problems/<int:problem_id>/edit", "/api/v1/problems/<int:problem_id>/attachments"}


def skipped(rule) -> bool:
    return (rule.endpoint in SKIPPED_ENDPOINTS or rule.rule in SKIPPED_RULES
            or rule.rule.startswith(SKIPPED_PREFIXES))


# -- the table -----------------------------------------------------------------------------

# Kinds of record a URL parameter (or a form / JSON field) names.  A parameter given as
# "=value" is a literal, not a record.  Personal kinds belong to one user: another user's is
# out of scope for every role, admins included.
PERSONAL = frozenset({"token", "notification"})
PROJECT_KINDS = frozenset({"project", "milestone", "log", "document", "dependency", "joint",
                           "case", "attachment"})  # have a same_park case


@dataclass(frozen=True)
class Entry:
    method: str
    rule: str
    may: frozenset  # roles allowed to take the action (on a record they can see)
    params: dict = field(default_factory=dict)  # URL parameter -> kind (or "=literal")
    query: dict = field(default_factory=dict)  # query parameter naming a scope -> kind (404 rule), or "=literal"
    body: dict = field(default_factory=dict)  # form/JSON field -> "@kind", or a literal value
    variant: str = ""
    hidden_from: frozenset = NOBODY  # roles that may see no record of this kind at all: 404
    override: dict = field(default_factory=dict)  # role -> expected statuses (own case)
    body_other: str = "refused"  # out-of-scope id in the body: "refused" or "404"
    # The body's records must belong to the URL's project: another project's answer 404 even
    # to those who see every park.
    body_in_project: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.rule

    @property
    def api(self) -> bool:
        return self.rule.startswith("/api/")

    @property
    def label(self) -> str:
        return f"{self.method} {self.rule}" + (f" [{self.variant}]" if self.variant else "")

    def path_kinds(self) -> list[str]:
        kinds = [k for k in self.params.values() if not k.startswith("=")]
        return kinds + [k for k in self.query.values() if not k.startswith("=")]

    def body_kinds(self) -> list[str]:
        return [v[1:] for v in self.body.values() if isinstance(v, str) and v.startswith("@")]


def E(method, rule, may, **kw) -> Entry:  # noqa: N802  (a table row)
    return Entry(method, rule, frozenset(may), **kw)


TODAY = dt.date.today().isoformat()
P = {"project_id": "project"}
PM = {"project_id": "project", "milestone_id": "milestone"}
PARK = {"park_id": "park"}
STAFF = {"park_id": "park", "staff_id": "staff"}
DOC = {"document_id": "document"}
SUMMARY = {"document_id": "summary"}
CITY_SUMMARY = {"document_id": "city_summary"}
NOT_SUMMARISERS = frozenset({"consultant", "agent"})  # see no summaries at all
ATTACHMENT = {"attachment_id": "attachment"}
PLOG = {"project_id": "project", "log_id": "log"}

MATRIX: list[Entry] = [
    # -- home, notifications, profile ----------------------------------------------------
    E("GET", "/", ALL),
    E("GET", "/notifications/", ALL),
    E("POST", "/notifications/read", ALL, body={"id": "@notification"}, body_other="404"),
    E("GET", "/notifications/settings", ALL),
    E("POST", "/notifications/settings", ALL),
    E("GET", "/notifications/deliveries", ADMIN),
    E("GET", "/profile", ALL),
    E("POST", "/profile", ALL),
    E("POST", "/profile/tokens", ALL),
    E("POST", "/profile/calendar", ALL),
    E("POST", "/profile/tokens/<int:token_id>/revoke", ALL, params={"token_id": "token"}),

    # -- projects ------------------------------------------------------------------------
    E("GET", "/projects/", ALL),
    E("GET", "/projects/export.xlsx", ALL),
    E("GET", "/projects/new", MANAGE),  # project.create
    E("POST", "/projects/new", MANAGE, body={
        "park": "@park", "name": "矩阵测试项目", "investor_name": "矩阵投资有限公司",
        "investment": "20000", "industry": "new_energy", "stage": "negotiating"}),
    E("GET", "/projects/<int:project_id>", ALL, params=P),
    E("GET", "/projects/<int:project_id>/edit", EDITORS, params=P),  # project.edit
    E("POST", "/projects/<int:project_id>/edit", EDITORS, params=P),
    E("GET", "/projects/<int:project_id>/log.xlsx", ALL, params=P),
    E("POST", "/projects/<int:project_id>/stage", MANAGE, params=P),  # project.stage
    E("POST", "/projects/<int:project_id>/logs", WRITERS, params=P),  # log.create
    E("POST", "/projects/logs", WRITERS, body={
        "project": "@project", "kind": "visit", "text": "矩阵测试", "happened_on": TODAY}),
    E("GET", "/projects/logs/form", ALL, body={"project": "@project"}),
    E("GET", "/projects/logs/<int:log_id>/edit", WRITERS, params={"log_id": "log"}),
    E("POST", "/projects/logs/<int:log_id>/edit", WRITERS, params={"log_id": "log"}),
    E("POST", "/projects/logs/<int:log_id>/annotate", WRITERS, params={"log_id": "log"}),
    E("POST", "/projects/logs/<int:log_id>/close", WRITERS, params={"log_id": "log"}),
    E("POST", "/projects/logs/<int:log_id>/delete", ADMIN, params={"log_id": "log"}),  # log.delete

    # -- milestones ----------------------------------------------------------------------
    E("GET", "/projects/<int:project_id>/milestones/<int:milestone_id>/<action>", WRITERS,
      params=dict(PM, action="=start"), variant="start"),  # milestone.update
    E("POST", "/projects/<int:project_id>/milestones/<int:milestone_id>/<action>", WRITERS,
      params=dict(PM, action="=start"), variant="start"),
    E("GET", "/projects/<int:project_id>/milestones/<int:milestone_id>/<action>", MANAGE,
      params=dict(PM, action="=reopen"), variant="reopen"),  # milestone.reopen
    E("POST", "/projects/<int:project_id>/milestones/<int:milestone_id>/<action>", MANAGE,
      params=dict(PM, action="=reopen"), variant="reopen"),
    E("GET", "/projects/<int:project_id>/milestones/<int:milestone_id>/<action>", WRITERS,
      params=dict(PM, action="=extend"), variant="extend"),
    E("POST", "/projects/<int:project_id>/milestones/<int:milestone_id>/<action>", WRITERS,
      params=dict(PM, action="=extend"), variant="extend"),
    E("GET", "/projects/<int:project_id>/plan/dependencies", MANAGE, params=P),  # plan.edit
    E("POST", "/projects/<int:project_id>/plan/dependencies", MANAGE, params=P),
    E("POST", "/projects/<int:project_id>/plan/dependencies/<int:dependency_id>/remove", MANAGE,
      params={"project_id": "project", "dependency_id": "dependency"},
      body={"remove-reason": "矩阵测试"}),
    E("GET", "/projects/<int:project_id>/plan/joint", MANAGE, params=P),  # plan.edit
    E("POST", "/projects/<int:project_id>/plan/joint", MANAGE, params=P),
    E("GET", "/projects/<int:project_id>/plan/joint/<int:joint_id>/extend", MANAGE,
      params={"project_id": "project", "joint_id": "joint"}),
    E("POST", "/projects/<int:project_id>/plan/joint/<int:joint_id>/extend", MANAGE,
      params={"project_id": "project", "joint_id": "joint"}),
    E("POST", "/projects/<int:project_id>/plan/joint/<int:joint_id>/remove", MANAGE,
      params={"project_id": "project", "joint_id": "joint"}, body={"remove-reason": "矩阵测试"}),
    E("GET", "/projects/<int:project_id>/cases/<int:case_id>", ALL,
      params={"project_id": "project", "case_id": "case"}),
    E("POST", "/projects/<int:project_id>/cases/<int:case_id>/<step>", MANAGE,  # case.manage
      params={"project_id": "project", "case_id": "case", "step": "=classify"},
      variant="classify"),
    E("POST", "/projects/<int:project_id>/cases/<int:case_id>/<step>", WRITERS,  # case.rectify
      params={"project_id": "project", "case_id": "case", "step": "=rectify"}, variant="rectify"),
    E("GET", "/callbacks", CALLBACKS),  # callbacks
    E("GET", "/callbacks/<month>", CALLBACKS, params={"month": "=2026-08"}),
    E("GET", "/callbacks/<month>.xlsx", CALLBACKS, params={"month": "=2026-08"}),
    E("GET", "/callbacks/items/<int:item_id>", MANAGE, params={"item_id": "callback"}),
    E("POST", "/callbacks/items/<int:item_id>", MANAGE, params={"item_id": "callback"}),
    E("GET", "/rounds", ALL),  # round.run, round.report
    E("GET", "/rounds/new", LEADERSHIP),
    E("POST", "/rounds/new", LEADERSHIP, body={
        "title": "调度", "cadence": "monthly", "park_id": "@park", "period_start": "2026-11-01",
        "period_end": "2026-11-30", "due_on": "2099-01-05"}),
    E("GET", "/problems", ALL),  # problem.manage
    E("GET", "/meetings", ALL),
    E("GET", "/meetings/new", LEADERSHIP),
    E("POST", "/meetings/new", LEADERSHIP, body={
        "park_id": "@park", "held_on": "2026-11-02", "title": "协调会", "attendees": "各部门",
        "decisions": "议定事项"}),
    E("POST", "/projects/<int:project_id>/investment-plan", EDITORS,  # project.edit
      params={"project_id": "project"}, body={"year": "2026", "planned": "100"}),
    E("GET", "/imports", MANAGE),  # import
    E("POST", "/imports", MANAGE),
    E("GET", "/imports/templates/<kind>.xlsx", MANAGE, params={"kind": "=projects"}),
    *[E(method, rule, MANAGE, params={"batch_id": "batch"}) for method, rule in (
        ("GET", "/imports/<int:batch_id>"), ("GET", "/imports/<int:batch_id>/status"),
        ("GET", "/imports/<int:batch_id>/failed.xlsx"), ("POST", "/imports/<int:batch_id>/check"),
        ("POST", "/imports/<int:batch_id>/commit"), ("POST", "/imports/<int:batch_id>/revert"),
        ("GET", "/api/v1/imports/<int:batch_id>"),
        ("POST", "/api/v1/imports/<int:batch_id>/commit"),
        ("POST", "/api/v1/imports/<int:batch_id>/revert"))],
    E("POST", "/api/v1/imports", MANAGE),
    E("GET", "/api/v1/rounds", ALL),
    E("POST", "/api/v1/rounds", LEADERSHIP, body={
        "title": "调度", "cadence": "monthly", "park_id": "@park", "period_start": "2026-11-01",
        "period_end": "2026-11-30", "due_on": "2099-01-05"}),
    E("GET", "/api/v1/problems", ALL),
    E("GET", "/api/v1/problems/by-department", ALL),
    E("GET", "/api/v1/meetings", ALL),
    E("POST", "/api/v1/meetings", LEADERSHIP, body={
        "park_id": "@park", "held_on": "2026-11-02", "title": "协调会", "attendees": "各部门",
        "decisions": "议定事项"}),
    E("GET", "/api/v1/departments", ALL),
    E("GET", "/projects/<int:project_id>/enterprise-link", WRITERS, params=P),  # enterprise_link
    E("POST", "/projects/<int:project_id>/enterprise-link", WRITERS, params=P),
    E("POST", "/projects/<int:project_id>/enterprise-link/revoke", WRITERS, params=P),
    E("GET", "/projects/<int:project_id>/enterprise-link/qr.svg", ALL, params=P),
    E("GET", "/projects/<int:project_id>/milestones/new", WRITERS, params=P),
    E("POST", "/projects/<int:project_id>/milestones/new", WRITERS, params=P),
    E("GET", "/milestones/calendar/import", ADMIN),
    E("POST", "/milestones/calendar/import", ADMIN),

    # -- a project's team ----------------------------------------------------------------
    E("GET", "/projects/<int:project_id>/team", ALL, params=P),
    E("POST", "/projects/<int:project_id>/team/assign", MANAGE, params=P, body={  # assign
        "assign-role": "lead_agent", "assign-staff_id": "@colleague",
        "assign-reason": "矩阵测试", "assign-handover_note": "矩阵测试"}),
    E("POST", "/projects/<int:project_id>/team/auto", MANAGE, params=P),
    E("POST", "/projects/<int:project_id>/team/helpers", MANAGE, params=P, body={
        "helper-staff_id": "@colleague", "helper-reason": "矩阵测试"}),
    E("POST", "/projects/<int:project_id>/team/helpers/end", MANAGE, params=P, body={
        "assignment_id": "@assignment", "reason": "矩阵测试"}),

    # -- park rosters ----------------------------------------------------------------------
    E("GET", "/parks/", LEADERSHIP),  # roster.view
    E("GET", "/parks/<int:park_id>/roster", LEADERSHIP, params=PARK),
    # the roster's search for people to add: never another park's staff
    E("GET", "/parks/<int:park_id>/roster", LEADERSHIP, params=PARK, query={"q": "=代办"},
      variant="search"),
    E("POST", "/parks/<int:park_id>/roster/add", MANAGE, params=PARK,  # roster.edit
      body={"staff_id": "@colleague"}, body_other="404"),
    E("GET", "/parks/<int:park_id>/roster/new", MANAGE, params=PARK),
    E("POST", "/parks/<int:park_id>/roster/new", MANAGE, params=PARK),
    E("GET", "/parks/<int:park_id>/staff/<int:staff_id>", LEADERSHIP, params=STAFF),
    E("POST", "/parks/<int:park_id>/staff/<int:staff_id>", MANAGE, params=STAFF),
    E("GET", "/parks/<int:park_id>/staff/<int:staff_id>/handover", LEADERSHIP, params=STAFF),
    E("POST", "/parks/<int:park_id>/staff/<int:staff_id>/handover", MANAGE, params=STAFF, body={
        "reason": "矩阵测试", "handover_note": "矩阵测试",
        "choice_{lead_assignment}": "@colleague"}),
    E("POST", "/parks/<int:park_id>/staff/<int:staff_id>/remove", MANAGE, params=STAFF),
    E("GET", "/parks/<int:park_id>/unassigned", LEADERSHIP, params=PARK),
    E("GET", "/notifications/parks/<int:park_id>/robot", MANAGE, params=PARK),
    E("POST", "/notifications/parks/<int:park_id>/robot", MANAGE, params=PARK),
    E("POST", "/notifications/parks/<int:park_id>/robot/test", MANAGE, params=PARK),
    E("POST", "/notifications/parks/<int:park_id>/robot/remove", MANAGE, params=PARK),
    E("POST", "/parks/<int:park_id>/unassigned/auto", MANAGE, params=PARK),  # assign
    E("GET", "/parks/<int:park_id>/workload", LEADERSHIP, params=PARK),

    # -- dashboards --------------------------------------------------------------------------
    E("GET", "/dashboard/", LEADERSHIP),  # dashboard.park (leadership: the city's)
    E("GET", "/dashboard/city", CITY),
    E("POST", "/dashboard/city/refresh", CITY),
    E("GET", "/dashboard/parks/<int:park_id>", LEADERSHIP, params=PARK),
    # Drill-down lists: of one park (?park=), or of every park (leadership only: a park
    # manager's "every park" is out of scope).
    E("GET", "/dashboard/milestones", LEADERSHIP, query={"park": "park"}, variant="park"),
    E("GET", "/dashboard/milestones", LEADERSHIP, variant="city",
      override={"park_manager": {404}}),
    E("GET", "/dashboard/blockers", LEADERSHIP, query={"park": "park"}, variant="park"),
    E("GET", "/dashboard/blockers", LEADERSHIP, variant="city", override={"park_manager": {404}}),

    # -- documents -------------------------------------------------------------------------
    E("POST", "/documents/service-orders/<int:project_id>", WRITERS, params=P),  # document.request
    E("GET", "/documents/summaries", LEADERSHIP),  # summary.request
    E("POST", "/documents/summaries", LEADERSHIP, body={
        "scope": "@park", "start": "2025-01-01", "end": TODAY}),
    *[E("GET", rule, ALL, params=params, variant=variant, hidden_from=hidden)  # document.download
      for rule in ("/documents/<int:document_id>", "/documents/<int:document_id>/status",
                   "/documents/<int:document_id>/download")
      for variant, params, hidden in (
          ("service order", DOC, NOBODY),
          ("park summary", SUMMARY, NOT_SUMMARISERS),
          ("city summary", CITY_SUMMARY, ALL - CITY))],

    # -- attachments (uploaded by agent_a: the consultant may not remove another's file) -------
    *[E(method, "/attachments/<owner_type>/<int:owner_id>", may, variant=owner,
        params={"owner_type": f"={owner}", "owner_id": owner})
      for owner in ("milestone", "log") for method, may in (("GET", ALL), ("POST", WRITERS))],
    E("GET", "/attachments/<int:attachment_id>/download", ALL, params=ATTACHMENT),
    E("GET", "/attachments/<int:attachment_id>/thumbnail", ALL, params=ATTACHMENT),
    E("POST", "/attachments/<int:attachment_id>/delete", WRITERS, params=ATTACHMENT,
      override={"consultant": {403}}),
    E("GET", "/api/v1/projects/<int:project_id>/milestones/<int:milestone_id>/attachments", ALL,
      params=PM),
    E("POST", "/api/v1/projects/<int:project_id>/milestones/<int:milestone_id>/attachments",
      WRITERS, params=PM),
    E("GET", "/api/v1/projects/<int:project_id>/logs/<int:log_id>/attachments", ALL, params=PLOG),
    E("POST", "/api/v1/projects/<int:project_id>/logs/<int:log_id>/attachments", WRITERS,
      params=PLOG),
    E("GET", "/api/v1/attachments/<int:attachment_id>", ALL, params=ATTACHMENT),
    E("GET", "/api/v1/attachments/<int:attachment_id>/download", ALL, params=ATTACHMENT),
    E("DELETE", "/api/v1/attachments/<int:attachment_id>", WRITERS, params=ATTACHMENT,
      override={"consultant": {403}}),

    # -- API: reference data -----------------------------------------------------------------
    E("GET", "/api/v1/districts", ALL),
    E("GET", "/api/v1/parks", ALL),
    E("GET", "/api/v1/approval-items", ALL),
    E("GET", "/api/v1/staff", ALL),

    # -- API: projects -----------------------------------------------------------------------
    E("GET", "/api/v1/projects", ALL),
    E("POST", "/api/v1/projects", MANAGE, body={
        "park_id": "@park", "name": "矩阵测试项目", "investor_name": "矩阵投资有限公司",
        "investment": 20000, "industry": "new_energy"}),
    E("GET", "/api/v1/projects/<int:project_id>", ALL, params=P),
    E("PATCH", "/api/v1/projects/<int:project_id>", EDITORS, params=P, body={"version": 1}),
    E("POST", "/api/v1/projects/<int:project_id>/stage", MANAGE, params=P, body={
        "stage": "land", "reason": "矩阵测试", "version": 1}),
    E("GET", "/api/v1/projects/<int:project_id>/assignments", ALL, params=P),
    E("POST", "/api/v1/projects/<int:project_id>/assignments", MANAGE, params=P, body={
        "role": "lead_agent", "staff_id": "@colleague", "reason": "矩阵测试",
        "handover_note": "矩阵测试"}),
    E("POST", "/api/v1/projects/<int:project_id>/assignments/auto", MANAGE, params=P),
    E("GET", "/api/v1/projects/<int:project_id>/logs", ALL, params=P),
    E("POST", "/api/v1/projects/<int:project_id>/logs", WRITERS, params=P, body={
        "kind": "visit", "happened_on": TODAY, "text": "矩阵测试", "milestone_id": "@milestone"}),
    E("POST", "/api/v1/projects/<int:project_id>/blockers/<int:log_id>/resolve", WRITERS,
      params={"project_id": "project", "log_id": "log"}, body={"note": "矩阵测试"}),
    E("GET", "/api/v1/projects/<int:project_id>/milestones", ALL, params=P),
    *[E("POST", f"/api/v1/projects/<int:project_id>/milestones/<int:milestone_id>/{action}",
        MANAGE if action == "reopen" else WRITERS, params=PM, body=dict(body, version=1))
      for action, body in (
          ("start", {"accepted_on": TODAY}),
          ("pause", {"paused_on": TODAY, "reason_code": "other"}),
          ("resume", {"resumed_on": TODAY}),
          ("complete", {"completed_on": TODAY}),
          ("waive", {"reason": "矩阵测试"}),
          ("reopen", {"reason": "矩阵测试"}),
          ("extend", {"extension_workdays": 5, "extension_doc_no": "矩阵测试",
                      "extension_approved_on": TODAY}))],
    E("GET", "/api/v1/projects/<int:project_id>/plan", ALL, params=P),
    E("POST", "/api/v1/projects/<int:project_id>/dependencies", MANAGE, params=P, body={
        "milestone_id": "@milestone", "requires_id": "@milestone", "reason": "矩阵测试"},
      body_other="404", body_in_project=True),
    E("POST", "/api/v1/projects/<int:project_id>/dependencies/<int:dependency_id>/remove", MANAGE,
      params={"project_id": "project", "dependency_id": "dependency"}, body={"reason": "矩阵测试"}),
    E("POST", "/api/v1/projects/<int:project_id>/service-orders", WRITERS, params=P),

    # -- API: documents and dashboards -------------------------------------------------------
    E("GET", "/api/v1/projects/<int:project_id>/ratings", ALL, params=P),
    E("GET", "/api/v1/projects/<int:project_id>/cases", ALL, params=P),
    E("GET", "/api/v1/callbacks/<month>", CALLBACKS, params={"month": "=2026-08"}),
    E("POST", "/api/v1/summaries", LEADERSHIP, body={
        "scope": "@park", "start": "2025-01-01", "end": TODAY}),
    *[E("GET", rule, ALL, params=params, variant=variant, hidden_from=hidden)
      for rule in ("/api/v1/documents/<int:document_id>",
                   "/api/v1/documents/<int:document_id>/download")
      for variant, params, hidden in (
          ("service order", DOC, NOBODY),
          ("park summary", SUMMARY, NOT_SUMMARISERS),
          ("city summary", CITY_SUMMARY, ALL - CITY))],
    E("GET", "/api/v1/dashboard/city", CITY),
    E("GET", "/api/v1/dashboard/parks/<int:park_id>", LEADERSHIP, params=PARK),
]


# -- cases ---------------------------------------------------------------------------------

def cases_of(entry: Entry, role: str) -> list[str]:
    kinds = entry.path_kinds()
    if not kinds and not entry.body_kinds():
        return ["none"]
    cases = ["own"]
    if any(k not in ("city_summary",) for k in kinds):
        cases.append("other_park")
    if role in ASSIGNED_ONLY and PROJECT_KINDS & set(kinds):
        cases.append("same_park")
    if len([k for k in entry.params.values() if not k.startswith("=")]) >= 2:
        cases.append("mismatch")
    if entry.body_kinds():
        cases.append("body_other")
    return cases


OK = "ok"  # 2xx, 3xx, or 400/409/422 (an invalid empty form, a refused state change)
REFUSED = "refused"  # not carried out: 200 (the form again), 400, 404, 409 or 422; no 3xx/201


def expected(entry: Entry, role: str, case: str):
    """OK, REFUSED or a set of acceptable statuses."""
    allowed = role in entry.may
    kinds = set(entry.path_kinds())
    if case in ("none", "own"):
        if role in entry.hidden_from:
            return {404}
        if role in entry.override:
            return entry.override[role]
        return OK if allowed else {403}
    if case in ("other_park", "same_park"):
        if role in SEE_ALL and entry.body_in_project and entry.body_kinds():
            return {404} if allowed else {403}
        if role in SEE_ALL and not kinds & PERSONAL:
            return expected(entry, role, "own")
        return {404}
    if case == "mismatch":  # a child of another park under a parent in scope: no such record
        return {404} if allowed else {403, 404}
    if case == "body_other":
        if not allowed or role in entry.hidden_from:
            return expected(entry, role, "own")
        if role in SEE_ALL and entry.body_in_project:
            return {404}
        if role in SEE_ALL and not set(entry.body_kinds()) & PERSONAL:
            return expected(entry, role, "own")
        return {404} if entry.body_other == "404" else REFUSED
    raise AssertionError(case)


def matrix_params():
    for entry in MATRIX:
        for role in ROLES:
            for case in cases_of(entry, role):
                yield pytest.param(entry, role, case, id=f"{entry.label} | {role} | {case}")


# -- the world -----------------------------------------------------------------------------

@dataclass
class Matrix:
    app: object
    path: Path | None  # SQLite: the database file, restored from the snapshot file
    snapshot: Path | dict  # SQLite: a file; PostgreSQL: every table's rows
    sessions: dict  # role -> the session cookie right after logging in
    tokens: dict  # role -> bearer secret
    ids: dict  # kind -> {"own": id or {role: id}, "other_park": id, "same_park": id}
    secret_names: dict  # role -> strings its responses must never contain
    names: dict  # "b1", "agent_b" -> their names (the check's positive control)
    enqueued: list
    dirty: bool = True  # a request since the last restore may have written

    def fresh(self) -> None:
        """The snapshot again, unless only reads happened since it was restored."""
        if self.dirty:
            self.restore()
            self.dirty = False

    def restore(self) -> None:
        from crm.extensions import db

        if self.path is None:
            _restore_rows(self.app, self.snapshot)
            return
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()
        for suffix in ("-wal", "-shm"):
            Path(str(self.path) + suffix).unlink(missing_ok=True)
        shutil.copyfile(self.snapshot, self.path)


    def web(self, role: str):
        """A client logged in as the role, with nothing left over from an earlier test (no
        flashed messages)."""
        client = self.app.test_client()
        client.set_cookie(self.app.config["SESSION_COOKIE_NAME"], self.sessions[role])
        return client

    def id_of(self, kind: str, case: str, role: str):
        side = self.ids[kind]
        value = side.get(case, side["own"])
        return value[role] if isinstance(value, dict) else value


def _dump_rows(app) -> dict:
    """PostgreSQL: every table's rows, to put back before each request."""
    from sqlalchemy import select

    from crm.extensions import db

    with app.app_context():
        with db.engine.connect() as conn:
            return {table: [dict(r._mapping) for r in conn.execute(select(table))]
                    for table in db.metadata.sorted_tables}


def _restore_rows(app, rows: dict) -> None:
    from sqlalchemy import text

    from crm.extensions import db

    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            names = ", ".join(f'"{t.name}"' for t in rows)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            for table, values in rows.items():
                if values:
                    conn.execute(table.insert(), values)
                if "id" in table.c and values:
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                      f"(SELECT max(id) FROM \"{table.name}\"))"))


def _tables(app):
    from crm.extensions import db

    return db.metadata.sorted_tables


def _build_extras(w):
    """Records beyond build_world: helpers, milestones, log entries, documents,
    notifications, API tokens.  Returns (ids, API secrets by username, the names each role
    must not be shown, the names of the positive control)."""
    from crm.agents.models import Assignment
    from crm.auth.models import User
    from crm.auth.services import create_token
    from crm.documents.models import GeneratedDocument
    from crm.extensions import db
    from crm.notifications.services import notify

    a1, a2, b1 = (w.projects[k] for k in ("a1", "a2", "b1"))
    w.staff["agent_b2"] = factories.staff([w.park_b], "agent", "周代办", capacity=6)
    helper_a1 = factories.assign(a1, w.staff["agent_a2"], "helper")
    helper_b1 = factories.assign(b1, w.staff["agent_b2"], "helper")
    milestones = {k: factories.milestone(w.projects[k], name=f"矩阵节点{k}") for k in ("a1", "a2", "b1")}
    from crm.portal.services import issue as issue_link

    for project in (a1, a2, b1):  # the enterprise links whose QR codes the staff print
        issue_link(project, actor_id=None, today=dt.date(2026, 9, 1))
    from crm.milestones.models import MilestoneDependency

    dependencies = {}
    for k in ("a1", "a2", "b1"):
        before = factories.milestone(w.projects[k], name=f"矩阵前置{k}")
        dependencies[k] = MilestoneDependency(project_id=w.projects[k].id,
                                              milestone_id=milestones[k].id, requires_id=before.id)
        db.session.add(dependencies[k])
    db.session.flush()
    from crm.milestones.models import JointHandling

    from crm.portal.models import SatisfactionCase

    cases = {}
    for k in ("a1", "a2", "b1"):
        cases[k] = SatisfactionCase(project_id=w.projects[k].id, park_id=w.projects[k].park_id,
                                    kind="complaint", text=f"矩阵投诉{k}", status="open",
                                    due_on=dt.date(2026, 9, 22))
        db.session.add(cases[k])
    from crm.portal.models import CallbackItem

    callback_items = {}
    for k in ("a1", "b1"):
        done = factories.milestone(w.projects[k], name=f"矩阵回访{k}", status="done",
                                   completed_on=dt.date(2026, 8, 20))
        db.session.flush()
        callback_items[k] = CallbackItem(month="2026-08", milestone_id=done.id,
                                         project_id=w.projects[k].id,
                                         park_id=w.projects[k].park_id)
        db.session.add(callback_items[k])
    from openpyxl import Workbook

    from crm.imports.models import ImportBatch

    book = Workbook()
    book.active.append(["项目名称"])
    book.active.append(["矩阵导入"])
    buffer = io.BytesIO()
    book.save(buffer)
    batches = {}
    for k, manager in (("a", "manager_a"), ("b", "manager_b")):
        batches[k] = ImportBatch(
            kind="projects", mode="upsert", park_id=getattr(w, f"park_{k}").id,
            filename="matrix.xlsx", content=buffer.getvalue(), headers={"projects": ["项目名称"]},
            mapping={"projects": {"name": "项目名称"}}, status="checked", rows_total=1,
            counts={"new": 0, "update": 0, "unchanged": 0, "error": 1},
            errors=[{"sheet": "Sheet", "row": 2, "column": "项目名称", "message": "矩阵错误"}],
            created_by_id=w.users[manager].id)
        db.session.add(batches[k])
    joints = {}
    for k in ("a1", "a2", "b1"):
        joints[k] = JointHandling(project_id=w.projects[k].id, name=f"矩阵联审{k}")
        db.session.add(joints[k])
        db.session.flush()
        for name in ("甲", "乙"):
            factories.milestone(w.projects[k], name=f"矩阵联审{name}{k}").joint_id = joints[k].id
    db.session.flush()
    users = w.users
    blockers = {
        "a1": factories.log(a1, kind="blocker", text="矩阵堵点a1", author=users["agent_a"]),
        "a2": factories.log(a2, kind="blocker", text="矩阵堵点a2", author=users["manager_a"]),
        "b1": factories.log(b1, kind="blocker", text="矩阵堵点b1", author=users["agent_b"]),
    }
    pdf = b"%PDF-1.4\n% access matrix\n"

    def document(**kw):
        doc = GeneratedDocument(status="done", content=pdf, size=len(pdf),
                                sha256=hashlib.sha256(pdf).hexdigest(), filename="matrix.pdf", **kw)
        db.session.add(doc)
        db.session.flush()
        return doc

    orders = {k: document(kind="service_order", project_id=w.projects[k].id, doc_version=1,
                          order_number=f"FW-2026-{w.projects[k].id:06d}") for k in ("a1", "a2", "b1")}
    period = {"period_start": dt.date(2025, 1, 1), "period_end": dt.date(2025, 6, 30)}
    summary_a = document(kind="summary", park_id=w.park_a.id, **period)
    summary_b = document(kind="summary", park_id=w.park_b.id, **period)
    city_summary = document(kind="summary", park_id=None, **period)

    notifications, token_ids, secrets = {}, {}, {}
    from crm.notifications.models import Notification

    for username, user in users.items():
        notify([user.id], "assigned", {"project": "矩阵通知", "role": "lead_agent"})
        notifications[username] = db.session.scalar(
            db.select(Notification.id).where(Notification.user_id == user.id)
            .order_by(Notification.id.desc()))
        token, secrets[username] = create_token(db.session.get(User, user.id), "access matrix")
        token_ids[username] = token.id
    # Attached files (a photo, so it has a thumbnail) by each project's agent, kept in the
    # database so that restoring the snapshot restores them too.
    from flask import current_app

    from crm.attachments import owners as attachment_owners
    from crm.attachments import services as attachment_services
    from tests.integration.attachments_support import image

    current_app.config["ATTACHMENT_STORAGE"] = "database"
    files = {k: attachment_services.attach(
        attachment_owners.resolve("milestone", milestones[k].id), data=image("PNG"),
        filename=f"矩阵附件{k}.png", purpose=None, actor_id=users[author].id)
        for k, author in (("a1", "agent_a"), ("a2", "manager_a"), ("b1", "agent_b"))}
    lead_a1 = db.session.scalar(db.select(Assignment.id).where(
        Assignment.project_id == a1.id, Assignment.role == "lead_agent",
        Assignment.ended_at.is_(None)))
    db.session.commit()

    def per_role(values):
        return {role: values[username] for role, username in ROLES.items()}

    ids = {
        "project": {"own": a1.id, "other_park": b1.id, "same_park": a2.id},
        "milestone": {k2: milestones[k].id for k2, k in
                      (("own", "a1"), ("other_park", "b1"), ("same_park", "a2"))},
        "dependency": {k2: dependencies[k].id for k2, k in
                       (("own", "a1"), ("other_park", "b1"), ("same_park", "a2"))},
        "callback": {"own": callback_items["a1"].id, "other_park": callback_items["b1"].id},
        "batch": {"own": batches["a"].id, "other_park": batches["b"].id},
        "case": {k2: cases[k].id for k2, k in
                 (("own", "a1"), ("other_park", "b1"), ("same_park", "a2"))},
        "joint": {k2: joints[k].id for k2, k in
                  (("own", "a1"), ("other_park", "b1"), ("same_park", "a2"))},
        "log": {k2: blockers[k].id for k2, k in
                (("own", "a1"), ("other_park", "b1"), ("same_park", "a2"))},
        "attachment": {k2: files[k].id for k2, k in
                       (("own", "a1"), ("other_park", "b1"), ("same_park", "a2"))},
        "document": {k2: orders[k].id for k2, k in
                     (("own", "a1"), ("other_park", "b1"), ("same_park", "a2"))},
        "summary": {"own": summary_a.id, "other_park": summary_b.id},
        "city_summary": {"own": city_summary.id},
        "park": {"own": w.park_a.id, "other_park": w.park_b.id},
        # a staff member of the park (own) or of the other park
        "staff": {"own": w.staff["agent_a"].id, "other_park": w.staff["agent_b"].id},
        # someone to assign, add or hand over to
        "colleague": {"own": w.staff["agent_a2"].id, "other_park": w.staff["agent_b"].id},
        "assignment": {"own": helper_a1.id, "other_park": helper_b1.id},
        "lead_assignment": {"own": lead_a1},
        "token": {"own": per_role(token_ids), "other_park": token_ids["manager_b"]},
        "notification": {"own": per_role(notifications), "other_park": notifications["manager_b"]},
    }
    # What a scoped user must never be shown: park B, its projects and people; for
    # consultants and agents also project a2 (in their park, not theirs).
    park_b_names = [w.park_b.name, w.park_b.short_name, b1.name, b1.investor_name,
                    w.staff["consultant_b"].name, w.staff["agent_b"].name,
                    w.staff["agent_b2"].name, milestones["b1"].name, "矩阵堵点b1", "矩阵附件b1"]
    a2_names = [a2.name, a2.investor_name, milestones["a2"].name, "矩阵堵点a2", "矩阵附件a2"]
    secret_names = {role: [] for role in SEE_ALL}
    secret_names["park_manager"] = park_b_names
    for role in ASSIGNED_ONLY:
        secret_names[role] = park_b_names + a2_names
    return ids, secrets, secret_names, {"b1": b1.name, "agent_b": w.staff["agent_b"].name}


@pytest.fixture(scope="module")
def matrix(database_template, tmp_path_factory):
    from crm import queue
    from crm.extensions import db
    from crm.milestones.services.plans import seed_catalogue

    kind, template = database_template
    folder = tmp_path_factory.mktemp("access_matrix")
    if kind == "sqlite":
        path, snapshot = folder / "matrix.sqlite3", folder / "snapshot.sqlite3"
        shutil.copyfile(template, path)
        app = _create_app(base_config(f"sqlite:///{path}", folder), folder)
    else:
        path = snapshot = None
        app = _create_app(base_config(template, folder), folder)
        _restore_rows(app, {t: [] for t in _tables(app)})  # start empty
    enqueued: list = []
    patcher = pytest.MonkeyPatch()
    # Document requests hand their PDF to the queue after the commit: record, do not send.
    patcher.setattr(queue, "enqueue", lambda path_, *args, **kw: enqueued.append((path_, args)))
    with app.app_context():
        seed_catalogue()
        db.session.commit()
        world = factories.build_world()
        ids, secrets, secret_names, names = _build_extras(world)
    sessions = {}
    for role, username in ROLES.items():
        client = app.test_client()
        login(client, username)  # the login session is in the snapshot
        sessions[role] = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if path is None:
        snapshot = _dump_rows(app)
    else:
        with closing(sqlite3.connect(path)) as conn:  # everything in the main file
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copyfile(path, snapshot)
    yield Matrix(app, path, snapshot, sessions, {r: secrets[u] for r, u in ROLES.items()}, ids,
                 secret_names, names, enqueued)
    patcher.undo()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# -- requests ------------------------------------------------------------------------------

def build_request(m: Matrix, entry: Entry, role: str, case: str):
    """(url, query string, body) for one case."""
    path_case = {"other_park": "other_park", "same_park": "same_park"}.get(case, "own")

    def ref(kind, which):
        return m.id_of(kind, which, role)

    url = entry.rule
    records = [name for name, kind in entry.params.items() if not kind.startswith("=")]
    for name, kind in entry.params.items():
        if kind.startswith("="):
            value = kind[1:]
        elif case == "mismatch" and name == records[-1]:
            value = ref(kind, "other_park")  # the child from the other park
        else:
            value = ref(kind, path_case)
        url = url.replace(f"<int:{name}>", str(value)).replace(f"<{name}>", str(value))
    assert "<" not in url, f"{entry.label}: a URL parameter has no kind in the table ({url})"
    query = {name: kind[1:] if kind.startswith("=") else ref(kind, path_case)
             for name, kind in entry.query.items()}
    body_case = "other_park" if case == "body_other" else "own"
    body = {}
    for name, value in entry.body.items():
        if "{" in name:
            name = name.format(**{k: ref(k, "own") for k in m.ids if "{" + k + "}" in name})
        if isinstance(value, str) and value.startswith("@"):
            value = ref(value[1:], body_case)
            value = str(value) if not entry.api or name == "scope" else value
        body[name] = value
    return url, query, body


def send(m: Matrix, entry: Entry, role: str, case: str):
    url, query, body = build_request(m, entry, role, case)
    if entry.method != "GET":
        m.dirty = True
    if entry.api:
        client = m.app.test_client()
        headers = {"Authorization": f"Bearer {m.tokens[role]}"}
        if entry.method == "GET":
            return url, client.get(url, query_string=query, headers=headers)
        return url, client.open(url, method=entry.method, query_string=query, json=body,
                                headers=headers)
    client = m.web(role)
    if entry.method == "GET":
        return url, client.get(url, query_string={**query, **body})
    return url, client.open(url, method=entry.method, query_string=query, data=body)


def visible_text(response) -> str:
    """The response as text a person would read (JSON unescaped, spreadsheets unpacked)."""
    kind = response.mimetype or ""
    if response.is_json:
        return json.dumps(response.get_json(silent=True), ensure_ascii=False)
    if kind.endswith("spreadsheetml.sheet"):
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(response.get_data()), read_only=True)
        return "\n".join(str(cell) for sheet in book.worksheets
                         for row in sheet.iter_rows(values_only=True) for cell in row)
    if kind == "application/pdf" or kind.startswith("image/"):  # files: no names to leak
        return ""
    return response.get_data(as_text=True)


def describe(expect) -> str:
    if expect == OK:
        return "allowed (2xx, 3xx, 400, 409 or 422)"
    if expect == REFUSED:
        return "refused, as if the id did not exist (200 form again, 400, 404, 409 or 422)"
    return " or ".join(str(s) for s in sorted(expect))


def status_matches(expect, response) -> bool:
    status = response.status_code
    if status >= 500:
        return False
    if expect == OK:
        if 300 <= status < 400 and "/login" in response.headers.get("Location", ""):
            return False  # logged out: the case did not run
        return 200 <= status < 400 or status in (400, 409, 422)
    if expect == REFUSED:
        return status in (200, 400, 404, 409, 422)
    return status in expect


# -- the tests -----------------------------------------------------------------------------

@pytest.mark.parametrize("entry,role,case", list(matrix_params()))
def test_access(matrix, entry, role, case):
    matrix.fresh()
    expect = expected(entry, role, case)
    url, response = send(matrix, entry, role, case)
    status = response.status_code
    where = f"{entry.label} as {role} ({ROLES[role]}), case {case}: {entry.method} {url}"
    assert status_matches(expect, response), (
        f"{where}: expected {describe(expect)}, got {status}"
        + (f" -> {response.headers.get('Location')}" if response.headers.get("Location") else ""))
    text = visible_text(response)
    leaked = [name for name in matrix.secret_names[role] if name in text]
    assert not leaked, f"{where} ({status}): the response names records outside the scope: {leaked}"


def test_every_route_has_an_entry(matrix):
    """A new route must say, in MATRIX, what its parameters name and who may use it."""
    table = {e.key for e in MATRIX}
    missing = []
    for rule in matrix.app.url_map.iter_rules():
        if skipped(rule):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if (method, rule.rule) not in table:
                missing.append(f"{method} {rule.rule} (endpoint {rule.endpoint})")
            else:
                for entry in MATRIX:
                    if entry.key == (method, rule.rule):
                        named = set(entry.params)
                        assert named == set(rule.arguments), (
                            f"{entry.label}: the table names parameters {sorted(named)}, the "
                            f"rule has {sorted(rule.arguments)}")
    assert not missing, (
        "routes without an entry in the access matrix (tests/integration/test_access_matrix.py "
        "MATRIX): say which record each URL parameter names and which roles may use it:\n  "
        + "\n  ".join(missing))


def test_table_has_no_stale_entries(matrix):
    rules = {(method, rule.rule) for rule in matrix.app.url_map.iter_rules()
             for method in rule.methods - {"HEAD", "OPTIONS"}}
    stale = sorted(f"{m} {r}" for m, r in {e.key for e in MATRIX} - rules)
    assert not stale, "entries of the access matrix for routes that no longer exist:\n  " + \
        "\n  ".join(stale)


def test_the_world_is_what_the_matrix_assumes(matrix):
    """Sanity: each role sees project a1 and park A; scoped roles do not see b1."""
    m = matrix
    m.restore()
    for role in ROLES:
        client = m.web(role)
        assert client.get(f"/projects/{m.ids['project']['own']}").status_code == 200, role
        expected_b1 = 200 if role in SEE_ALL else 404
        assert client.get(f"/projects/{m.ids['project']['other_park']}").status_code == expected_b1, role


def test_the_leak_check_can_see_the_names(matrix):
    """Positive control: the names the scoped roles must not be shown are found where an admin
    is shown them (HTML, JSON with escaped characters, a spreadsheet)."""
    m = matrix
    m.restore()
    admin = m.web("admin")
    for url in ("/projects/", "/projects/export.xlsx"):
        assert m.names["b1"] in visible_text(admin.get(url)), url
    staff = m.app.test_client().get("/api/v1/staff",
                                    headers={"Authorization": f"Bearer {m.tokens['admin']}"})
    assert m.names["agent_b"] in visible_text(staff)
    assert m.names["agent_b"] not in staff.get_data(as_text=True)  # escaped in the raw JSON
