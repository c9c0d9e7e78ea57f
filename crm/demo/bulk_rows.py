"""The rows of synthetic projects, for `flask crm generate` (crm/demo/bulk.py).

No session and no Flask here: a project's timeline, its stage history, its milestone plan with
real deadlines (through the pure rules of crm/milestones/sla.py, in bulk), clock pauses and
progress logs, all as plain dicts ready for a Core insert or a COPY.

Deadlines need every milestone's acceptance day and pauses first, then one ``due_dates_bulk``
call per chunk of projects, then the outcomes: ``ProjectRows.add`` drafts, ``finish`` settles.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from crm.demo import data
from crm.milestones import sla
from crm.milestones.calendar import WorkCalendar
from crm.milestones.services.plans import applies
from crm.projects.models import ApprovalMode, EiaCategory, ProjectStatus, Stage

UTC = dt.timezone.utc
DAY = dt.timedelta(days=1)
HISTORY_DAYS = 5 * 365
STAGES = list(Stage)
APPROVED = len(STAGES) - 1
# Days a project spends in each stage before moving on (times its pace, 1.0 to 2.2).
STAGE_DAYS = ((30, 150), (10, 45), (60, 120), (60, 150), (60, 140), (60, 110))
LOG_KINDS = ("visit", "call", "materials", "coordination")
LOG_WEIGHTS = (30, 32, 22, 16)
PAUSE_REASONS = ("supplement", "supplement", "expert_review", "testing", "hearing")
HOURS = (0.5, 1.0, 1.0, 1.5, 2.0, 2.0, 3.0, 4.0, None)
STAGE_REASONS = {0: "批量生成：项目录入", 1: "签订投资协议", 2: "启动立项手续"}


def at(day: dt.date, rng: random.Random) -> dt.datetime:
    """A moment in office hours in China (09:00-18:00, UTC+8) on ``day``, as UTC."""
    return dt.datetime(day.year, day.month, day.day, rng.randrange(1, 10), rng.randrange(60),
                       tzinfo=UTC)


def person(rng: random.Random) -> str:
    return rng.choice(data.SURNAMES) + rng.choice(data.GIVEN)


def phone(rng: random.Random) -> str:
    return "1" + rng.choice("3589") + f"{rng.randrange(10**9):09d}"


@dataclass(slots=True)
class Timeline:
    """The days a project entered each stage it reached, and the day its story stops."""

    entries: list[dt.date]  # entries[s]: the day it entered stage s; entries[0]: created
    status: str
    until: dt.date  # today, or the day it was put on hold or dropped

    @property
    def stage(self) -> int:
        return len(self.entries) - 1

    @property
    def served(self) -> bool:
        """Still being walked through its approvals (counts in staff loads)."""
        return self.status != ProjectStatus.DROPPED and self.stage < APPROVED

    def last_day(self, s: int) -> dt.date:
        """The last day the project spent in stage s."""
        return self.entries[s + 1] - DAY if s + 1 < len(self.entries) else self.until


def timeline(rng: random.Random, today: dt.date, calendar: WorkCalendar) -> Timeline:
    """Created some day in the last five years; older projects got further (or were dropped)."""
    created = min(calendar.next_workday(today - dt.timedelta(days=rng.randrange(1, HISTORY_DAYS))),
                  today)
    roll = rng.random()
    status = (ProjectStatus.DROPPED if roll < 0.07 else ProjectStatus.ON_HOLD if roll < 0.13
              else ProjectStatus.ACTIVE)
    until = today
    if status != ProjectStatus.ACTIVE:
        until = created + dt.timedelta(days=int((today - created).days * rng.uniform(0.3, 1.0)))
    pace = rng.uniform(1.0, 2.2)
    entries = [created]
    for low, high in STAGE_DAYS:
        entered = calendar.next_workday(entries[-1] + dt.timedelta(days=int(rng.randint(low, high) * pace)))
        if entered > until:
            break
        entries.append(entered)
    if len(entries) == len(STAGES):  # finished projects are neither on hold nor dropped
        status, until = ProjectStatus.ACTIVE, today
    return Timeline(entries, status.value, until)


class ProjectRows:
    """Collects the rows of a chunk of projects; ``finish`` settles deadlines and returns them."""

    def __init__(self, rng: random.Random, today: dt.date, calendar: WorkCalendar,
                 catalogues: dict, next_ids: dict[str, int], codes: set[str]):
        self.rng, self.today, self.calendar = rng, today, calendar
        self.catalogues = catalogues  # district id -> active catalogue items, in plan order
        self.next_ids = next_ids  # table -> next explicit id (projects, milestones, progress_logs)
        self.codes = codes  # project codes in use
        self.reset()

    def reset(self) -> None:
        self.rows: dict[str, list[dict]] = {t: [] for t in (
            "projects", "stage_changes", "milestones", "milestone_pauses", "progress_logs",
            "milestone_dependencies")}
        self.drafts: list[tuple] = []
        self.links: list[tuple[dict, dict]] = []  # (milestone row, the row it needs first)

    def _id(self, table: str) -> int:
        value = self.next_ids[table]
        self.next_ids[table] = value + 1
        return value

    # -- projects --------------------------------------------------------------------------

    def add(self, project_id: int, park, tl: Timeline) -> None:
        rng = self.rng
        industry = rng.choice(list(data.INDUSTRY_PROJECTS))
        words, templates = data.INDUSTRY_PROJECTS[industry]
        company = rng.choice(data.COMPANY_PREFIXES) + rng.choice(words) + rng.choice(data.COMPANY_SUFFIXES)
        title = rng.choice(templates).format(n=rng.choice((2, 3, 5, 8, 10, 20, 30, 50)))
        investment = min(rng.choice((10000, 12000, 15000, 20000, 30000, 50000, 80000, 100000,
                                     150000, 300000)) + rng.randrange(0, 5) * 1000, 500000)
        mode = ApprovalMode.VERIFICATION if rng.random() < 0.1 else ApprovalMode.FILING
        eia = rng.choice((EiaCategory.REPORT_FORM, EiaCategory.REPORT_FORM, EiaCategory.REPORT_BOOK,
                          EiaCategory.REGISTRATION))
        k = tl.stage
        signed = tl.entries[1] if k >= 1 else None
        self.rows["projects"].append({
            "id": project_id, "name": company.removesuffix("有限公司") + title, "code": self._code(park, tl),
            "investor_name": company, "investor_credit_code": self._credit_code(park.division),
            "investment": investment, "industry": industry, "park_id": park.id,
            "stage": STAGES[k].value, "status": tl.status, "approval_mode": mode.value,
            "eia_category": eia.value,
            "description": f"{company}投资建设{title.removesuffix('项目')}，总投资约{investment / 10000:.1f}亿元。",
            "contact_name": person(rng), "contact_phone": phone(rng), "signed_on": signed,
            "expected_start_on": signed + dt.timedelta(days=rng.randrange(300, 700)) if signed else None,
            "stage_changed_at": at(tl.entries[k], rng), "created_at": at(tl.entries[0], rng),
            "updated_at": at(tl.until, rng), "created_by_id": None, "version": 1,
        })
        for s in range(k + 1):
            self.rows["stage_changes"].append({
                "project_id": project_id, "from_stage": STAGES[s - 1].value if s else None,
                "to_stage": STAGES[s].value, "changed_at": at(tl.entries[s], rng),
                "changed_by_id": None, "automatic": s > 2, "reason": STAGE_REASONS.get(s)})
        started = []
        if k >= 1:
            plan = [i for i in self.catalogues[park.district_id]
                    if applies(i, _Kind(mode.value, eia.value))]
            started = self._plan(project_id, park.id, tl, plan)
        self._logs(project_id, park.id, tl, started)

    def _credit_code(self, division: str) -> str:
        from crm.projects.codes import USCC_CHARSET, make_credit_code

        return make_credit_code("91" + division + "".join(self.rng.choices(USCC_CHARSET[:10] + "MA", k=9)))

    def _code(self, park, tl: Timeline) -> str | None:
        """投资项目统一代码 from filing on (unique; some filed projects still lack one)."""
        from crm.projects.codes import make_project_code

        if tl.stage < 2 or (tl.stage == 2 and self.rng.random() < 0.5):
            return None
        while True:
            code = make_project_code(tl.entries[1].strftime("%y%m"), park.division,
                                     self.rng.choice(("89", "34", "36", "26")),
                                     self.rng.choice(("01", "02", "03")), f"{self.rng.randrange(10**5):05d}")
            if code not in self.codes:
                self.codes.add(code)
                return code

    # -- milestones ------------------------------------------------------------------------

    def _plan(self, project_id: int, park_id: int, tl: Timeline, plan: list) -> list[tuple]:
        """Milestone drafts: earlier stages done, the current stage under way, later pending.
        Returns (id, accepted_on) of the started ones, for the logs."""
        rng, k = self.rng, tl.stage
        stage_of = [STAGES.index(Stage(item.stage)) for item in plan]
        created_at = at(tl.entries[1], rng)
        started, position, by_code = [], {}, {}
        for n, item in enumerate(plan):
            s = stage_of[n]
            pos = position[s] = position.get(s, -1) + 1
            row = {"id": self._id("milestones"), "project_id": project_id, "park_id": park_id,
                   "approval_item_id": item.id, "name": item.name, "department": item.department,
                   "stage": item.stage, "sequence": item.sort_order, "required": item.required,
                   "limit_value": item.committed_limit, "limit_unit": item.committed_unit,
                   "statutory_value": item.statutory_limit, "statutory_unit": item.statutory_unit,
                   "status": "pending", "outcome": None, "accepted_on": None, "due_on": None,
                   "due_provisional": False, "remaining_workdays": None, "completed_on": None,
                   "workdays_used": None, "approval_doc_no": None, "issuing_department": None,
                   "waive_reason": None, "owner_staff_id": None, "notified_state": None,
                   "parallel_reason": None, "extension_workdays": None, "extension_doc_no": None,
                   "extension_approved_on": None, "original_due_on": None, "forecast_on": None,
                   "slack_workdays": None, "critical": False,
                   "created_at": created_at, "updated_at": created_at, "version": 1}
            self.rows["milestones"].append(row)
            by_code[item.code] = row
            if s > k or (s == k and tl.status == ProjectStatus.DROPPED):
                continue  # not started (a dropped project's open items were withdrawn)
            if s < k and not item.required and rng.random() < 0.05:
                row.update(status="waived", waive_reason="经部门确认，本项目无需办理")
                continue
            last_day = tl.last_day(s)
            if s < k:
                accepted = min(self.calendar.add_workdays(
                    tl.entries[s], 1 + rng.randrange(4) + pos * rng.randrange(10)), last_day)
            finished = s < k
            if s == k:
                last_of_stage = n + 1 == len(plan) or stage_of[n + 1] != s
                accepted, finished = self._accepted_lately(tl, item, pos, last_of_stage)
                if accepted is None:
                    continue  # not filed yet
            row["accepted_on"] = accepted
            pauses = self._pauses(accepted, last_day, tl.status if s == k else None)
            self.drafts.append((row, pauses, s == k, finished, last_day))
            started.append((row["id"], accepted))
        for item in plan:  # the catalogue's dependencies between the plan's items
            for code in item.requires_codes:
                if code in by_code:
                    row, needed = by_code[item.code], by_code[code]
                    self.links.append((row, needed))
                    self.rows["milestone_dependencies"].append({
                        "project_id": project_id, "milestone_id": row["id"],
                        "requires_id": needed["id"], "reason": None, "created_by_id": None,
                        "created_at": created_at})
        return started

    def _accepted_lately(self, tl: Timeline, item, pos: int, last_of_stage: bool) -> tuple:
        """A current-stage item: (acceptance day or None when not filed yet, finished?).

        Some of the stage's items are finished already (never the last one: the stage would
        have moved on), about one in ten is overdue, the rest run with time left."""
        cal, rng = self.calendar, self.rng
        room = cal.workdays_between(tl.entries[tl.stage], tl.until)
        if room < 1 or (pos and rng.random() < 0.25):
            return None, False
        limit = sla.limit_in_workdays(tl.until, item.committed_limit, item.committed_unit, cal)
        roll = rng.random()
        finished = roll < 0.3 and not last_of_stage
        if finished:
            back = limit + rng.randint(1, 20)
        elif roll >= 0.9:
            back = limit + rng.randint(1, 8)  # overdue
        else:
            back = rng.randint(0, limit - 1)  # due today or later
        return cal.add_workdays(tl.entries[tl.stage], room - min(room, back)), finished

    def _pauses(self, accepted: dt.date, last_day: dt.date, current_status: str | None) -> list:
        """Clock stops: closed ones (补正 and the like); open ones only in the current stage."""
        rng, cal = self.rng, self.calendar
        if current_status == ProjectStatus.ON_HOLD:
            return [(last_day, None, "enterprise")] if last_day > accepted else []
        if current_status is not None and rng.random() < 0.1:
            span = cal.workdays_between(accepted, last_day)
            if span >= 1:
                return [(cal.add_workdays(accepted, rng.randint(1, span)), None, rng.choice(PAUSE_REASONS))]
        if rng.random() < 0.18:
            paused = cal.add_workdays(accepted, 1)
            resumed = cal.add_workdays(paused, rng.randint(1, 5))
            if resumed <= last_day:
                return [(paused, resumed, rng.choice(PAUSE_REASONS))]
        return []

    def finish(self) -> dict[str, list[dict]]:
        """Due dates for every started milestone (one bulk call), then outcomes and states."""
        cal, rng = self.calendar, self.rng
        closed = [d for d in self.drafts if not any(p[1] is None for p in d[1])]
        dues = sla.due_dates_bulk(
            ((row["accepted_on"], row["limit_value"], row["limit_unit"], [p[:2] for p in pauses])
             for row, pauses, *_ in closed), cal)
        for (row, pauses, current, finished, last_day), due in zip(closed, dues):
            row["due_provisional"] = cal.range_provisional(row["accepted_on"], due)
            if not current or (finished and due < last_day):
                self._done(row, [p[:2] for p in pauses], due, last_day)
            else:
                row.update(status="running", due_on=due)
        for row, pauses, *_ in self.drafts:
            if row["status"] == "pending":  # paused by an open pause: no due date, days frozen
                facts = sla.schedule(row["accepted_on"], row["limit_value"], row["limit_unit"],
                                     [p[:2] for p in pauses], cal)
                row.update(status="paused", due_provisional=facts.provisional,
                           remaining_workdays=facts.remaining_frozen)
            for paused, resumed, reason in pauses:
                self.rows["milestone_pauses"].append({
                    "milestone_id": row["id"], "paused_on": paused, "resumed_on": resumed,
                    "reason_code": reason, "note": "企业补正材料" if reason == "supplement" else None,
                    "document_ref": f"补正通知〔{paused.year}〕{rng.randrange(10, 99)}号",
                    "created_by_id": None, "created_at": at(paused, rng)})
        for row, needed in self.links:  # started before what it needs: in parallel anyway
            if row["status"] != "pending" and row["accepted_on"] is not None \
                    and needed["status"] not in ("done", "waived") and not row["parallel_reason"]:
                row["parallel_reason"] = rng.choice(data.PARALLEL_REASONS)
        rows = self.rows
        self.reset()
        return rows

    def _done(self, row: dict, pauses: list, due: dt.date, latest: dt.date) -> None:
        """Finished: most before the due date (time saved), about one in eight late."""
        rng, cal, accepted = self.rng, self.calendar, row["accepted_on"]
        allowed = max(sla.workdays_used(accepted, due, pauses, cal), 1)
        used = allowed + rng.randint(1, 3) if rng.random() < 0.12 else rng.randint(1, allowed)
        completed = max(min(sla.due_date(accepted, used, sla.WORKING, pauses, cal), latest), accepted)
        if completed > due and rng.random() < 0.3:  # some late ones got a statutory extension
            extension = rng.choice((5, 10))
            approved = cal.add_workdays(accepted, max(allowed - 2, 1))
            row.update(extension_workdays=extension, original_due_on=due,
                       extension_doc_no=f"延期批复〔{approved.year}〕{rng.randrange(10, 99)}号",
                       extension_approved_on=min(approved, completed))
            due = sla.extended(due, extension, cal)
        row.update(status="done", due_on=due, completed_on=completed,
                   outcome=sla.outcome(completed, due),
                   workdays_used=sla.workdays_used(accepted, completed, pauses, cal),
                   approval_doc_no=f"通审批〔{completed.year}〕{rng.randrange(100, 999)}号",
                   issuing_department=row["department"], updated_at=at(completed, rng))

    # -- progress logs ---------------------------------------------------------------------

    def _logs(self, project_id: int, park_id: int, tl: Timeline, started: list[tuple]) -> None:
        """About twenty entries of every kind; blockers mostly resolved, some still open."""
        rng = self.rng
        first = tl.entries[0]
        last = min(tl.entries[APPROVED] + dt.timedelta(days=60), self.today) if tl.stage == APPROVED else tl.until
        span = (last - first).days
        logs = self.rows["progress_logs"]

        def entry(kind, day, text, milestone_id=None):
            row = {"id": self._id("progress_logs"), "project_id": project_id, "park_id": park_id,
                   "milestone_id": milestone_id, "author_id": None, "kind": kind,
                   "happened_on": day, "hours": rng.choice(HOURS), "text": text,
                   "created_at": at(day, rng), "resolved_at": None, "resolved_by_id": None,
                   "resolution_note": None, "resolved_by_log_id": None}
            return row

        count = rng.randint(2, 10) if tl.stage == 0 else rng.randint(8, 30)
        for kind in rng.choices(LOG_KINDS, LOG_WEIGHTS, k=count):
            day = first + dt.timedelta(days=rng.randint(0, span))
            milestone_id = None
            if kind in ("call", "materials") and started and rng.random() < 0.5:
                chosen = rng.choice(started)
                milestone_id = chosen[0] if chosen[1] <= day else None
            logs.append(entry(kind, day, rng.choice(data.LOG_TEXTS[kind]), milestone_id))
        blockers = rng.choice((0, 0, 1, 1, 1, 2, 2, 3)) if tl.stage else 0
        may_stay_open = tl.served  # blockers of finished or dropped projects were all closed
        for n in range(blockers):
            day = first + dt.timedelta(days=rng.randint(0, span))
            blocker = entry("blocker", day, rng.choice(data.LOG_TEXTS["blocker"]))
            blocker["hours"] = None
            solved_on = day + dt.timedelta(days=rng.randint(3, 40))
            if (n + 1 == blockers and may_stay_open and rng.random() < 0.45) or solved_on > last:
                if may_stay_open:
                    logs.append(blocker)  # still open
                    continue
                solved_on = last
            # The resolution goes first: the blocker row points at it.
            resolution = entry("resolution", solved_on, rng.choice(data.LOG_TEXTS["resolution"]))
            resolution["created_at"] = max(resolution["created_at"], blocker["created_at"])
            blocker.update(resolved_at=resolution["created_at"], resolved_by_log_id=resolution["id"],
                           resolution_note=resolution["text"])
            logs += (resolution, blocker)


@dataclass(frozen=True, slots=True)
class _Kind:
    """What ``applies`` reads of a project."""

    approval_mode: str
    eia_category: str
