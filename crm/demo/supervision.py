"""The demo's supervision: annual investment plans, two past monthly rounds of the main demo
park (closed, most projects reported, a few late or missing), the problems they raised with
departments (one escalated to the district, one resolved at a coordination meeting) and an
open round of the current month."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select

from crm.auth.models import User
from crm.extensions import db
from crm.milestones.calendar import WorkCalendar
from crm.parks.models import Park
from crm.projects.models import Project, ProjectStatus, Stage
from crm.supervision.models import InvestmentPlan, ProblemLevel, RoundReport
from crm.supervision.services import problems, rounds

DEMO_PARK = "南通经济技术开发区"
PROGRESS = ("完成用地预审材料报送，等待自然资源和规划局审查。", "环评报告表已受理，正在技术评估。",
            "施工图审查意见已回复，准备提交消防设计审查。", "与园区规划建设局对接设计方案，完成两轮修改。",
            "节能报告已通过专家评审，等待出具审查意见。", "项目备案完成，正在办理用地手续。")
NEXT_STEPS = ("跟进审批进度，协调尽快出具意见。", "准备下一环节申报材料。", "组织企业与部门现场对接。")
PROBLEMS = (("用地指标尚未落实，需调剂年度新增建设用地指标。", "自然资源和规划局"),
            ("环评总量指标来源未确定，需生态环境局协调。", "生态环境局"),
            ("施工图审查机构排期紧张，需住建部门协调加快。", "住房和城乡建设局（施工图审查机构）"))


def build(today: dt.date, calendar: WorkCalendar, rng: random.Random) -> dict:
    park = db.session.scalar(select(Park).where(Park.name == DEMO_PARK))
    manager = db.session.scalar(select(User).where(User.username == "manager"))
    if park is None or manager is None:
        return {}
    projects = db.session.scalars(select(Project).where(
        Project.park_id == park.id, Project.status == ProjectStatus.ACTIVE.value)
        .order_by(Project.id)).all()
    everything = db.session.scalars(select(Project).order_by(Project.id)).all()
    for project in everything:
        share = rng.choice((0.2, 0.3, 0.4))
        db.session.add(InvestmentPlan(project_id=project.id, year=today.year,
                                      planned=int(project.investment * share)))
    db.session.flush()
    counts = {"investment_plans": len(everything), "rounds": 0, "problems": 0}
    month_start = today.replace(day=1)
    previous_end = month_start - dt.timedelta(days=1)
    earlier_end = previous_end.replace(day=1) - dt.timedelta(days=1)
    raised = []
    for number, period_end in enumerate((earlier_end, previous_end)):
        period_start = period_end.replace(day=1)
        opened = calendar.next_workday(period_end - dt.timedelta(days=6))
        round_ = rounds.open_round(
            user=manager, title=f"{period_end.year}年{period_end.month}月重大项目调度",
            cadence="monthly", period_start=period_start, period_end=period_end,
            due_on=calendar.add_workdays(opened, 5), park_id=park.id, today=opened,
            calendar=calendar)
        reports = db.session.scalars(select(RoundReport).where(
            RoundReport.round_id == round_.id).order_by(RoundReport.id)).all()
        for index, report in enumerate(reports):
            if rng.random() < 0.12:
                continue  # not reported
            late = rng.random() < 0.1
            filed = calendar.add_workdays(round_.due_on, 1) if late else \
                calendar.add_workdays(opened, rng.randint(1, 5))
            stage = Stage(report.stage_at_open)
            problem = PROBLEMS[index % len(PROBLEMS)] if index % 7 == 3 else (None, None)
            rounds.submit_report(
                report, user=manager, progress=rng.choice(PROGRESS),
                next_steps=rng.choice(NEXT_STEPS),
                investment_completed=int(report.project.investment * rng.choice((0.02, 0.03, 0.05))),
                stage_reached=stage.value, problem_text=problem[0],
                problem_department=problem[1], today=filed, calendar=calendar)
        rounds.close_round(round_, user=manager)
        counts["rounds"] += 1
    from crm.supervision.models import Problem

    raised = db.session.scalars(select(Problem).order_by(Problem.id)).all()
    counts["problems"] = len(raised)
    if raised:
        # The first went past its due date and up to the district.
        first = raised[0]
        first.level = ProblemLevel.DISTRICT.value
        first.escalated_on = calendar.add_workdays(first.raised_on, 11)
        first.due_on = calendar.add_workdays(first.escalated_on, 15)
    if len(raised) > 1:
        problems.record_meeting(
            user=manager, park_id=park.id, held_on=calendar.add_workdays(raised[1].raised_on, 3),
            title="重大项目要素保障协调会", attendees="园区管委会、生态环境局、自然资源和规划局、项目企业",
            decisions="生态环境局牵头落实总量指标来源，两周内出具意见。", problem_ids=[raised[1].id],
            resolve_problems=True, today=today)
    rounds.open_round(
        user=manager, title=f"{today.year}年{today.month}月重大项目调度", cadence="monthly",
        period_start=month_start, period_end=today, due_on=calendar.add_workdays(today, 5),
        park_id=park.id, today=today, calendar=calendar)
    counts["rounds"] += 1
    counts["approval_documents"] = _approval_document(park, manager)
    db.session.flush()
    return counts


def _approval_document(park: Park, manager: User) -> int:
    """The scanned approval document (批文) of the park's latest issued milestone, as the
    completion evidence a park manager opens from the project page."""
    from crm.attachments import owners, services as attachments
    from crm.milestones.models import Milestone

    milestone = db.session.scalar(
        select(Milestone).join(Project, Project.id == Milestone.project_id)
        .where(Project.park_id == park.id, Milestone.status == "done",
               Milestone.approval_doc_no.is_not(None))
        .order_by(Milestone.completed_on.desc(), Milestone.id.desc()).limit(1))
    if milestone is None:
        return 0
    attachments.attach(owners.resolve("milestone", milestone.id),
                       data=_document_pdf(milestone), filename=f"{milestone.name}批文.pdf",
                       purpose="approval_document", actor_id=manager.id)
    return 1


def _document_pdf(milestone) -> bytes:
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from reports.styles import register_font

    font = register_font()
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    width, height = A4
    page.setFont(font, 22)
    page.drawCentredString(width / 2, height - 120, milestone.name)
    page.setFont(font, 12)
    lines = (f"文号：{milestone.approval_doc_no}", f"发证机关：{milestone.issuing_department or ''}",
             f"办结日期：{milestone.completed_on.isoformat()}", "（演示数据）")
    for number, line in enumerate(lines):
        page.drawString(90, height - 190 - 26 * number, line)
    page.showPage()
    page.save()
    return buffer.getvalue()
