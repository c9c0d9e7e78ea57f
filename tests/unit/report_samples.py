"""Sample data for the PDF builders (plain dataclasses, no application)."""

from __future__ import annotations

import datetime as dt

from reports import (
    BlockerRow, ComplianceRow, Count, KeyFigures, OverdueRow, Person, PlanItem, ServiceOrder,
    Summary, WorkloadRow,
)

HOSTILE = '<font color="red">红字</font> & <img src="/etc/passwd"/> <para>x</para>'

ITEMS = [
    ("项目备案", "区行政审批局", 1, "working"),
    ("用地预审与选址意见书", "市自然资源和规划局", 20, "working"),
    ("建设用地规划许可证", "市自然资源和规划局", 20, "working"),
    ("不动产权证", "市不动产登记中心", 5, "working"),
    ("环评审批", "市生态环境局", 30, "working"),
    ("节能审查", "市发展和改革委员会", 1, "working"),
    ("建设工程规划许可证", "市自然资源和规划局", 20, "working"),
    ("施工图审查", "施工图审查机构", 15, "working"),
    ("消防设计审查", "市住房和城乡建设局", 15, "working"),
    ("施工许可证", "区行政审批局", 7, "calendar"),
]

STATES = [
    ("done", "met", "按时办结"), ("done", "missed", "超时办结"), ("running", "on_track", "正常"),
    ("running", "due_soon", "即将到期"), ("running", "overdue", "已逾期"),
    ("paused", "paused", "暂停计时"), ("pending", "pending", "未开始"), ("waived", "waived", "免办"),
]


def plan(count: int = len(ITEMS), start: dt.date = dt.date(2026, 3, 2)) -> tuple[PlanItem, ...]:
    items = []
    for n in range(count):
        name, department, limit, unit = ITEMS[n % len(ITEMS)]
        if n >= len(ITEMS):
            name = f"{name}（第{n // len(ITEMS) + 1}批）"
        status, state, label = STATES[n % len(STATES)]
        accepted = start + dt.timedelta(days=3 * n) if status != "pending" else None
        due = accepted + dt.timedelta(days=limit + 8) if accepted and status != "paused" else None
        items.append(PlanItem(
            name=name, department=department, limit_value=limit, limit_unit=unit,
            accepted_on=accepted, due_on=due, due_provisional=(due is not None and n % 4 == 2),
            status=status, state=state, state_label=label,
            remaining_workdays=7 if status == "paused" else None,
            completed_on=due if status == "done" else None,
        ))
    return tuple(items)


def service_order(plan_items=None, **overrides) -> ServiceOrder:
    values = dict(
        order_number="FW-2026-000123", version=2, issued_on=dt.date(2026, 5, 12),
        park_name="南通经济技术开发区", project_name="南通新能源电池项目",
        project_code="2604-320671-89-01-000013", investor_name="江苏远景动力电池有限公司",
        investment_wan=356000, stage_label="用地", contact_name="周经理",
        contact_phone="13912345678", project_url="https://daiban.example.cn/projects/123",
        staff=(Person("首席审批服务咨询师", "张顾问", "13900000001"),
               Person("项目代办员", "李代办", "13900000002"),
               Person("协办代办员", "王代办", None)),
        plan=plan() if plan_items is None else plan_items,
        description="年产 20GWh 动力电池，新建厂房 12 万平方米。",
        generated_at=dt.datetime(2026, 5, 12, 10, 30),
    )
    values.update(overrides)
    return ServiceOrder(**values)


PARKS = ["南通经济技术开发区", "海安经济技术开发区", "如皋经济技术开发区", "通州湾江海联动开发示范区",
         "启东经济开发区", "海门经济技术开发区", "如东经济开发区", "南通高新技术产业开发区"]
STAGES = ["洽谈", "签约", "立项", "用地", "规划许可", "施工许可", "审批完成"]


def summary(rows: int = 12, **overrides) -> Summary:
    values = dict(
        scope_label="全市", period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 5, 12),
        generated_at=dt.datetime(2026, 5, 12, 10, 30),
        figures=KeyFigures(active_projects=312, total_investment_wan=48_765_000,
                           milestones_met=412, milestones_missed=23, milestones_overdue=17,
                           workdays_saved=3790),
        stages=tuple(Count(s, v) for s, v in zip(STAGES, [45, 38, 61, 72, 50, 31, 15])),
        compliance=tuple(ComplianceRow(p, 40 + 3 * i, i) for i, p in enumerate(PARKS)),
        overdue=tuple(OverdueRow(f"测试项目{i}", PARKS[i % len(PARKS)], ITEMS[i % 10][0],
                                 dt.date(2026, 4, 1) + dt.timedelta(days=i), 30 - i, f"代办员{i}")
                      for i in range(rows)),
        overdue_total=rows + 5,
        blockers=tuple(BlockerRow(f"测试项目{i}", PARKS[i % len(PARKS)], dt.date(2026, 3, 1),
                                  60 - i, "土地指标未落实，需市级协调。" * (1 + i % 3))
                       for i in range(rows)),
        blockers_total=rows,
        workload=tuple(WorkloadRow(f"代办员{i}", "项目代办员", (PARKS[i % len(PARKS)],), 9 - i % 7, 8,
                                   i % 3) for i in range(rows)),
        workload_total=rows,
    )
    values.update(overrides)
    return Summary(**values)
