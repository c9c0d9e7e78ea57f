"""Bad input over every HTML form and every JSON body: no request answers 500, the API answers
every refusal in its error shape, and a refused request writes nothing.

The write routes come from ``app.url_map`` (every POST and PATCH outside /admin, /login,
/logout and /language); a test fails when a route has no case here, so a new form or endpoint
cannot escape.  Field names come from the forms and schemas themselves (the WTForms classes,
instantiated; the marshmallow schemas flask-smorest registered for each endpoint) plus the few
fields a view reads from ``request.form`` directly.

Each field of each route gets hostile values one at a time, the other fields keeping valid
values (so the hostile one reaches the deepest check it can): empty and missing values, NUL
bytes, bytes that are no UTF-8 (a lone surrogate), 100,000 characters, markup, 4,400-digit
numbers, NaN / sNaN / Infinity / -0 / 1e999, ids beyond 32 and 64 bits, negative ids,
fractions where ids belong, impossible and far dates; for JSON bodies also NaN literals, lone
surrogates, 5,000-deep nesting and numbers too long to parse.  Whole bodies are sent empty,
malformed, oversized and with the wrong content type.  Hypothesis adds random values per field
(few examples: the run stays short).  The JSON API with valid data is fuzzed by
tests/integration/api/test_schemathesis.py; this file covers the hostile values it does not
generate, every HTML form, and the acting roles.

Per request: the status is below 500 (an exception escaping the app counts as 500); an API
answer of 4xx is ``{"error": {"code", "message", "fields"}}``; and when the request was
refused (4xx, or a form page shown again with its errors) the row count of every table
(audit_events and login_sessions aside) is unchanged.  Every finding of a route is collected
and the test of that route fails listing all of them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
import traceback
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text, true

from tests import factories
from tests.conftest import DB_KIND, login
from tests.integration.api.conftest import tokens  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[2]

SKIPPED_ENDPOINTS = {"auth.login", "auth.logout", "auth.set_language"}
SKIPPED_PREFIXES = ("/admin",)
IGNORED_TABLES = {"audit_events", "login_sessions"}
WRITE_METHODS = {"POST", "PATCH", "PUT", "DELETE"}

HYPOTHESIS_EXAMPLES = int(os.environ.get("CRM_FUZZ_EXAMPLES", "3"))
MISSING = object()  # the field is left out of the body


# -- the scene: the world plus what the write routes act on -------------------------------------

MILESTONE_STATUS = {"start": "pending", "pause": "running", "resume": "paused",
                    "complete": "running", "waive": "running", "reopen": "done",
                    "extend": "running"}


@dataclass
class Scene:
    """Ids of the world and the scene, and providers of a record in the state a route needs:
    when a hostile value was accepted and used it up (a milestone started, a blocker closed,
    an entry deleted), the next request gets a fresh one, so every value meets the same checks."""

    app: object
    ids: dict
    today: dt.date

    def __getitem__(self, key):
        return self.ids[key]

    def _first_or_new(self, statement, make) -> int:
        from crm.extensions import db

        with self.app.test_request_context():
            found = db.session.scalar(statement.limit(1))
            if found is None:
                found = make().id
                db.session.commit()
            return found

    def version(self, model: str, record_id: int) -> str:
        from crm.extensions import db
        from crm.milestones.models import Milestone
        from crm.projects.models import Project

        cls = {"project": Project, "milestone": Milestone}[model]
        with self.app.app_context():
            return str(db.session.get(cls, record_id).version)

    def milestone(self, action: str) -> int:
        """A milestone of a1 in the state ``action`` applies to."""
        from sqlalchemy import select

        from crm.extensions import db
        from crm.milestones.models import Milestone
        from crm.milestones.services import lifecycle
        from crm.projects.models import Project

        status = MILESTONE_STATUS[action]

        def make():
            project = db.session.get(Project, self.ids["project_a1"])
            m = factories.milestone(project, f"测试{action}", stage="land", required=False)
            if status != "pending":
                lifecycle.start(m, accepted_on=self.today - dt.timedelta(days=10), today=self.today, parallel_reason="测试：并联办理")
            if status == "paused":
                lifecycle.pause(m, paused_on=self.today, reason_code="supplement", today=self.today)
            if status == "done":
                lifecycle.complete(m, completed_on=self.today - dt.timedelta(days=9),
                                   today=self.today)
            return m

        unextended = Milestone.extension_workdays.is_(None) if action == "extend" else true()
        return self._first_or_new(select(Milestone.id).where(
            Milestone.project_id == self.ids["project_a1"], Milestone.status == status,
            Milestone.name.startswith("测试"), unextended).order_by(Milestone.id), make)

    def dead_delivery(self) -> int:
        """A WeCom message of park A given up after its tries (the delivery log resends it)."""
        from sqlalchemy import select

        from crm.extensions import db
        from crm.notifications.models import Delivery

        def make():
            item = Delivery(key=f"wecom-bad-input-{dt.datetime.now().timestamp()}",
                            channel="wecom", park_id=self.ids["park_a"], kind="robot_test",
                            params={"park": "测试"}, status="dead", attempts=8)
            db.session.add(item)
            db.session.flush()
            return item

        return self._first_or_new(select(Delivery.id).where(Delivery.status == "dead")
                                  .order_by(Delivery.id), make)

    def enterprise_token(self) -> str:
        """The token of a1's enterprise link, with a service order waiting for confirmation
        (a new version when the last one was confirmed)."""
        from crm.documents.models import GeneratedDocument
        from crm.extensions import db
        from crm.portal import queries, services
        from crm.projects.models import Project

        with self.app.test_request_context():
            project = db.session.get(Project, self.ids["project_a1"])
            link = (services.active_link(project.id)  # (another case may have revoked it)
                    or services.issue(project, actor_id=None, today=self.today)[0])
            latest = queries.latest_order(project.id)
            if latest is None or latest.confirmed_by is not None:
                db.session.add(GeneratedDocument(
                    kind="service_order", status="done", project_id=project.id,
                    park_id=project.park_id, order_number="FW-2026-000001",
                    doc_version=(latest.version + 1) if latest else 1, content=b"%PDF-1.4"))
            db.session.commit()
            self.ids["enterprise_order"] = queries.latest_order(project.id).document_id
            return link.token(services.secret())

    def dependency_pair(self) -> tuple[int, int]:
        """Two fresh pending milestones of a1 (the second to wait for the first)."""
        from crm.extensions import db
        from crm.projects.models import Project

        with self.app.test_request_context():
            project = db.session.get(Project, self.ids["project_a1"])
            first = factories.milestone(project, "依赖测试甲", stage="land", required=False)
            second = factories.milestone(project, "依赖测试乙", stage="land", required=False)
            db.session.commit()
            return first.id, second.id

    def dependency(self) -> int:
        """A dependency between two milestones of a1."""
        from sqlalchemy import select

        from crm.extensions import db
        from crm.milestones.models import MilestoneDependency

        def make():
            first, second = self.dependency_pair()
            row = MilestoneDependency(project_id=self.ids["project_a1"], milestone_id=second,
                                      requires_id=first)
            db.session.add(row)
            db.session.flush()
            return row

        return self._first_or_new(select(MilestoneDependency.id).where(
            MilestoneDependency.project_id == self.ids["project_a1"])
            .order_by(MilestoneDependency.id), make)

    def joint_pair(self) -> tuple[str, str]:
        """Two fresh pending milestones of a1 to handle jointly."""
        return tuple(map(str, self.dependency_pair()))

    def _joint(self, *, started: bool):
        from crm.extensions import db
        from crm.milestones.queries import work_calendar
        from crm.milestones.services import lifecycle
        from crm.milestones.services.plan_changes import create_joint
        from crm.projects.models import Project

        project = db.session.get(Project, self.ids["project_a1"])
        members = [factories.milestone(project, f"联审测试{i}", stage="land", required=False)
                   for i in (1, 2)]
        db.session.flush()
        if started:
            lifecycle.start(members[0], accepted_on=self.today, today=self.today)
        return create_joint(project.id, members, name="联审测试", reason=None, today=self.today,
                            calendar=work_calendar())

    def joint(self) -> int:
        """A joint handling of a1."""
        from sqlalchemy import select

        from crm.milestones.models import JointHandling

        return self._first_or_new(select(JointHandling.id).where(
            JointHandling.project_id == self.ids["project_a1"]).order_by(JointHandling.id),
            lambda: self._joint(started=False))

    def open_joint(self) -> int:
        """A joint handling of a1 whose clock runs, not extended yet."""
        from sqlalchemy import select

        from crm.milestones.models import JointHandling, Milestone

        return self._first_or_new(select(JointHandling.id).where(
            JointHandling.project_id == self.ids["project_a1"],
            JointHandling.extension_workdays.is_(None),
            select(Milestone.id).where(Milestone.joint_id == JointHandling.id,
                                       Milestone.accepted_on.is_not(None)).exists())
            .order_by(JointHandling.id), lambda: self._joint(started=True))

    def case(self, status: str, classification: str | None = None) -> int:
        """A bad-review case of a1 in ``status`` (and ``classification``)."""
        from sqlalchemy import select

        from crm.extensions import db
        from crm.portal.models import SatisfactionCase

        def make():
            case = SatisfactionCase(project_id=self.ids["project_a1"], park_id=self.ids["park_a"],
                                    kind="complaint", text="测试投诉", status=status,
                                    classification=classification, due_on=self.today)
            db.session.add(case)
            db.session.flush()
            return case

        return self._first_or_new(select(SatisfactionCase.id).where(
            SatisfactionCase.project_id == self.ids["project_a1"],
            SatisfactionCase.status == status,
            SatisfactionCase.classification == classification if classification
            else SatisfactionCase.classification.is_(None)).order_by(SatisfactionCase.id), make)

    def case_version(self, case_id: int) -> str:
        from crm.extensions import db
        from crm.portal.models import SatisfactionCase

        with self.app.app_context():
            return str(db.session.get(SatisfactionCase, case_id).version)

    def import_batch(self) -> int:
        """An uploaded ledger of park A (one project row), by manager_a."""
        import io

        from openpyxl import Workbook
        from sqlalchemy import select

        from crm.extensions import db
        from crm.imports.models import ImportBatch

        def make():
            book = Workbook()
            book.active.append(["项目名称", "投资主体", "总投资（万元）"])
            book.active.append(["导入测试项目", "测试投资有限公司", 20000])
            buffer = io.BytesIO()
            book.save(buffer)
            batch = ImportBatch(kind="projects", mode="upsert", park_id=self.ids["park_a"],
                                filename="ledger.xlsx", content=buffer.getvalue(),
                                headers={"projects": ["项目名称", "投资主体", "总投资（万元）"]},
                                mapping={"projects": {"name": "项目名称"}}, rows_total=1,
                                created_by_id=self.ids["user_manager_a"])
            db.session.add(batch)
            db.session.flush()
            return batch

        return self._first_or_new(select(ImportBatch.id).where(
            ImportBatch.park_id == self.ids["park_a"]).order_by(ImportBatch.id), make)

    def callback_item(self) -> int:
        """An item of a1 in a callback sample, its result not entered yet."""
        from sqlalchemy import select

        from crm.extensions import db
        from crm.portal.models import CallbackItem
        from crm.projects.models import Project

        def make():
            project = db.session.get(Project, self.ids["project_a1"])
            done = factories.milestone(project, "回访测试", stage="land", required=False,
                                       status="done", completed_on=self.today)
            db.session.flush()
            item = CallbackItem(month="2026-08", milestone_id=done.id, project_id=project.id,
                                park_id=project.park_id)
            db.session.add(item)
            db.session.flush()
            return item

        return self._first_or_new(select(CallbackItem.id).where(
            CallbackItem.project_id == self.ids["project_a1"], CallbackItem.rating_id.is_(None))
            .order_by(CallbackItem.id), make)

    def rated_milestone(self) -> str:
        """A finished milestone of a1 (the enterprise may rate it)."""
        return str(self.milestone("reopen"))

    def open_blocker(self) -> int:
        from sqlalchemy import select

        from crm.auth.models import User
        from crm.extensions import db
        from crm.projects.models import ProgressLog, Project

        return self._first_or_new(select(ProgressLog.id).where(
            ProgressLog.project_id == self.ids["project_a1"], ProgressLog.kind == "blocker",
            ProgressLog.resolved_at.is_(None)).order_by(ProgressLog.id),
            lambda: factories.log(db.session.get(Project, self.ids["project_a1"]), kind="blocker",
                                  text="缺少用地指标",
                                  author=db.session.get(User, self.ids["user_agent_a"])))

    def entry(self) -> int:
        """A visit on a1's log written by agent_a just now (editable for 24 hours)."""
        from sqlalchemy import select

        from crm.auth.models import User
        from crm.extensions import db
        from crm.projects.models import ProgressLog, Project

        return self._first_or_new(select(ProgressLog.id).where(
            ProgressLog.project_id == self.ids["project_a1"], ProgressLog.kind == "visit",
            ProgressLog.author_id == self.ids["user_agent_a"]).order_by(ProgressLog.id),
            lambda: factories.log(db.session.get(Project, self.ids["project_a1"]), kind="visit",
                                  text="走访企业",
                                  author=db.session.get(User, self.ids["user_agent_a"])))

    def helper(self) -> int:
        """An active helper assignment on a1."""
        from sqlalchemy import select

        from crm.agents.models import Assignment, Staff
        from crm.extensions import db
        from crm.projects.models import Project

        return self._first_or_new(select(Assignment.id).where(
            Assignment.project_id == self.ids["project_a1"], Assignment.role == "helper",
            Assignment.ended_at.is_(None)).order_by(Assignment.id),
            lambda: factories.assign(db.session.get(Project, self.ids["project_a1"]),
                                     self._free_agent_row(Staff, Assignment), "helper"))

    def free_agent(self) -> int:
        """An active agent of park A who holds no role on a1 (to assign or add as a helper)."""
        from crm.agents.models import Assignment, Staff

        with self.app.test_request_context():
            from crm.extensions import db

            staff = self._free_agent_row(Staff, Assignment)
            db.session.commit()
            return staff.id

    def _free_agent_row(self, Staff, Assignment):
        from sqlalchemy import select

        from crm.extensions import db
        from crm.parks.models import Park

        busy = select(Assignment.staff_id).where(
            Assignment.project_id == self.ids["project_a1"], Assignment.ended_at.is_(None))
        staff = db.session.scalar(select(Staff).where(
            Staff.kind == "agent", Staff.active.is_(True), Staff.on_leave_until.is_(None),
            Staff.parks.any(Park.id == self.ids["park_a"]), Staff.id.not_in(busy),
            Staff.name.startswith("增援")).order_by(Staff.id).limit(1))
        return staff or factories.staff([db.session.get(Park, self.ids["park_a"])], "agent",
                                        f"增援代办{next(factories._serial)}", capacity=50)

    def unattached_staff(self) -> int:
        from sqlalchemy import select

        from crm.agents.models import Staff

        return self._first_or_new(select(Staff.id).where(
            ~Staff.parks.any(), Staff.name.startswith("无园区")).order_by(Staff.id),
            lambda: factories.staff([], "agent", f"无园区人员{next(factories._serial)}"))

    def spare_staff(self) -> int:
        """A staff member of park A with no projects (to remove from the park)."""
        from sqlalchemy import select

        from crm.agents.models import Staff
        from crm.extensions import db
        from crm.parks.models import Park

        return self._first_or_new(select(Staff.id).where(
            Staff.parks.any(Park.id == self.ids["park_a"]), Staff.name.startswith("备用"))
            .order_by(Staff.id),
            lambda: factories.staff([db.session.get(Park, self.ids["park_a"])], "agent",
                                    f"备用代办{next(factories._serial)}"))

    def unassigned_project(self) -> int:
        """A project of park A nobody serves (for the unassigned queue)."""
        from sqlalchemy import select

        from crm.agents.models import Assignment
        from crm.extensions import db
        from crm.parks.models import Park
        from crm.projects.models import Project

        served = select(Assignment.project_id).where(Assignment.ended_at.is_(None))
        return self._first_or_new(select(Project.id).where(
            Project.park_id == self.ids["park_a"], Project.id.not_in(served)).order_by(Project.id),
            lambda: factories.project(db.session.get(Park, self.ids["park_a"]),
                                      f"待分配项目{next(factories._serial)}"))

    def open_round(self) -> int:
        """An open supervision round of park A (a1 owes a report in it)."""
        from sqlalchemy import select

        from crm.auth.models import User
        from crm.extensions import db
        from crm.milestones.queries import work_calendar
        from crm.supervision.models import Round
        from crm.supervision.services import rounds

        return self._first_or_new(select(Round.id).where(
            Round.park_id == self.ids["park_a"], Round.status == "open").order_by(Round.id),
            lambda: rounds.open_round(
                user=db.session.get(User, self.ids["user_manager_a"]), title="调度",
                cadence="monthly", period_start=self.today.replace(day=1),
                period_end=self.today, due_on=dt.date(2099, 1, 5), park_id=self.ids["park_a"],
                today=self.today, calendar=work_calendar()))

    def unraised_blocker(self) -> int:
        """An open blocker of a1 not yet taken to a department."""
        from sqlalchemy import select

        from crm.extensions import db
        from crm.projects.models import ProgressLog, Project
        from crm.supervision.models import Problem

        raised = select(Problem.blocker_id).where(Problem.blocker_id.is_not(None))
        return self._first_or_new(select(ProgressLog.id).where(
            ProgressLog.project_id == self.ids["project_a1"], ProgressLog.kind == "blocker",
            ProgressLog.resolved_at.is_(None), ProgressLog.id.not_in(raised))
            .order_by(ProgressLog.id),
            lambda: factories.log(db.session.get(Project, self.ids["project_a1"]),
                                  kind="blocker", text="规划条件待明确"))

    def open_problem(self) -> int:
        """An open problem of a1 with 自然资源和规划局."""
        from sqlalchemy import select

        from crm.extensions import db
        from crm.milestones.queries import work_calendar
        from crm.projects.models import ProgressLog
        from crm.supervision.models import Problem
        from crm.supervision.services import problems

        def make():
            blocker = db.session.get(ProgressLog, self.unraised_blocker())
            return problems.raise_problem(blocker, department="自然资源和规划局", actor_id=None,
                                          today=self.today, calendar=work_calendar())

        return self._first_or_new(select(Problem.id).where(
            Problem.project_id == self.ids["project_a1"], Problem.status == "open")
            .order_by(Problem.id), make)

    def attachment(self) -> int:
        """A photo attached by agent_a to a milestone of a1 (to remove)."""
        from flask import current_app
        from sqlalchemy import select

        from crm.attachments import owners, services
        from crm.attachments.models import Attachment
        from crm.extensions import db
        from tests.integration.attachments_support import image

        def make():
            current_app.config["ATTACHMENT_STORAGE"] = "database"
            return services.attach(owners.resolve("milestone", self.milestone("start")),
                                   data=image("PNG"), filename="照片.png", purpose=None,
                                   actor_id=self.ids["user_agent_a"])

        return self._first_or_new(select(Attachment.id).where(
            Attachment.uploaded_by_id == self.ids["user_agent_a"]).order_by(Attachment.id), make)

    def other_stage(self) -> str:
        """A stage a1 is not in (a manual stage change to make)."""
        from crm.extensions import db
        from crm.projects.models import Project

        with self.app.app_context():
            stage = db.session.get(Project, self.ids["project_a1"]).stage
        return "filing" if stage != "filing" else "land"


