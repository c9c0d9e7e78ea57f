"""`flask crm demo`: a realistic Nantong city, loaded once (idempotent).

Dates are relative to today, so the demo always has deadlines coming due, some overdue and
some finished.  Everything derived (due dates, outcomes, loads) goes through the same pure
rules the application uses.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select, update
from sqlalchemy.orm import aliased

from crm.agents.models import Staff
from crm.agents.services.staffing import Pools, auto_assign
from crm.audit.services import set_actor
from crm.auth.models import Role
from crm.auth.services import create_user
from crm.db import utcnow
from crm.demo import data, supervision
from crm.extensions import db
from crm.milestones import sla
from crm.milestones.services.plans import create_plan, seed_catalogue
from crm.milestones.models import (
    ApprovalItem, JointHandling, Milestone, MilestoneDependency, MilestonePause, MilestoneStatus,
)
from crm.milestones.services import forecasts
from crm.portal import services as enterprise_links
from crm.portal.models import DIMENSIONS, CallbackItem, EnterpriseLink, SatisfactionCase
from crm.portal.services import callbacks, ratings
from crm.milestones.queries import work_calendar
from crm.parks.models import District, Park
from crm.projects.codes import make_credit_code, make_project_code, USCC_CHARSET
from crm.projects.models import (
    ApprovalMode, EiaCategory, ProgressLog, Project, ProjectStatus, Stage, StageChange,
)

DEMO_PASSWORD = "daiban-demo-2026"

DEMO_LOGINS = (
    # username, display name, role, description
    ("admin", "系统管理员", Role.ADMIN, "back office at /admin"),
    ("leader", "顾局长", Role.LEADER, "city bureau, every park, read-only"),
    ("manager", "陆主任", Role.PARK_MANAGER, "manager of 南通经济技术开发区"),
    ("consultant", None, Role.CONSULTANT, "chief consultant in 南通经济技术开发区"),
    ("agent", None, Role.AGENT, "project agent in 南通经济技术开发区"),
)

STAGE_COUNTS = {
    Stage.NEGOTIATING: 15, Stage.SIGNED: 14, Stage.FILING: 20, Stage.LAND: 24,
    Stage.PLANNING: 20, Stage.PERMITTING: 15, Stage.APPROVED: 12,
}


def is_loaded() -> bool:
    return db.session.scalar(select(District.id).where(District.code == data.DISTRICTS[0][0])) is not None


def load_demo(today: dt.date, seed: int = 2026) -> dict:
    """Load the demo city unless it is there already.  Returns counts of what was added."""
    seed_catalogue()
    if is_loaded():
        return {}
    set_actor(db.session, None)
    builder = _DemoBuilder(random.Random(seed), today)
    return builder.build()


class _DemoBuilder:
    def __init__(self, rng: random.Random, today: dt.date):
        self.rng = rng
        self.today = today
        self.calendar = work_calendar()
        self.names_used: set[str] = set()
        self.counts: dict[str, int] = {}

    # -- helpers -------------------------------------------------------------------------

    def person_name(self) -> str:
        while True:
            name = self.rng.choice(data.SURNAMES) + self.rng.choice(data.GIVEN)
            if name not in self.names_used:
                self.names_used.add(name)
                return name

    def phone(self) -> str:
        return "1" + self.rng.choice("3589") + "".join(self.rng.choice("0123456789") for _ in range(9))

    def workdays_ago(self, n: int) -> dt.date:
        day = self.today
        while n > 0:
            day -= dt.timedelta(days=1)
            if self.calendar.is_workday(day):
                n -= 1
        return day

    # -- build ---------------------------------------------------------------------------

    def build(self) -> dict:
        districts = {code: District(code=code, name=name) for code, name in (data.CITY, *data.DISTRICTS)}
        db.session.add_all(districts.values())
        parks = []
        for name, short, level, code, weight in data.PARKS:
            park = Park(name=name, short_name=short, level=level, district=districts[code],
                        phone="0513-" + "".join(self.rng.choice("0123456789") for _ in range(8)))
            park.weight = weight
            parks.append(park)
        db.session.add_all(parks)
        db.session.flush()
        staff = self.build_staff(parks)
        self.build_users(parks, staff)
        self.build_projects(parks)
        self.mark_parallel_starts()
        self.mark_joint_reviews()
        db.session.flush()
        forecasts.refresh_projects(None, self.today, self.calendar)
        self.issue_links()
        self.build_feedback()
        self.counts.update(supervision.build(self.today, self.calendar, self.rng))
        return self.counts

    def issue_links(self) -> None:
        """Every signed project's enterprise link (its service order prints the QR code)."""
        signed = db.session.scalars(select(Project).where(
            Project.stage != Stage.NEGOTIATING.value).order_by(Project.id)).all()
        for project in signed:
            enterprise_links.issue(project, actor_id=None, today=self.today)
        self.counts["enterprise_links"] = len(signed)

    def build_feedback(self) -> None:
        """The enterprises' ratings of issued approvals (most satisfied, some not) and the
        bad-review cases they opened, in every state of their handling."""
        rng = self.rng
        links = {link.project_id: link for link in db.session.scalars(
            select(EnterpriseLink).where(EnterpriseLink.revoked_at.is_(None)))}
        done = db.session.execute(
            select(Milestone.project_id, Milestone.id).where(Milestone.status == "done")
            .order_by(Milestone.project_id, Milestone.id)).all()
        count = 0
        for project_id, milestone_id in done:
            link = links.get(project_id)
            if link is None or rng.random() < 0.4:
                continue
            low = rng.random() < 0.15
            scores = {d: rng.choice((4, 5, 5)) for d in DIMENSIONS}
            if low:
                scores[rng.choice(DIMENSIONS)] = rng.choice((1, 2))
            ratings.rate(link, milestone_id, scores,
                         rng.choice(data.LOW_COMMENTS if low else data.GOOD_COMMENTS),
                         today=self.today, calendar=self.calendar)
            count += 1
        complaints = [p for p in list(links)[:40] if rng.random() < 0.1]
        for project_id in complaints:
            ratings.complain(links[project_id], text=rng.choice(data.LOW_COMMENTS),
                             contact_name=self.person_name(), contact_phone=self.phone(),
                             today=self.today, calendar=self.calendar)
        cases = db.session.scalars(select(SatisfactionCase).order_by(SatisfactionCase.id)).all()
        for index, case in enumerate(cases):
            step = index % 5  # 0 new, 1 being rectified, 2 rectified, 3 panel accepted, 4 closed
            if step == 0:
                continue
            ratings.classify(case, "complex" if step == 3 else "simple", today=self.today,
                             calendar=self.calendar)
            if step == 3:
                ratings.accept(case, panel_members=data.PANEL, findings="情况属实，已督促整改到位",
                               accepted_on=self.today, today=self.today)
            elif step in (2, 4):
                ratings.rectify(case, rectification="已当面致歉并安排专人一次性办结",
                                rectified_on=self.today, today=self.today)
            if step == 4 and case.rating is not None and index % 2:
                ratings.rate(links[case.project_id], case.rating.milestone_id,
                             dict.fromkeys(DIMENSIONS, 5), "整改后很满意", today=self.today,
                             calendar=self.calendar)  # the enterprise rates again: closed
            elif step == 4:
                ratings.close_by_phone(case, note="企业电话回访表示满意")
        months, day = [], self.today
        for _ in range(6):  # the samples of the last six months
            months.append(callbacks.previous_month(day))
            day = dt.date.fromisoformat(months[-1] + "-01")
        self.counts["callback_items"] = sum(callbacks.draw(m) for m in months)
        items = db.session.scalars(select(CallbackItem).where(CallbackItem.month != months[0])
                                   .order_by(CallbackItem.id)).all()
        for item in items:  # the surveyor has called the older months; last month's are to do
            ratings.record_callback(item, {d: rng.choice((4, 5, 5)) for d in DIMENSIONS},
                                    "电话回访：对代办服务满意", today=self.today,
                                    calendar=self.calendar)
        self.counts["ratings"] = count
        self.counts["satisfaction_cases"] = len(cases)

    def mark_parallel_starts(self) -> None:
        """Started milestones whose dependencies are still open were accepted in parallel
        anyway (容缺受理): say why, as an agent would have."""
        db.session.flush()
        waiting = aliased(Milestone)
        started = db.session.scalars(
            select(Milestone).join(MilestoneDependency, MilestoneDependency.milestone_id == Milestone.id)
            .join(waiting, waiting.id == MilestoneDependency.requires_id)
            .where(Milestone.status.in_(("running", "paused", "done")),
                   waiting.status.in_(("pending", "running", "paused"))).distinct())
        for milestone in started:
            milestone.parallel_reason = self.rng.choice(data.PARALLEL_REASONS)

    def mark_joint_reviews(self) -> None:
        """施工图审查 and 消防设计审查 still open on a project are handled jointly (联合审图,
        one window, one 45-working-day cap)."""
        db.session.flush()
        open_reviews = db.session.execute(
            select(Milestone.project_id, Milestone.id).join(ApprovalItem)
            .where(ApprovalItem.code.in_(("drawing_review", "fire_design_review")),
                   Milestone.status.in_(("pending", "running", "paused")))
            .order_by(Milestone.project_id, Milestone.id)).all()
        by_project: dict[int, list[int]] = {}
        for project_id, milestone_id in open_reviews:
            by_project.setdefault(project_id, []).append(milestone_id)
        joints = 0
        for project_id, ids in by_project.items():
            if len(ids) < 2:
                continue
            joint = JointHandling(project_id=project_id, name="施工图联合审查",
                                  reason="施工图审查与消防设计审查一窗受理、联合审查")
            db.session.add(joint)
            db.session.flush()
            db.session.execute(update(Milestone).where(Milestone.id.in_(ids))
                               .values(joint_id=joint.id))
            joints += 1
        self.counts["joint_handlings"] = joints

    def build_staff(self, parks: list[Park]) -> list[Staff]:
        staff = []
        for index, park in enumerate(parks):
            consultants = 2 if park.weight >= 4 else 1
            agents = 4 if park.weight >= 5 else 3 if park.weight >= 3 else 2
            for kind, count, titles, capacity in (("consultant", consultants, data.TITLES_CONSULTANT, 14),
                                                   ("agent", agents, data.TITLES_AGENT, 8)):
                for _ in range(count):
                    person = Staff(name=self.person_name(), kind=kind, phone=self.phone(),
                                   title=self.rng.choice(titles), capacity=capacity, active=True)
                    person.parks = [park]
                    staff.append(person)
            if index % 3 == 0 and index + 1 < len(parks):
                # A consultant who serves the next park too (a shared expert).
                staff[-consultants - agents].parks.append(parks[index + 1])
        # One agent on leave, one deactivated: the rule must skip both.
        staff[5].on_leave_until = self.today + dt.timedelta(days=10)
        staff[12].active = False
        db.session.add_all(staff)
        db.session.flush()
        self.counts["staff"] = len(staff)
        return staff

    def build_users(self, parks: list[Park], staff: list[Staff]) -> None:
        home = parks[0]
        consultant = next(s for s in staff if s.kind == "consultant" and home in s.parks)
        agent = next(s for s in staff if s.kind == "agent" and home in s.parks and s.active
                     and not s.on_leave(self.today))
        for username, display, role, _ in DEMO_LOGINS:
            linked = consultant if role == Role.CONSULTANT else agent if role == Role.AGENT else None
            user = create_user(username, display or linked.name, role, DEMO_PASSWORD,
                               staff=linked, parks=[home] if role == Role.PARK_MANAGER else [])
            # Email alerts reach the demo logins once a mail server is configured (README).
            user.email = f"{username}@demo.daiban.example.cn"
        # Managers for the other parks, so every park has one.
        for number, park in enumerate(parks[1:], start=2):
            create_user(f"manager{number}", self.person_name(), Role.PARK_MANAGER, DEMO_PASSWORD,
                        parks=[park])
        self.counts["users"] = len(DEMO_LOGINS) + len(parks) - 1

    def build_projects(self, parks: list[Park]) -> None:
        rng = self.rng
        weights = [p.weight for p in parks]
        self.pools = Pools()
        stages = [stage for stage, n in STAGE_COUNTS.items() for _ in range(n)]
        rng.shuffle(stages)
        serial = 10000
        now = utcnow()
        logs = 0
        home_projects = 0
        for number, stage in enumerate(stages):
            park = rng.choices(parks, weights)[0]
            # The demo agent's park gets a steady share, so every demo login has work to see.
            if home_projects < 14 and number % 8 == 0:
                park = parks[0]
            if park is parks[0]:
                home_projects += 1
            industry = rng.choice(list(data.INDUSTRY_PROJECTS))
            words, templates = data.INDUSTRY_PROJECTS[industry]
            company = (rng.choice(data.COMPANY_PREFIXES) + rng.choice(words)
                       + rng.choice(data.COMPANY_SUFFIXES))
            name = rng.choice(templates).format(n=rng.choice((2, 3, 5, 8, 10, 20, 30, 50)))
            investment = rng.choice((10000, 12000, 15000, 20000, 30000, 50000, 80000, 100000,
                                     150000, 200000, 300000, 500000)) + rng.randrange(0, 5) * 1000
            investment = min(investment, 500000)
            status = ProjectStatus.ACTIVE
            if number % 23 == 7:
                status = ProjectStatus.ON_HOLD
            elif number % 31 == 11:
                status = ProjectStatus.DROPPED
            created_days_ago = {Stage.NEGOTIATING: 30, Stage.SIGNED: 60, Stage.FILING: 90,
                                Stage.LAND: 150, Stage.PLANNING: 220, Stage.PERMITTING: 280,
                                Stage.APPROVED: 360}[stage] + rng.randrange(0, 40)
            created_at = now - dt.timedelta(days=created_days_ago)
            division = park.district.code
            credit = make_credit_code("91" + division + "".join(
                rng.choice(USCC_CHARSET[:10] + "MA") for _ in range(9)))
            project = Project(
                name=f"{company[:-4] if company.endswith('有限公司') else company}{name}",
                investor_name=company, investor_credit_code=credit, investment=investment,
                industry=industry, park=park, stage=stage.value, status=status.value,
                approval_mode=(ApprovalMode.VERIFICATION if number % 9 == 0 else ApprovalMode.FILING).value,
                eia_category=rng.choice((EiaCategory.REPORT_FORM, EiaCategory.REPORT_FORM,
                                         EiaCategory.REPORT_BOOK, EiaCategory.REGISTRATION)).value,
                description=f"{company}投资建设{name.removesuffix('项目')}，总投资约{investment / 10000:.1f}亿元。",
                contact_name=self.person_name(), contact_phone=self.phone(),
                created_at=created_at, stage_changed_at=now - dt.timedelta(days=rng.randrange(3, 40)),
            )
            if stage.order >= Stage.SIGNED.order:
                project.signed_on = (created_at + dt.timedelta(days=20)).date()
            if stage.order >= Stage.LAND.order or (stage == Stage.FILING and number % 2):
                serial += rng.randrange(1, 40)
                yymm = project.signed_on.strftime("%y%m")
                project.code = make_project_code(yymm, division, rng.choice(("89", "34", "36", "26")),
                                                 rng.choice(("01", "02", "03")), f"{serial:05d}"[-5:])
            db.session.add(project)
            db.session.flush()
            db.session.add(StageChange(project_id=project.id, from_stage=None, to_stage=stage.value,
                                       automatic=True, changed_at=created_at,
                                       reason="演示数据导入"))
            if stage.order >= Stage.SIGNED.order:
                self.fill_plan(project, stage)
            if status != ProjectStatus.DROPPED:
                self.assign(project, number)
            logs += self.add_logs(project, stage)
        self.counts["projects"] = len(stages)
        self.counts["progress_logs"] = logs

    def assign(self, project: Project, number: int) -> None:
        """The assignment rule, as for a new project; a few wait in the unassigned queue."""
        if number % 40 == 39:
            return
        auto_assign(project, pools=self.pools, today=self.today)

    def fill_plan(self, project: Project, stage: Stage) -> None:
        """Milestones in states that fit the project's stage, with real deadlines."""
        rng = self.rng
        milestones = create_plan(project)
        done_until = self.workdays_ago(rng.randrange(5, 25))
        cursor = self.workdays_ago(rng.randrange(120, 200))
        for m in milestones:
            m_stage = Stage(m.stage)
            if m_stage.order < stage.order or stage == Stage.APPROVED:
                if rng.random() < 0.05 and not m.required:
                    m.status = MilestoneStatus.WAIVED.value
                    m.waive_reason = "经部门确认，本项目无需办理"
                    continue
                self.finish(m, cursor, done_until)
                cursor = m.completed_on
            elif m_stage == stage:
                self.current(m, project)
            # later stages stay pending

    def finish(self, m, start_after: dt.date, latest: dt.date) -> None:
        rng = self.rng
        accepted = min(self.calendar.add_workdays(start_after, rng.randrange(1, 6)), latest)
        m.accepted_on = accepted
        m.status = MilestoneStatus.RUNNING.value
        pauses = []
        if rng.random() < 0.2:
            p = self.calendar.add_workdays(accepted, 1)
            r = self.calendar.add_workdays(p, rng.randrange(1, 6))
            pauses.append((p, r))
            m.pauses.append(MilestonePause(paused_on=p, resumed_on=r, reason_code="supplement",
                                           note="企业补正材料"))
        due = sla.due_date(accepted, m.limit_value, m.limit_unit, pauses, self.calendar)
        m.due_on = due
        m.due_provisional = self.calendar.range_provisional(accepted, due)
        # Most are finished early (time saved); about one in eight late.
        span = self.calendar.workdays_between(accepted, due)
        used = max(1, span - rng.randrange(0, max(span, 1))) if rng.random() > 0.12 else span + rng.randrange(1, 4)
        completed = self.calendar.add_workdays(accepted, used)
        if pauses:
            completed = max(completed, pauses[-1][1])
        completed = min(completed, self.today)
        m.completed_on = max(completed, accepted)
        m.status = MilestoneStatus.DONE.value
        m.outcome = "met" if m.completed_on <= due else "missed"
        m.workdays_used = sla.workdays_used(accepted, m.completed_on, pauses, self.calendar)
        m.approval_doc_no = f"通审批〔{m.completed_on.year}〕{rng.randrange(100, 999)}号"
        m.issuing_department = m.department

    def current(self, m, project) -> None:
        """A milestone of the current stage: running (on track, due soon, overdue), paused,
        done or not started yet."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.2:
            return  # pending
        limit_wd = sla.limit_in_workdays(self.today, m.limit_value, m.limit_unit, self.calendar)
        if roll < 0.35:
            ago = limit_wd + rng.randrange(1, 6)  # overdue
        elif roll < 0.5:
            ago = max(limit_wd - rng.randrange(0, 2), 1)  # due soon
        else:
            ago = rng.randrange(1, max(limit_wd - 2, 2))  # on track
        accepted = self.workdays_ago(ago)
        m.accepted_on = accepted
        m.status = MilestoneStatus.RUNNING.value
        if roll > 0.9:
            paused_on = self.workdays_ago(max(ago // 2, 1))
            if paused_on > accepted:
                m.pauses.append(MilestonePause(paused_on=paused_on, resumed_on=None,
                                               reason_code=rng.choice(("supplement", "expert_review", "testing")),
                                               document_ref=f"补正通知〔{paused_on.year}〕{rng.randrange(10, 99)}号"))
                m.status = MilestoneStatus.PAUSED.value
        facts = sla.schedule(accepted, m.limit_value, m.limit_unit,
                             [(p.paused_on, p.resumed_on) for p in m.pauses], self.calendar)
        m.due_on, m.due_provisional, m.remaining_workdays = (
            facts.due_on, facts.provisional, facts.remaining_frozen)

    def add_logs(self, project: Project, stage: Stage) -> int:
        rng = self.rng
        count = 0 if stage == Stage.NEGOTIATING and rng.random() < 0.5 else rng.randrange(2, 8)
        kinds = ["visit", "call", "materials", "coordination"]
        now = utcnow()
        open_blocker = project.status == ProjectStatus.ACTIVE and rng.random() < 0.25
        for i in range(count):
            kind = rng.choice(kinds)
            days_ago = (count - i) * rng.randrange(2, 9)
            happened = self.today - dt.timedelta(days=days_ago)
            db.session.add(ProgressLog(
                project=project, park_id=project.park_id, kind=kind, happened_on=happened,
                hours=rng.choice((0.5, 1, 1.5, 2, 3, 4)), text=rng.choice(data.LOG_TEXTS[kind]),
                created_at=now - dt.timedelta(days=days_ago, hours=rng.randrange(0, 8)),
            ))
        if count and rng.random() < 0.3:
            # A blocker that was resolved.
            blocked = self.today - dt.timedelta(days=rng.randrange(20, 40))
            blocker = ProgressLog(project=project, park_id=project.park_id, kind="blocker",
                                  happened_on=blocked, text=rng.choice(data.LOG_TEXTS["blocker"]),
                                  created_at=now - dt.timedelta(days=(self.today - blocked).days))
            resolution = ProgressLog(project=project, park_id=project.park_id, kind="resolution",
                                     happened_on=blocked + dt.timedelta(days=7),
                                     text=rng.choice(data.LOG_TEXTS["resolution"]),
                                     created_at=now - dt.timedelta(days=(self.today - blocked).days - 7))
            db.session.add_all([blocker, resolution])
            db.session.flush()
            blocker.resolved_at = resolution.created_at
            blocker.resolved_by_log_id = resolution.id
            blocker.resolution_note = resolution.text
            count += 2
        if open_blocker:
            db.session.add(ProgressLog(project=project, park_id=project.park_id, kind="blocker",
                                       happened_on=self.today - dt.timedelta(days=rng.randrange(1, 15)),
                                       text=rng.choice(data.LOG_TEXTS["blocker"]),
                                       created_at=now - dt.timedelta(days=rng.randrange(1, 15))))
            count += 1
        return count