@pytest.fixture
def scene(app, world):
    """The world, with a notification and a spare API token of agent_a; the records the
    routes act on come from the Scene's providers."""
    from crm.auth.models import User
    from crm.auth.services import create_token
    from crm.extensions import db
    from crm.i18n import today as local_today
    from crm.notifications.models import Notification
    from crm.projects.models import Project

    app.config["RATELIMIT_ENABLED"] = False  # thousands of requests a minute, on purpose
    with app.test_request_context():
        today = local_today()
        a1 = db.session.get(Project, world.projects["a1"].id)
        agent = db.session.get(User, world.users["agent_a"].id)
        note = Notification(user_id=agent.id, kind="assigned", params={}, project_id=a1.id)
        db.session.add(note)
        token, _secret = create_token(agent, "to revoke")
        db.session.flush()
        lead = next(a for a in a1.assignments if a.role == "lead_agent" and a.ended_at is None)
        ids = {
            "park_a": world.park_a.id, "park_b": world.park_b.id,
            **{f"project_{k}": v.id for k, v in world.projects.items()},
            **{f"staff_{k}": v.id for k, v in world.staff.items()},
            **{f"user_{k}": v.id for k, v in world.users.items()},
            "lead": lead.id, "notification": note.id, "token": token.id,
        }
        db.session.commit()
    return Scene(app, ids, today)


# -- hostile values -------------------------------------------------------------------------------

DIGITS_4400 = "9" * 4400
LONG_TEXT = "x" * 100_000
SURROGATE_BYTES = b"\xed\xa0\x80"  # "\ud800" as a browser that does not check would send it


def _label(value) -> str:
    if value is MISSING:
        return "<missing>"
    if isinstance(value, tuple):
        return "(" + ", ".join(_label(v) for v in value) + ")"
    text_ = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    prefix = "b" if isinstance(value, bytes) else ""
    if len(text_) > 60:
        head = text_[:1]
        if text_ == head * len(text_):
            return f"{prefix}{head!r}*{len(text_)}"
        return f"{prefix}{text_[:40]!r}...({len(text_)} chars)"
    return prefix + repr(text_)


# Every form field gets these; a field of a given kind also gets the values of its kind (the
# values a kind's parser could stumble on).  Values likely to be accepted come last, so that
# the others meet the same state.
FORM_COMMON = ["a\x00b", SURROGATE_BYTES, LONG_TEXT, DIGITS_4400, ("1", "2"), " ", "", MISSING]
SCRIPT = "<script>alert(1)</script>"
FORM_BY_KIND = {
    "number": ["99999999999999999999999", "-1", "1.5", "NaN", "sNaN", "Infinity", "-Infinity",
               "-0", "1e999", "1e-999999999", "2147483648", "\u00b2", "\u0663", "0x10", SCRIPT,
               "0", "0.05", "1_000"],
    "date": ["0000-00-00", "9999-12-31", "2026-02-30", "0001-01-01", "2026-13-01", "1899-12-31",
             "2101-01-01", "9999-12-31T23:59:59", "NaN", "-1", "20260101", "2026-W01-1"],
    "id": ["99999999999999999999999", "-99999999999999999999999", "9223372036854775808",
           "2147483648", "-1", "0", "1.5", "NaN", "1e3", "0x10", "\u00b2", "\u0663", "None",
           SCRIPT, "auto", "keep"],
    "choice": ["99999999999999999999999", "2147483648", "-1", "0", "1.5", "NaN", "None",
               "x" * 300, SCRIPT],
    "text": [SCRIPT, "{{7*7}}", "'; DROP TABLE projects; --", "x" * 2001,
             "\U0001f600" * 60, "\u202e\u0645\u0631\u062d\u0628\u0627\ufeff", "a\r\nb\rc",
             "99999999999999999999999", "9999-12-31"],
    "bool": ["maybe", "NaN", "false", "0"],
}


def _text_values():
    return st.one_of(st.text(max_size=300), st.binary(max_size=40),
                     st.sampled_from(["\x00", LONG_TEXT[:3000], "<b>", "\u202e"]))


def _number_texts():
    return st.one_of(
        st.integers(min_value=-(2**80), max_value=2**80).map(str),
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
        st.floats().map(repr),
        st.from_regex(r"\A[-+]?\d{0,25}(\.\d{0,6})?([eE][-+]?\d{1,12})?\Z"),
    )


def _date_texts():
    return st.one_of(
        st.dates().map(dt.date.isoformat),
        st.from_regex(r"\A[-+]?\d{1,6}-\d{1,3}-\d{1,3}\Z"),
        st.datetimes().map(dt.datetime.isoformat),
    )


FORM_STRATEGIES = {
    "number": lambda: st.one_of(_number_texts(), _text_values()),
    "date": lambda: st.one_of(_date_texts(), _text_values()),
    "id": lambda: st.one_of(_number_texts(), _text_values()),
    "choice": lambda: st.one_of(_number_texts(), _text_values()),
    "text": _text_values,
    "bool": _text_values,
}


# JSON values as raw text (some are no JSON a library would write: NaN, 4,400 digits).  Every
# field gets the common ones, and those of its type.
DEEP = "[" * 5000 + "]" * 5000
JSON_COMMON = [
    DIGITS_4400, "NaN", "Infinity", "1e999", '"\\ud800"', '"\\u0000"', json.dumps(LONG_TEXT),
    DEEP, "[]", '{"a": 1}', "-1", "true", "null", '" "', '""', MISSING,
]
JSON_BY_TYPE = {
    "integer": ["99999999999999999999999", "9223372036854775808", "2147483648", "-Infinity",
                "1e-999", "-" + DIGITS_4400, '"99999999999999999999999"', '"NaN"', '"sNaN"', "-0",
                "0"],
    "number": ["99999999999999999999999", "-Infinity", "1e-999", "24.05", '"NaN"', '"sNaN"',
               '"1.5"', "-0", "0"],
    "string": ['"a\\udfffb"', json.dumps(SCRIPT), json.dumps("\u202e\ufeff"), "1.5",
               '"99999999999999999999999"', '"0000-00-00"'],
    "date": ['"0000-00-00"', '"9999-12-31"', '"2026-02-30"', '"0001-01-01"', '"2026-13-01"',
             '"sNaN"', "20260101", '"9999-12-31T23:59:59"', '"20260101"', '"2026-W01-1"'],
    "boolean": ['"maybe"', "1.5", "1e-999", "-0", "0"],
}
NOT_INTEGERS = ["1.5", "0.5", "1.0", "1e0", "true", '"1"', '"1.5"']


def _json_values():
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(), st.text(max_size=50),
        st.sampled_from(["\ud800", "\udc00x", "\x00", "9999-12-31", "2026-02-30", "0000-00-00"]),
        st.dates().map(dt.date.isoformat),
    )
    return st.recursive(scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
        max_leaves=6)


# -- the routes and their cases -------------------------------------------------------------------

def _field_kind(form_field) -> str:
    from wtforms import BooleanField, DateField, DecimalField, FloatField, IntegerField
    from wtforms import HiddenField, SelectField
    from flask_wtf.file import FileField

    if isinstance(form_field, FileField):
        return "file"
    if isinstance(form_field, BooleanField):
        return "bool"
    if isinstance(form_field, DateField):
        return "date"
    if isinstance(form_field, (IntegerField, DecimalField, FloatField)):
        return "number"
    if isinstance(form_field, HiddenField):
        return "id"
    if isinstance(form_field, SelectField):
        return "choice"
    return "text"


@dataclass(frozen=True)
class FormCase:
    """A web form: who posts it where, its form classes, valid values for every field, and
    the fields the view reads from ``request.form`` directly (name -> kind)."""

    name: str
    endpoint: str
    user: str
    path: Callable[[Scene], str]
    forms: tuple
    valid: Callable[[Scene], dict]
    raw: Callable[[Scene], dict] = lambda s: {}
    files: tuple = ()


@dataclass(frozen=True)
class JsonCase:
    name: str
    endpoint: str
    method: str
    user: str
    path: Callable[[Scene], str]
    valid: Callable[[Scene], dict] = lambda s: {}


def _alert_kinds():
    from crm.notifications.messages import CHOOSABLE

    return CHOOSABLE


def _forms(module: str, *names: str) -> tuple:
    return tuple((module, n) for n in names)


def _confirm_values(s: Scene) -> dict:
    """A valid confirmation of a1's order waiting for one (made fresh when needed)."""
    s.enterprise_token()
    return {"signer_name": "周经理", "signer_title": "项目总监", "signer_phone": "13912345678",
            "understood": "y", "document_id": str(s["enterprise_order"])}


def _today(s: Scene) -> str:
    return s.today.isoformat()


PROJECT_FIELDS = {
    "name": "南通新能源电池项目", "investor_name": "测试投资有限公司", "investor_credit_code": "",
    "investment": "20000", "industry": "new_energy", "code": "", "approval_mode": "filing",
    "eia_category": "report_form", "contact_name": "", "contact_phone": "", "signed_on": "",
    "expected_start_on": "", "description": "",
}

MILESTONE_ACTIONS = {
    "start": lambda s: {"accepted_on": _today(s)},
    "pause": lambda s: {"paused_on": _today(s), "reason_code": "supplement", "document_ref": "",
                        "note": ""},
    "resume": lambda s: {"resumed_on": _today(s)},
    "complete": lambda s: {"completed_on": _today(s), "approval_doc_no": "",
                           "issuing_department": ""},
    "waive": lambda s: {"reason": "不再需要"},
    "reopen": lambda s: {"reason": "重新办理"},
    "extend": lambda s: {"extension_workdays": "5", "extension_doc_no": "延期批复〔2026〕1号",
                         "extension_approved_on": _today(s)},
}
MILESTONE_FORMS = {"start": "StartForm", "pause": "PauseForm", "resume": "ResumeForm",
                   "complete": "CompleteForm", "waive": "ReasonForm", "reopen": "ReasonForm",
                   "extend": "ExtendForm"}

AGENTS, PROJECTS, MILESTONES = "crm.agents.forms", "crm.projects.forms", "crm.milestones.forms"

FORM_CASES = [
    FormCase("roster-add", "agents.roster_add", "manager_a",
             lambda s: f"/parks/{s['park_a']}/roster/add", _forms(AGENTS, "AddToParkForm"),
             lambda s: {"staff_id": str(s.unattached_staff())}),
    FormCase("staff-new", "agents.staff_new", "manager_a",
             lambda s: f"/parks/{s['park_a']}/roster/new", _forms(AGENTS, "StaffForm"),
             lambda s: {"name": "新代办", "kind": "agent", "phone": "13900001111",
                        "title": "代办员", "capacity": "5"}),
    FormCase("staff-edit", "agents.staff_edit", "manager_a",
             lambda s: f"/parks/{s['park_a']}/staff/{s['staff_agent_a2']}",
             _forms(AGENTS, "StaffEditForm"),
             lambda s: {"capacity": "6", "on_leave_until": "", "active": "y",
                        "phone": "13900002222", "title": ""}),
    FormCase("staff-remove", "agents.staff_remove", "manager_a",
             lambda s: f"/parks/{s['park_a']}/staff/{s.spare_staff()}/remove",
             _forms(AGENTS, "ActionForm"), lambda s: {}),
    FormCase("handover", "agents.handover", "manager_a",
             lambda s: f"/parks/{s['park_a']}/staff/{s['staff_agent_a']}/handover",
             _forms(AGENTS, "HandoverForm"),
             lambda s: {"reason": "调岗", "handover_note": "见交接单", f"choice_{s['lead']}": "auto"},
             raw=lambda s: {f"choice_{s['lead']}": "id"}),
    FormCase("unassigned-auto", "agents.unassigned_auto", "manager_a",
             lambda s: f"/parks/{s['park_a']}/unassigned/auto", _forms(AGENTS, "ActionForm"),
             lambda s: {"project_id": str(s.unassigned_project())},
             raw=lambda s: {"project_id": "id"}),
    FormCase("team-assign", "agents.team_assign", "manager_a",
             lambda s: f"/projects/{s['project_a1']}/team/assign", _forms(AGENTS, "AssignForm"),
             lambda s: {"assign-role": "lead_agent", "assign-staff_id": str(s.free_agent()),
                        "assign-reason": "调整分工", "assign-handover_note": "见交接单"}),
    FormCase("team-helper", "agents.team_add_helper", "manager_a",
             lambda s: f"/projects/{s['project_a1']}/team/helpers", _forms(AGENTS, "HelperForm"),
             lambda s: {"helper-staff_id": str(s.free_agent()), "helper-reason": "协助"}),
    FormCase("team-end-helper", "agents.team_end_helper", "manager_a",
             lambda s: f"/projects/{s['project_a1']}/team/helpers/end",
             _forms(AGENTS, "EndHelperForm"), None),  # valid values from the form's prefix
    FormCase("team-auto", "agents.team_auto", "manager_a",
             lambda s: f"/projects/{s['project_a2']}/team/auto", _forms(AGENTS, "ActionForm"),
             lambda s: {}),
    FormCase("profile", "auth.profile", "agent_a", lambda s: "/profile",
             _forms("crm.auth.forms", "ChangePasswordForm"),
             lambda s: {"current_password": factories.PASSWORD,
                        "new_password": "violet-ledger-canal-17",
                        "confirm": "violet-ledger-canal-17"}),
    FormCase("alert-settings", "notifications.preferences", "agent_a",
             lambda s: "/notifications/settings",
             _forms("crm.notifications.forms", "AlertPreferencesForm"),
             lambda s: {"email": "agent.a@nantong.example.cn", **{
                 f"mode_{kind}": "digest" for kind in _alert_kinds()}}),
    FormCase("park-robot", "notifications.park_robot", "manager_a",
             lambda s: f"/notifications/parks/{s['park_a']}/robot",
             _forms("crm.notifications.forms", "ParkRobotForm"),
             lambda s: {"url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=0a1b2c3d-4e5f",
                        "kinds": "blocker_opened"}),
    FormCase("park-robot-test", "notifications.test_robot", "manager_a",
             lambda s: f"/notifications/parks/{s['park_a']}/robot/test",
             _forms("crm.notifications.forms", "PostForm"), lambda s: {}),
    FormCase("park-robot-remove", "notifications.remove_robot", "manager_a",
             lambda s: f"/notifications/parks/{s['park_a']}/robot/remove",
             _forms("crm.notifications.forms", "PostForm"), lambda s: {}),
    FormCase("delivery-resend", "notifications.resend", "admin",
             lambda s: f"/notifications/deliveries/{s.dead_delivery()}/resend",
             _forms("crm.notifications.forms", "PostForm"), lambda s: {}),
    FormCase("calendar-rotate", "auth.rotate_calendar", "agent_a", lambda s: "/profile/calendar",
             _forms("crm.auth.forms", "CalendarForm"), lambda s: {}),
    FormCase("token-create", "auth.create_token", "agent_a", lambda s: "/profile/tokens",
             _forms("crm.auth.forms", "TokenForm"), lambda s: {"name": "周报脚本"}),
    FormCase("token-revoke", "auth.revoke_token", "agent_a",
             lambda s: f"/profile/tokens/{s['token']}/revoke", (), lambda s: {}),
    FormCase("city-refresh", "dashboard.refresh_city", "leader", lambda s: "/dashboard/city/refresh",
             (), lambda s: {}),
    FormCase("service-order", "documents.request_service_order", "agent_a",
             lambda s: f"/documents/service-orders/{s['project_a1']}", (), lambda s: {}),
    FormCase("enterprise-link", "portal.issue", "agent_a",
             lambda s: f"/projects/{s['project_a1']}/enterprise-link",
             _forms("crm.portal.forms", "LinkForm"), lambda s: {"expires_on": "2027-06-30"}),
    FormCase("enterprise-link-revoke", "portal.revoke", "agent_a",
             lambda s: f"/projects/{s['project_a1']}/enterprise-link/revoke", (), lambda s: {}),
    FormCase("order-confirm", "portal.confirm", "agent_a",
             lambda s: f"/e/{s.enterprise_token()}/confirm", _forms("crm.portal.forms", "ConfirmForm"),
             _confirm_values),
    FormCase("enterprise-rate", "portal.rate", "agent_a",
             lambda s: f"/e/{s.enterprise_token()}/rate", _forms("crm.portal.forms", "RatingForm"),
             lambda s: {"target": s.rated_milestone(), "openness": "5", "standards": "5",
                        "convenience": "4", "courtesy": "5", "discipline": "5",
                        "comment": "服务周到"}),
    FormCase("callback-result", "portal.callback_result", "manager_a",
             lambda s: f"/callbacks/items/{s.callback_item()}",
             _forms("crm.portal.forms", "CallbackForm"),
             lambda s: {"openness": "5", "standards": "4", "convenience": "5", "courtesy": "5",
                        "discipline": "5", "comment": "电话回访满意"}),
    FormCase("enterprise-complain", "portal.complain", "agent_a",
             lambda s: f"/e/{s.enterprise_token()}/complain",
             _forms("crm.portal.forms", "ComplaintForm"),
             lambda s: {"text": "窗口排队太久", "contact_name": "张经理",
                        "contact_phone": "13800000000"}),
    *[FormCase(f"case-{step}", "portal.case_step", "manager_a",
               lambda s, st=step, a=args: (f"/projects/{s['project_a1']}/cases/"
                                           f"{s.case(*a)}/{st}"),
               _forms("crm.portal.forms", form), lambda s, a=args, v=values: {
                   "version": s.case_version(s.case(*a)), **v(s)})
      for step, args, form, values in (
          ("classify", ("open",), "ClassifyForm", lambda s: {"classification": "simple"}),
          ("rectify", ("classified", "simple"), "RectifyForm",
           lambda s: {"rectification": "当天补办", "rectified_on": _today(s)}),
          ("accept", ("classified", "complex"), "AcceptForm",
           lambda s: {"panel_members": "王科长；李代表；赵监督员", "rectification": "已整改",
                      "rectified_on": _today(s)}),
          ("close", ("rectified",), "CloseForm", lambda s: {"close_note": "企业电话确认满意"}))],
    FormCase("round-open", "supervision.new_round", "manager_a", lambda s: "/rounds/new",
             _forms("crm.supervision.forms", "RoundForm"),
             lambda s: {"title": "调度", "cadence": "monthly", "park_id": str(s["park_a"]),
                        "period_start": "2026-11-01", "period_end": "2026-11-30",
                        "due_on": "2099-01-05"}),
    FormCase("round-report", "supervision.report", "agent_a",
             lambda s: f"/rounds/{s.open_round()}/projects/{s['project_a1']}",
             _forms("crm.supervision.forms", "ReportForm"),
             lambda s: {"progress": "完成材料报送", "stage_reached": "land",
                        "investment_completed": "100"}),
    FormCase("round-enterprise-part", "supervision.enterprise_part", "agent_a",
             lambda s: f"/e/{s.enterprise_token()}/rounds/{s.open_round()}",
             _forms("crm.supervision.forms", "EnterprisePartForm"),
             lambda s: {"progress": "厂房封顶", "contact_name": "王经理",
                        "investment_completed": "100"}),
    FormCase("round-close", "supervision.close_round", "manager_a",
             lambda s: f"/rounds/{s.open_round()}/close",
             _forms("crm.supervision.forms", "CloseRoundForm"), lambda s: {}),
    FormCase("problem-raise", "supervision.raise_problem", "manager_a",
             lambda s: f"/logs/{s.unraised_blocker()}/raise",
             _forms("crm.supervision.forms", "RaiseProblemForm"),
             lambda s: {"department": "自然资源和规划局", "level": "park"}),
    FormCase("problem-resolve", "supervision.resolve", "manager_a",
             lambda s: f"/problems/{s.open_problem()}/resolve",
             _forms("crm.supervision.forms", "ResolveProblemForm"),
             lambda s: {"decision": "同意调剂指标"}),
    FormCase("problem-edit", "supervision.edit_problem", "manager_a",
             lambda s: f"/problems/{s.open_problem()}/edit",
             _forms("crm.supervision.forms", "ProblemEditForm"),
             lambda s: {"department": "生态环境局", "due_on": "2099-01-05"}),
    FormCase("meeting-new", "supervision.new_meeting", "manager_a", lambda s: "/meetings/new",
             _forms("crm.supervision.forms", "MeetingForm"),
             lambda s: {"park_id": str(s["park_a"]), "held_on": "2026-11-02", "title": "协调会",
                        "attendees": "各部门", "decisions": "议定事项"}),
    FormCase("investment-plan", "supervision.set_plan", "manager_a",
             lambda s: f"/projects/{s['project_a1']}/investment-plan",
             _forms("crm.supervision.forms", "InvestmentPlanForm"),
             lambda s: {"year": "2026", "planned": "100"}),
    FormCase("summary", "documents.request_summary", "manager_a", lambda s: "/documents/summaries",
             _forms("crm.documents.forms", "SummaryForm"),
             lambda s: {"scope": str(s["park_a"]), "start": "2025-01-01", "end": "2025-06-30"}),
    FormCase("import-upload", "imports.upload", "manager_a", lambda s: "/imports",
             _forms("crm.imports.forms", "UploadForm"),
             lambda s: {"kind": "projects", "mode": "upsert", "park": str(s["park_a"]),
                        "saved_mapping": ""}, files=("file",)),
    FormCase("import-check", "imports.check", "manager_a",
             lambda s: f"/imports/{s.import_batch()}/check",
             _forms("crm.imports.forms", "MappingForm"),
             lambda s: {"save_as": "", "projects.name": "项目名称",
                        "projects.investor_name": "投资主体"},
             raw=lambda s: {"projects.name": "text", "projects.investor_name": "text"}),
    *[FormCase(f"import-{step}", f"imports.{endpoint}", "manager_a",
               lambda s, st=step: f"/imports/{s.import_batch()}/{st}",
               _forms("crm.imports.forms", "ActionForm"), lambda s: {})
      for step, endpoint in (("commit", "commit"), ("revert", "undo"))],
    FormCase("calendar-import", "milestones.calendar_import", "admin",
             lambda s: "/milestones/calendar/import", _forms(MILESTONES, "ScheduleImportForm"),
             lambda s: {"year": "2030"}, files=("file",)),
    *[FormCase(f"milestone-{action}", "milestones.act", "manager_a",
               lambda s, a=action: f"/projects/{s['project_a1']}/milestones/{s.milestone(a)}/{a}",
               _forms(MILESTONES, MILESTONE_FORMS[action]),
               lambda s, a=action: {"version": s.version("milestone", s.milestone(a)),
                                    **MILESTONE_ACTIONS[a](s)})
      for action in MILESTONE_ACTIONS],
    FormCase("plan-dependency", "milestones.dependencies", "manager_a",
             lambda s: f"/projects/{s['project_a1']}/plan/dependencies",
             _forms(MILESTONES, "DependencyForm"),
             lambda s: dict(zip(("requires_id", "milestone_id"), map(str, s.dependency_pair())),
                            reason="先办甲")),
    FormCase("plan-dependency-remove", "milestones.remove_dependency", "manager_a",
             lambda s: f"/projects/{s['project_a1']}/plan/dependencies/{s.dependency()}/remove",
             (), lambda s: {"remove-reason": "政策调整"}, raw=lambda s: {"remove-reason": "text"}),
    FormCase("plan-joint", "milestones.joint", "manager_a",
             lambda s: f"/projects/{s['project_a1']}/plan/joint", _forms(MILESTONES, "JointForm"),
             lambda s: {"name": "施工图联合审查", "milestone_ids": s.joint_pair(),
                        "reason": "多图联审"}),
    FormCase("plan-joint-extend", "milestones.extend_joint", "manager_a",
             lambda s: f"/projects/{s['project_a1']}/plan/joint/{s.open_joint()}/extend",
             _forms(MILESTONES, "ExtendForm"),
             lambda s: {"version": "1", "extension_workdays": "15",
                        "extension_doc_no": "通政延〔2026〕1号", "extension_approved_on": _today(s)}),
    FormCase("plan-joint-remove", "milestones.remove_joint", "manager_a",
             lambda s: f"/projects/{s['project_a1']}/plan/joint/{s.joint()}/remove",
             (), lambda s: {"remove-reason": "不再联合办理"}, raw=lambda s: {"remove-reason": "text"}),
    FormCase("milestone-new", "milestones.new", "manager_a",
             lambda s: f"/projects/{s['project_a1']}/milestones/new",
             _forms(MILESTONES, "CustomMilestoneForm"),
             lambda s: {"name": "消防审验", "department": "住建局", "stage": "land",
                        "limit_value": "10", "limit_unit": "working", "statutory_value": "20",
                        "statutory_unit": "working", "required": "y"}),
    FormCase("notification-read", "notifications.mark_read", "agent_a",
             lambda s: "/notifications/read", (),
             lambda s: {"id": str(s["notification"]), "next": "/notifications/"},
             raw=lambda s: {"id": "id", "next": "text"}),
    FormCase("project-edit", "projects.edit", "manager_a",
             lambda s: f"/projects/{s['project_a1']}/edit", _forms(PROJECTS, "ProjectForm"),
             lambda s: {**PROJECT_FIELDS, "status": "active",
                        "version": s.version("project", s["project_a1"])}),
    FormCase("project-log", "projects.add_project_log", "agent_a",
             lambda s: f"/projects/{s['project_a1']}/logs", _forms(PROJECTS, "LogForm"),
             lambda s: {"kind": "visit", "milestone": "", "resolves": "",
                        "happened_on": _today(s), "hours": "1.5", "text": "走访企业"}),
    FormCase("project-stage", "projects.change_stage", "manager_a",
             lambda s: f"/projects/{s['project_a1']}/stage", _forms(PROJECTS, "StageForm"),
             lambda s: {"stage": s.other_stage(), "reason": "手工调整",
                        "version": s.version("project", s["project_a1"])}),
    FormCase("quick-log", "projects.add_log", "agent_a", lambda s: "/projects/logs",
             _forms(PROJECTS, "LogForm"),
             lambda s: {"project": str(s["project_a1"]), "kind": "visit", "milestone": "",
                        "resolves": "", "happened_on": _today(s), "hours": "1",
                        "text": "电话沟通", "next": "/projects/"},
             raw=lambda s: {"next": "text"}),
    FormCase("log-annotate", "projects.annotate", "agent_a",
             lambda s: f"/projects/logs/{s.entry()}/annotate", _forms(PROJECTS, "AnnotationForm"),
             lambda s: {"text": "补充说明"}),
    FormCase("log-close", "projects.close_blocker", "agent_a",
             lambda s: f"/projects/logs/{s.open_blocker()}/close", _forms(PROJECTS, "CloseBlockerForm"),
             lambda s: {"note": "指标已落实"}),
    FormCase("log-delete", "projects.delete_log", "admin",
             lambda s: f"/projects/logs/{s.entry()}/delete", _forms(PROJECTS, "DeleteLogForm"),
             lambda s: {"reason": "重复录入"}),
    FormCase("log-edit", "projects.edit_log", "agent_a",
             lambda s: f"/projects/logs/{s.entry()}/edit", _forms(PROJECTS, "LogEditForm"),
             lambda s: {"milestone": "", "happened_on": _today(s), "hours": "2",
                        "text": "走访企业（修改）"}),
    FormCase("attachment-upload", "attachments.upload", "agent_a",
             lambda s: f"/attachments/milestone/{s.milestone('start')}",
             _forms("crm.attachments.forms", "UploadForm"),
             lambda s: {"purpose": "approval_document"}, files=("file",)),
    FormCase("attachment-delete", "attachments.delete", "agent_a",
             lambda s: f"/attachments/{s.attachment()}/delete",
             _forms("crm.attachments.forms", "RemoveForm"), lambda s: {}),
    FormCase("project-new", "projects.create", "manager_a", lambda s: "/projects/new",
             _forms(PROJECTS, "ProjectForm"),
             lambda s: {**PROJECT_FIELDS, "name": "新登记项目", "park": str(s["park_a"]),
                        "stage": "negotiating"}),
]

JSON_CASES = [
    JsonCase("api-round-open", "api_supervision.Rounds", "POST", "manager_a",
             lambda s: "/api/v1/rounds",
             lambda s: {"title": "调度", "cadence": "monthly", "park_id": s["park_a"],
                        "period_start": "2026-11-01", "period_end": "2026-11-30",
                        "due_on": "2099-01-05", "stages": ["land"]}),
    JsonCase("api-round-close", "api_supervision.RoundClose", "POST", "manager_a",
             lambda s: f"/api/v1/rounds/{s.open_round()}/close"),
    JsonCase("api-round-report", "api_supervision.RoundReport", "PUT", "agent_a",
             lambda s: f"/api/v1/rounds/{s.open_round()}/reports/{s['project_a1']}",
             lambda s: {"progress": "完成材料报送", "stage_reached": "land",
                        "investment_completed": 100,
                        "problem": {"text": "用地指标", "department": "自然资源和规划局"}}),
    JsonCase("api-problem-raise", "api_supervision.RaiseProblem", "POST", "manager_a",
             lambda s: f"/api/v1/blockers/{s.unraised_blocker()}/problem",
             lambda s: {"department": "自然资源和规划局", "level": "district", "due_days": 5}),
    JsonCase("api-problem-resolve", "api_supervision.ProblemResolve", "POST", "manager_a",
             lambda s: f"/api/v1/problems/{s.open_problem()}/resolve",
             lambda s: {"decision": "同意调剂指标"}),
    JsonCase("api-meeting", "api_supervision.Meetings", "POST", "manager_a",
             lambda s: "/api/v1/meetings",
             lambda s: {"park_id": s["park_a"], "held_on": "2026-11-02", "title": "协调会",
                        "attendees": "各部门", "decisions": "议定事项",
                        "problem_ids": [s.open_problem()], "resolve": False}),
    JsonCase("api-import", "api_imports.Imports", "POST", "manager_a", lambda s: "/api/v1/imports"),
    *[JsonCase(f"api-import-{step}", f"api_imports.{view}", "POST", "manager_a",
               lambda s, st=step: f"/api/v1/imports/{s.import_batch()}/{st}")
      for step, view in (("commit", "Commit"), ("revert", "Revert"))],
    JsonCase("api-project-create", "api_projects.Projects", "POST", "manager_a",
             lambda s: "/api/v1/projects",
             lambda s: {"park_id": s["park_a"], "name": "新登记项目", "investor_name": "某投资公司",
                        "investment": 20000, "industry": "new_energy", "stage": "negotiating"}),
    JsonCase("api-project-patch", "api_projects.ProjectItem", "PATCH", "manager_a",
             lambda s: f"/api/v1/projects/{s['project_a1']}",
             lambda s: {"version": int(s.version("project", s["project_a1"])), "name": "改名项目"}),
    JsonCase("api-project-stage", "api_projects.ProjectStage", "POST", "manager_a",
             lambda s: f"/api/v1/projects/{s['project_a1']}/stage",
             lambda s: {"stage": s.other_stage(), "reason": "手工调整",
                        "version": int(s.version("project", s["project_a1"]))}),
    JsonCase("api-assign", "api_assignments.Assignments", "POST", "manager_a",
             lambda s: f"/api/v1/projects/{s['project_a1']}/assignments",
             lambda s: {"role": "lead_agent", "staff_id": s.free_agent(), "reason": "调整分工",
                        "handover_note": "见交接单"}),
    JsonCase("api-auto-assign", "api_assignments.AutoAssign", "POST", "manager_a",
             lambda s: f"/api/v1/projects/{s['project_a2']}/assignments/auto"),
    JsonCase("api-log", "api_logs.Logs", "POST", "agent_a",
             lambda s: f"/api/v1/projects/{s['project_a1']}/logs",
             lambda s: {"kind": "visit", "happened_on": _today(s), "text": "走访企业", "hours": 1.5}),
    JsonCase("api-resolve", "api_logs.ResolveBlocker", "POST", "agent_a",
             lambda s: f"/api/v1/projects/{s['project_a1']}/blockers/{s.open_blocker()}/resolve",
             lambda s: {"note": "指标已落实"}),
    *[JsonCase(f"api-milestone-{action}", f"api_milestones.{action.title()}", "POST", "manager_a",
               lambda s, a=action: (f"/api/v1/projects/{s['project_a1']}/milestones/"
                                    f"{s.milestone(a)}/{a}"),
               lambda s, a=action: {"version": int(s.version("milestone", s.milestone(a))),
                                    **{k: v for k, v in MILESTONE_ACTIONS[a](s).items() if v}})
      for action in MILESTONE_ACTIONS],
    JsonCase("api-dependency", "api_plans.Dependencies", "POST", "manager_a",
             lambda s: f"/api/v1/projects/{s['project_a1']}/dependencies",
             lambda s: dict(zip(("requires_id", "milestone_id"), s.dependency_pair()),
                            reason="先办甲")),
    JsonCase("api-dependency-remove", "api_plans.RemoveDependency", "POST", "manager_a",
             lambda s: f"/api/v1/projects/{s['project_a1']}/dependencies/{s.dependency()}/remove",
             lambda s: {"reason": "政策调整"}),
    JsonCase("api-service-order", "api_documents.ServiceOrders", "POST", "agent_a",
             lambda s: f"/api/v1/projects/{s['project_a1']}/service-orders"),
    *[JsonCase(f"api-attachment-{owner}", f"api_attachments.{view}", "POST", "agent_a",
               lambda s, o=owner: (f"/api/v1/projects/{s['project_a1']}/milestones/"
                                   f"{s.milestone('start')}/attachments" if o == "milestone" else
                                   f"/api/v1/projects/{s['project_a1']}/logs/{s.entry()}/attachments"))
      for owner, view in (("milestone", "MilestoneAttachments"), ("log", "LogAttachments"))],
    JsonCase("api-attachment-problem", "api_supervision.ProblemAttachments", "POST", "manager_a",
             lambda s: f"/api/v1/problems/{s.open_problem()}/attachments"),
    JsonCase("api-attachment-delete", "api_attachments.AttachmentItem", "DELETE", "agent_a",
             lambda s: f"/api/v1/attachments/{s.attachment()}"),
    JsonCase("api-summary", "api_documents.Summaries", "POST", "manager_a",
             lambda s: "/api/v1/summaries",
             lambda s: {"scope": str(s["park_a"]), "start": "2025-01-01", "end": "2025-06-30"}),
]


def _write_routes(app) -> set[tuple[str, str]]:
    """(endpoint, method) of every write route the fuzz must cover."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(SKIPPED_PREFIXES) or rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        for method in (rule.methods or set()) & WRITE_METHODS:
            routes.add((rule.endpoint, method))
    return routes


def test_every_write_route_has_a_case(app):
    covered = {(c.endpoint, "POST") for c in FORM_CASES} | {(c.endpoint, c.method) for c in JSON_CASES}
    missing = _write_routes(app) - covered
    assert not missing, f"write routes without a bad-input case: {sorted(missing)}"
    from crm.milestones.views import ACTION_FORMS

    assert set(ACTION_FORMS) == set(MILESTONE_ACTIONS)


# -- sending, checking, recording ------------------------------------------------------------------

@dataclass
class Finding:
    route: str
    field: str
    value: str
    status: int
    detail: str

    def __str__(self):
        return f"{self.route} [{self.field} = {self.value}] -> {self.status}: {self.detail}"


@dataclass
class Fuzz:
    """Sends requests, checks each answer, and collects what is wrong."""

    app: object
    client: object
    route: str
    api: bool = False
    headers: dict = field(default_factory=dict)
    findings: list = field(default_factory=list)
    requests: int = 0

    def __post_init__(self):
        from crm.extensions import db

        self.started = time.monotonic()
        with self.app.app_context():
            tables = [t.name for t in db.metadata.sorted_tables if t.name not in IGNORED_TABLES]
            self.engine = db.engine
        self.count_sql = text(" UNION ALL ".join(
            f"SELECT '{name}', COUNT(*) FROM \"{name}\"" for name in tables))

    def counts(self) -> dict:
        with self.engine.connect() as conn:
            return dict(conn.execute(self.count_sql).all())

    def send(self, field_name: str, value_label: str, method: str, path: str, *,
             must_refuse: int | bool = False, **kwargs):
        """One request; ``must_refuse`` True: the answer must be 4xx; a number: that status."""
        self.requests += 1
        STATS[DB_KIND] = STATS.get(DB_KIND, 0) + 1
        before = self.counts()
        headers = dict(self.headers, **kwargs.pop("headers", {}))
        try:
            response = self.client.open(path, method=method, headers=headers, **kwargs)
        except Exception as exc:  # the app raised: a 500 in production
            after = self.counts()
            wrote = _diff(before, after)
            self._found(field_name, value_label, 500,
                        _traceback_summary(exc) + (f"; and wrote {wrote}" if wrote else ""))
            return None
        status = response.status_code
        after = self.counts()
        wrote = _diff(before, after)
        body = response.get_data()
        if status >= 500:
            self._found(field_name, value_label, status, f"server error: {body[:200]!r}")
        if self.api and status >= 400:
            problem = _error_shape_problem(response)
            if problem:
                self._found(field_name, value_label, status, problem)
        refused = 400 <= status < 500 or (not self.api and status == 200 and b"is-invalid" in body)
        if refused and wrote:
            how = "answered" if status >= 400 else "showed the form with errors (200) but"
            self._found(field_name, value_label, status, f"refused ({how}) yet wrote {wrote}")
        if must_refuse is True and not 400 <= status < 500:
            self._found(field_name, value_label, status, "must be refused with 4xx")
        elif must_refuse and must_refuse is not True and status != must_refuse:
            self._found(field_name, value_label, status, f"must be refused with {must_refuse}")
        if not refused and status < 400 and wrote and field_name != "<valid>":
            ACCEPTED.append(f"{self.route} [{field_name} = {value_label}] -> {status}, wrote {wrote}")
        if field_name == "<valid>":
            BASELINES.append(f"{self.route}: valid values -> {status}"
                             + (", refused" if refused else "") + (f", wrote {wrote}" if wrote else ""))
        return response

    def _found(self, field_name, value_label, status, detail):
        self.findings.append(Finding(self.route, field_name, value_label, status, detail))

    def report(self) -> str:
        return (f"{len(self.findings)} finding(s) in {self.requests} requests:\n"
                + "\n".join(str(f) for f in self.findings))


STATS: dict = {}
FINDINGS: list = []
ACCEPTED: list = []  # hostile values a route took (and wrote): printed, for the record
BASELINES: list = []  # what each route answered to its valid values (sent last)
TIMES: list = []  # (route, requests, seconds)


def _diff(before: dict, after: dict) -> dict:
    return {name: after[name] - before[name] for name in before if after[name] != before[name]}


def _traceback_summary(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f"{os.sep}crm{os.sep}" in f.filename
            and f"{os.sep}site-packages{os.sep}" not in f.filename]
    where = " <- ".join(f"{Path(f.filename).relative_to(ROOT)}:{f.lineno} {f.name}"
                        for f in reversed(ours[-3:]))
    cause = getattr(exc, "orig", None) or exc  # the driver's error under SQLAlchemy's
    lines = str(cause).strip().splitlines()
    message = lines[0][:160] if lines else ""
    name = f"{type(exc).__module__}.{type(exc).__name__}"
    if cause is not exc:
        name += f" ({type(cause).__module__}.{type(cause).__name__})"
    return f"{name}: {message} at {where or frames[-1]}"


def _error_shape_problem(response) -> str | None:
    if not response.is_json:
        return f"not JSON: {response.content_type} {response.get_data()[:80]!r}"
    try:
        body = response.get_json()
    except Exception as exc:  # noqa: BLE001
        return f"invalid JSON: {exc}"
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(body, dict) or set(body) != {"error"} or not isinstance(error, dict):
        return f"not the error shape: {str(body)[:120]}"
    if not (isinstance(error.get("code"), str) and isinstance(error.get("message"), str)
            and error["message"] and isinstance(error.get("fields"), dict)):
        return f"error lacks code/message/fields: {str(error)[:160]}"
    return None


@pytest.fixture(scope="module", autouse=True)
def _summary(request):
    started = time.monotonic()
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(
            f"\ntest_bad_input on {DB_KIND}: {sum(STATS.values())} requests in "
            f"{time.monotonic() - started:.1f} s, {len(FINDINGS)} finding(s)")
        for finding in FINDINGS:
            reporter.write_line(f"  {finding}")
        if os.environ.get("CRM_FUZZ_VERBOSE"):
            reporter.write_line("hostile values accepted (with writes):")
            for line in ACCEPTED:
                reporter.write_line(f"  {line}")
            reporter.write_line("requests and seconds per route:")
            for route, count, seconds in TIMES:
                reporter.write_line(f"  {route}: {count} requests, {seconds:.1f} s")
            reporter.write_line("valid values:")
            for line in BASELINES:
                reporter.write_line(f"  {line}")


def _finish(fuzz: Fuzz) -> None:
    FINDINGS.extend(fuzz.findings)
    TIMES.append((fuzz.route, fuzz.requests, time.monotonic() - fuzz.started))
    assert not fuzz.findings, fuzz.report()


# -- web forms ------------------------------------------------------------------------------------

def _form_fields(app, case: FormCase, scene: Scene) -> dict[str, str]:
    """name -> kind of every field the case's forms have, and the raw ones."""
    import importlib

    fields = {}
    with app.test_request_context(method="POST"):
        for module, name in case.forms:
            form = getattr(importlib.import_module(module), name)(meta={"csrf": False})
            for form_field in form:
                fields[form_field.name] = _field_kind(form_field)
    fields.update(case.raw(scene))
    return fields


def _urlencoded(values: dict) -> bytes:
    pairs = []
    for key, value in values.items():
        if value is MISSING:
            continue
        for item in value if isinstance(value, tuple) else (value,):
            pairs.append((key, item))
    return urllib.parse.urlencode(pairs).encode("ascii")


SCHEDULE = "2030-01-01 休\n2030-02-02 班\n".encode()
HOSTILE_FILES = [
    ("empty", b"", "schedule.txt"),
    ("NUL bytes", b"\x00" * 64, "schedule.txt"),
    ("not text", b"\xff\xfe\xfd\xfc" * 16, "schedule.txt"),
    ("far date", "9999-12-31 休\n".encode(), "schedule.txt"),
    ("year zero", "0000-00-00 休\n".encode(), "schedule.txt"),
    ("no such day", "2030-02-30 休\n".encode(), "schedule.txt"),
    ("4,400 digits", (DIGITS_4400 + "-01-01 休\n").encode(), "schedule.txt"),
    ("other year", "2031-01-01 休\n".encode(), "schedule.txt"),
    ("markup", "<script>alert(1)</script>\n".encode(), "schedule.txt"),
    ("100k lines", ("2030-01-01 休\n" * 100_000).encode(), "schedule.txt"),
    ("name with NUL", SCHEDULE, "a\x00b.txt"),
    ("name of 300 chars", SCHEDULE, "n" * 300 + ".txt"),
    ("name with a path", SCHEDULE, "../../etc/passwd"),
    ("name with markup", SCHEDULE, "<script>alert(1)</script>.txt"),
]


def _multipart_body(values: dict, files: dict) -> tuple[bytes, str]:
    """A multipart body built by hand (the test client refuses some hostile file names)."""
    boundary = "----daiban-fuzz-boundary"
    parts = []
    for key, value in values.items():
        if value is MISSING:
            continue
        for item in value if isinstance(value, tuple) else (value,):
            data = item if isinstance(item, bytes) else item.encode("utf-8", "surrogatepass")
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
                         .encode() + data + b"\r\n")
    for key, (content, filename) in files.items():
        name = filename.replace('"', "%22").encode("utf-8", "surrogatepass")
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"; filename="'
                     .encode() + name + b'"\r\nContent-Type: text/plain\r\n\r\n' + content + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def _post_form(fuzz: Fuzz, case: FormCase, scene: Scene, values: dict, field_name: str,
               label: str, files: dict | None = None):
    path = case.path(scene)
    if case.files:
        body, content_type = _multipart_body(
            values, files if files is not None else {"file": (SCHEDULE, "schedule.txt")})
    else:
        body, content_type = _urlencoded(values), "application/x-www-form-urlencoded"
    return fuzz.send(field_name, label, "POST", path, data=body, content_type=content_type)


def _valid_form_values(case: FormCase, scene: Scene, fields: dict) -> dict:
    if case.valid is not None:
        return case.valid(scene)
    # team-end-helper: the field names carry the form's prefix, whatever it is.
    by_suffix = {"assignment_id": str(scene.helper()), "reason": "不再需要协助"}
    return {name: by_suffix[next(s for s in by_suffix if name.endswith(s))] for name in fields}


@pytest.mark.parametrize("case", FORM_CASES, ids=lambda c: c.name)
def test_hostile_form_values(app, scene, case):
    client = app.test_client()
    login(client, case.user)
    fuzz = Fuzz(app, client, f"POST {case.endpoint} ({case.name})")
    fields = _form_fields(app, case, scene)

    def values_with(name, value):
        return {**_valid_form_values(case, scene, fields), name: value}

    for name, kind in fields.items():
        if kind == "file":
            for label, content, filename in HOSTILE_FILES:
                _post_form(fuzz, case, scene, _valid_form_values(case, scene, fields), name,
                           label, files={name: (content, filename)})
            continue
        for value in FORM_BY_KIND.get(kind, []) + FORM_COMMON:
            _post_form(fuzz, case, scene, values_with(name, value), name, _label(value))
    # A field the form does not have, and whole bodies of the wrong kind.
    _post_form(fuzz, case, scene, {**_valid_form_values(case, scene, fields),
                                   "zzz" * 30: LONG_TEXT, "id": "99999999999999999999999"},
               "<unknown fields>", "long text, huge id")
    bodies = [
        ("empty, no content type", None, None),
        ("the values as JSON", lambda v: json.dumps(v), "application/json"),
        ("the values as text/plain", _urlencoded, "text/plain"),
        ("bad percent-encoding", lambda v: b"%zz=%ff%fe&a=%00%", "application/x-www-form-urlencoded"),
        ("multipart without boundary", lambda v: b"--x\r\n\r\n", "multipart/form-data"),
        ("3 MB (over MAX_CONTENT_LENGTH)", lambda v: _urlencoded(v) + b"&pad=" + b"x" * 3_000_000,
         "application/x-www-form-urlencoded"),
    ]
    for label, make, content_type in bodies:
        valid = _valid_form_values(case, scene, fields)
        fuzz.send("<body>", label, "POST", case.path(scene),
                  data=make(valid) if make else None, content_type=content_type)

    strategies = {name: FORM_STRATEGIES[kind]() for name, kind in fields.items() if kind != "file"}
    if strategies:
        @settings(max_examples=HYPOTHESIS_EXAMPLES * max(1, min(len(strategies), 4)),
                  deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(data=st.data())
        def random_values(data):
            name = data.draw(st.sampled_from(sorted(strategies)), label="field")
            value = data.draw(strategies[name], label="value")
            _post_form(fuzz, case, scene, values_with(name, value), name,
                       "hypothesis " + _label(value))

        random_values()
    _post_form(fuzz, case, scene, _valid_form_values(case, scene, fields), "<valid>", "")
    _finish(fuzz)


# -- JSON bodies ----------------------------------------------------------------------------------

def _schema(app, case: JsonCase):
    """The marshmallow schema flask-smorest validates the body with (None: no body)."""
    view = app.view_functions[case.endpoint]
    method = getattr(view.view_class, case.method.lower())
    for parameter in getattr(method, "_apidoc", {}).get("arguments", {}).get("parameters", []):
        if parameter["in"] == "json":
            schema = parameter["schema"]
            return schema() if isinstance(schema, type) else schema
    return None


def _schema_fields(schema) -> dict[str, str]:
    """Body field name -> its type (a key of JSON_BY_TYPE)."""
    from marshmallow import fields as mf

    def kind(f):
        for cls, name in ((mf.Integer, "integer"), (mf.Number, "number"), (mf.Date, "date"),
                          (mf.DateTime, "date"), (mf.Boolean, "boolean")):
            if isinstance(f, cls):
                return name
        return "string"

    if schema is None:
        return {}
    return {(f.data_key or name): kind(f) for name, f in schema.fields.items() if not f.dump_only}


PLACEHOLDER = "__daiban_fuzz_value__"


def _json_body(values: dict, name: str | None = None, raw=MISSING) -> str:
    values = {k: v for k, v in values.items() if k != name}
    if name is None or raw is MISSING:
        return json.dumps(values)
    return json.dumps({**values, name: PLACEHOLDER}).replace(json.dumps(PLACEHOLDER), raw)


@pytest.mark.parametrize("case", JSON_CASES, ids=lambda c: c.name)
def test_hostile_json_bodies(app, scene, tokens, case):  # noqa: F811
    fuzz = Fuzz(app, app.test_client(), f"{case.method} {case.endpoint} ({case.name})", api=True,
                headers={"Authorization": f"Bearer {tokens[case.user]}"})
    fields = _schema_fields(_schema(app, case))

    def send(name, label, body, content_type="application/json", **kwargs):
        data = body if isinstance(body, bytes) else body.encode("utf-8", "surrogatepass")
        return fuzz.send(name, label, case.method, case.path(scene), data=data,
                         content_type=content_type, **kwargs)

    for name, kind in fields.items():
        for raw in JSON_BY_TYPE[kind] + JSON_COMMON:
            if not (kind == "integer" and raw in NOT_INTEGERS):
                send(name, _label(raw), _json_body(case.valid(scene), name, raw))
        if kind == "integer":
            for raw in NOT_INTEGERS:
                send(name, _label(raw) + " (integer field)",
                     _json_body(case.valid(scene), name, raw),
                     must_refuse=422 if raw == "1.5" else True)

    valid = case.valid(scene)
    deep = DEEP
    bodies = [
        ("empty", b""), ("whitespace", b"  \n"), ("null", "null"), ("a list", "[]"),
        ("a string", '"x"'), ("a number", "1"), ("NaN", "NaN"), ("truncated", "{"),
        ("not JSON", "park_id=1"), ("5,000 deep list", deep),
        ("5,000 deep object", '{"a":' * 5000 + "1" + "}" * 5000),
        ("5,000 deep in a field", _json_body(valid, "zzz", deep)),
        ("4,400 digits in an unknown field", _json_body(valid, "zzz", DIGITS_4400)),
        ("NaN in an unknown field", _json_body(valid, "zzz", "NaN")),
        ("lone surrogate as a key", _json_body(valid)[:-1] + (", " if valid else "")
         + '"\\ud800": 1}'),
        ("invalid UTF-8", _json_body(valid).encode()[:-1] + b', "zzz": "\xff\xfe"}'),
        ("UTF-8 BOM", b"\xef\xbb\xbf" + _json_body(valid).encode()),
        ("UTF-16", _json_body(valid).encode("utf-16")),
        ("duplicate keys", _json_body(valid)[:-1] + (", " if valid else "") + '"zzz": 1, "zzz": 2}'),
        ("unknown field", _json_body({**valid, "zzz": "x"})),
        ("300 KB (over API_MAX_BODY_BYTES)", _json_body({**valid, "zzz": "x" * 300_000})),
    ]
    for label, body in bodies:
        send("<body>", label, body)
    send("<body>", "valid JSON as text/plain", _json_body(valid), "text/plain")
    send("<body>", "valid JSON as a form", _json_body(valid), "application/x-www-form-urlencoded")
    send("<body>", "as form fields", _urlencoded({k: str(v) for k, v in valid.items()}),
         "application/x-www-form-urlencoded")
    send("<body>", "JSON, charset latin-1", _json_body(valid), "application/json; charset=latin-1")
    send("<body>", "no content type", _json_body(valid), None)
    send("<body>", "multipart", b"--x--\r\n", "multipart/form-data; boundary=x")

    if fields:
        @settings(max_examples=HYPOTHESIS_EXAMPLES * max(1, min(len(fields), 4)), deadline=None,
                  database=None, suppress_health_check=list(HealthCheck))
        @given(data=st.data())
        def random_values(data):
            name = data.draw(st.sampled_from(sorted(fields)), label="field")
            value = data.draw(_json_values(), label="value")
            raw = json.dumps(value)  # NaN and Infinity as literals, surrogates as \\ud800
            send(name, "hypothesis " + _label(raw), _json_body(case.valid(scene), name, raw))

        random_values()
    send("<valid>", "", _json_body(case.valid(scene)))
    _finish(fuzz)


# -- Flask-Admin ----------------------------------------------------------------------------------

BAD_ADMIN_IDS = ["abc", "99999999999999999999999", "-1", "1.5", "", "0", "\u0663", "9999-12-31",
                 "2026-02-30", DIGITS_4400]


def test_admin_urls_with_bad_ids(app, scene):
    client = app.test_client()
    login(client, "admin")
    fuzz = Fuzz(app, client, "Flask-Admin")
    views = sorted({rule.endpoint.split(".")[0] for rule in app.url_map.iter_rules()
                    if rule.endpoint.startswith("admin_")
                    and rule.endpoint.endswith((".details_view", ".edit_view"))})
    assert views, "no Flask-Admin model views found"
    for view in views:
        for action in ("details", "edit"):
            if f"{view}.{action}_view" not in app.view_functions:
                continue
            for value in BAD_ADMIN_IDS:
                fuzz.send(f"GET /admin/{view}/{action}/ id", _label(value), "GET",
                          f"/admin/{view}/{action}/", query_string={"id": value})
            if action == "edit":
                for value in BAD_ADMIN_IDS[:3]:
                    fuzz.send(f"POST /admin/{view}/edit/ id", _label(value), "POST",
                              f"/admin/{view}/edit/", query_string={"id": value},
                              data={"name": "x"})
    _finish(fuzz)


ADMIN_CREATE_FORMS = [
    ("admin_staff", {"name": "负数人员", "kind": "agent", "capacity": "-1", "active": "y"}),
    ("admin_staff", {"name": "巨量人员", "kind": "agent", "capacity": "99999999999999999999999"}),
    ("admin_staff", {"name": "NaN人员", "kind": "agent", "capacity": "NaN"}),
    ("admin_districts", {"code": "abc", "name": "某区"}),
    ("admin_districts", {"code": "", "name": "某区"}),
    ("admin_districts", {"code": "320612" * 20000, "name": "某区"}),
    ("admin_commitments", {"name": "自己到自己", "start_code": "filing_record",
                           "end_code": "filing_record", "limit_workdays": "30", "active": "y"}),
    ("admin_commitments", {"name": "未知事项", "start_code": "<script>", "end_code": "x",
                           "limit_workdays": "30"}),
    ("admin_commitments", {"name": "零天", "start_code": "filing_record",
                           "end_code": "construction_permit", "limit_workdays": "0"}),
    ("admin_approval_items", {"code": "loop_item", "name": "自我依赖", "department": "某局",
                              "stage": "filing", "committed_limit": "5", "committed_unit": "working",
                              "statutory_unit": "working", "applicability": "always",
                              "requires": "loop_item", "extension_allowance": "10",
                              "sort_order": "1", "active": "y"}),
]


def test_admin_create_forms_refuse_bad_values(app, scene):
    """Flask-Admin answers a form with errors (or a redirect), never 500, and saves nothing:
    each of these values is invalid."""
    client = app.test_client()
    login(client, "admin")
    fuzz = Fuzz(app, client, "Flask-Admin create forms")
    for view, values in ADMIN_CREATE_FORMS:
        before, found = fuzz.counts(), len(fuzz.findings)
        field_name = f"POST /admin/{view}/new/"
        label = ", ".join(f"{k}={_label(v)}" for k, v in values.items())
        response = fuzz.send(field_name, label, "POST", f"/admin/{view}/new/", data=values)
        wrote = _diff(before, fuzz.counts())
        if wrote and len(fuzz.findings) == found:  # not reported already
            fuzz._found(field_name, label, response.status_code,
                        f"saved the invalid record instead of refusing it: wrote {wrote}")
    _finish(fuzz)
