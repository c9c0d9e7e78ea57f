"""The PDF builders: plain data in, a Chinese PDF out whose text can be extracted."""

from __future__ import annotations

import io
import re
from dataclasses import replace

import pytest
from pypdf import PdfReader

from reports import build_service_order, build_summary
from reports.styles import esc, nice_step
from tests.unit import report_samples as samples


def pages_text(pdf: bytes) -> list[str]:
    """The text of each page with all whitespace removed (CJK wrapping breaks lines anywhere)."""
    reader = PdfReader(io.BytesIO(pdf))
    return [re.sub(r"\s+", "", page.extract_text()) for page in reader.pages]


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def order_pdf() -> bytes:
    return build_service_order(samples.service_order())


def test_service_order_is_an_a4_pdf_with_an_embedded_font(order_pdf):
    assert order_pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(order_pdf))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    for page in reader.pages:
        fonts = {name: f.get_object() for name, f in page["/Resources"]["/Font"].items()}
        cjk = {n: f for n, f in fonts.items() if "WenQuanYiMicroHei" in str(f["/BaseFont"])}
        assert cjk and all("/FontFile2" in f["/FontDescriptor"] for f in cjk.values())
        # Other fonts (ReportLab's Helvetica default) are selected but never draw any text.
        content = page.get_contents().get_data().decode("latin-1")
        for name in set(fonts) - set(cjk):
            uses = content.count(f"{name} ")
            empty = len(re.findall(rf"BT {name} [\d.]+ Tf [\d.]+ TL ET", content))
            assert uses == empty, f"text drawn in the non-embedded font {name}"


def test_service_order_shows_project_staff_and_every_milestone_in_chinese(order_pdf):
    text = "".join(pages_text(order_pdf))
    order = samples.service_order()
    for expected in (order.project_name, order.investor_name, order.project_code,
                     order.order_number, "第2版", "2026年5月12日", order.park_name,
                     "35.6亿元", "周经理", "13912345678", "用地"):
        assert squash(expected) in text
    for person in order.staff:
        assert person.name in text
        assert person.role in text
    for phone in ("13900000001", "13900000002"):
        assert phone in text
    for item in order.plan:
        assert squash(item.name) in text
        assert squash(item.department) in text
    for heading in ("审批事项", "办结时限", "服务承诺", "企业（盖章）", "项目代办员", "园区（盖章）"):
        assert heading in text


def test_service_order_marks_provisional_due_dates_and_states(order_pdf):
    text = "".join(pages_text(order_pdf))
    order = samples.service_order()
    provisional = [i for i in order.plan if i.due_provisional and i.due_on]
    assert provisional
    for item in provisional:
        assert f"{item.due_on.isoformat()}*" in text
    assert "暂定日期" in text
    assert "剩余7个工作日" in text  # a paused milestone shows its frozen remaining days
    for label in ("按时办结", "超时办结", "已逾期", "即将到期", "未开始"):
        assert label in text


def test_every_page_has_the_header_footer_and_page_x_of_y(order_pdf):
    texts = pages_text(order_pdf)
    assert len(texts) >= 2
    for number, text in enumerate(texts, start=1):
        assert f"第{number}页/共{len(texts)}页" in text
        assert "FW-2026-000123" in text  # header
        assert "本服务单由代办服务系统生成" in text  # footer


def test_hostile_user_text_is_printed_literally_not_interpreted():
    order = samples.service_order(
        project_name=samples.HOSTILE, description=samples.HOSTILE, investor_name=samples.HOSTILE,
        staff=(samples.Person("项目代办员", samples.HOSTILE, None),),
        plan_items=(replace(samples.plan(1)[0], name=samples.HOSTILE,
                            department=samples.HOSTILE),),
    )
    text = "".join(pages_text(build_service_order(order)))
    assert text.count(squash('<font color="red">红字</font>')) >= 5
    assert text.count(squash('<img src="/etc/passwd"/>')) >= 5
    assert squash("<para>x</para>") in text


def test_escaping_turns_markup_into_text():
    assert esc('<font color="red">a</font> & <img src="/etc/passwd"/>') == (
        '&lt;font color="red"&gt;a&lt;/font&gt; &amp; &lt;img src="/etc/passwd"/&gt;')
    assert esc("第一行\n第二行\x00") == "第一行<br/>第二行"
    assert esc(None) == ""


def test_a_long_plan_flows_onto_more_pages_with_the_header_row_repeated():
    plan = samples.plan(70)
    pdf = build_service_order(samples.service_order(plan_items=plan))
    texts = pages_text(pdf)
    assert len(texts) >= 3
    plan_pages = [t for t in texts if "项目备案" in t or "施工许可证" in t]
    assert len(plan_pages) >= 2
    for text in plan_pages:
        assert "审批事项办理部门承诺时限受理日期办结时限状态" in text  # the repeated header row
    joined = "".join(texts)
    for item in plan:
        assert squash(item.name) in joined
    # Rows are never split: each numbered row's name sits on the same page as its number.
    for n, item in enumerate(plan, start=1):
        assert any(f"{n}{squash(item.name)}" in t for t in texts), (n, item.name)


def test_an_order_without_staff_or_plan_still_renders():
    pdf = build_service_order(samples.service_order(staff=(), plan_items=(), project_code=None,
                                                    contact_name=None, contact_phone=None,
                                                    description=None))
    text = "".join(pages_text(pdf))
    assert "尚未指派服务人员" in text
    assert "项目签约后生成审批事项计划" in text


def test_summary_shows_figures_lists_and_charts():
    summary = samples.summary()
    pdf = build_summary(summary)
    texts = pages_text(pdf)
    text = "".join(texts)
    for expected in ("重大项目代办服务汇总报告", "全市", "2026-01-01至2026-05-12", "312个",
                     "4,876.5亿元", "94.7%", "3,790个工作日", "按时办结节点", "412",
                     "超时办结节点", "23", "当前逾期节点", "17"):
        assert expected in text, expected
    for stage in samples.STAGES:
        assert stage in text  # chart axis labels are text too
    for park in samples.PARKS:
        assert park in text
    assert "各园区按时办结率" in text
    for row in summary.overdue:
        assert row.project_name in text
    assert "另有5条未列出" in text  # 17 overdue, 12 listed
    assert "土地指标未落实，需市级协调。" in text
    for row in summary.workload:
        assert row.name in text
    for number, page in enumerate(texts, start=1):
        assert f"第{number}页/共{len(texts)}页" in page


def test_summary_keeps_the_ranking_of_the_overdue_list():
    rows = samples.summary().overdue
    text = "".join(pages_text(build_summary(samples.summary())))
    section = text[text.index("四、逾期节点"):text.index("五、未解决堵点")]
    positions = [section.index(f"{n}{r.project_name}") for n, r in enumerate(rows, start=1)]
    assert positions == sorted(positions)
    assert [r.workdays_overdue for r in rows] == sorted((r.workdays_overdue for r in rows),
                                                        reverse=True)


def test_summary_escapes_hostile_blocker_text_and_handles_empty_sections():
    hostile = samples.summary(
        blockers=(samples.BlockerRow("项目X", "园区Y", samples.dt.date(2026, 4, 1), 41,
                                     samples.HOSTILE),),
        overdue=(), overdue_total=0, workload=(), compliance=(), stages=(),
    )
    text = "".join(pages_text(build_summary(hostile)))
    assert squash('<font color="red">红字</font>') in text
    assert squash('<img src="/etc/passwd"/>') in text
    assert "当前没有逾期节点" in text
    assert "统计期间内没有办结的节点" in text
    assert "范围内没有服务人员" in text


def test_a_park_summary_charts_compliance_per_item():
    park = samples.summary(scope_label="南通经济技术开发区", compliance_by="item",
                           compliance=(samples.ComplianceRow("环评审批", 9, 1),
                                       samples.ComplianceRow("施工许可证", 4, 0)))
    text = "".join(pages_text(build_summary(park)))
    assert "各审批事项按时办结率" in text
    assert "环评审批" in text and "90.0" in text and "100.0" in text


@pytest.mark.parametrize("top,step", [(0, 1), (4, 1), (10, 2), (72, 20), (150, 50), (480, 100)])
def test_axis_steps_are_round(top, step):
    assert nice_step(top) == step


def test_the_qr_code_carries_the_project_url():
    from reports.service_order import QR_SIZE, _qr_code

    url = "https://daiban.example.cn/projects/123"
    drawing = _qr_code(url)
    (widget,) = drawing.contents
    assert widget.value == url
    assert (widget.barWidth, widget.barHeight) == (QR_SIZE, QR_SIZE)
    widget.qr.make()
    assert widget.qr.getModuleCount() >= 21  # a real QR symbol (version 1 is 21 x 21)


def test_service_order_shows_dependencies_forecasts_and_the_whole_chain_promise():
    from reports import OrderPromise

    items = list(samples.plan(8))
    pending = next(i for i, item in enumerate(items) if item.status == "pending")
    items[pending] = replace(items[pending], needs=(items[0].name, samples.HOSTILE),
                             forecast_on=samples.dt.date(2026, 7, 1))
    order = samples.service_order(
        plan_items=tuple(items), forecast_on=samples.dt.date(2026, 8, 3),
        forecast_provisional=True,
        chain_promise=OrderPromise("一般工业项目全链条承诺", "项目备案", "施工许可证", 30,
                                   samples.dt.date(2026, 6, 15)))
    text = "".join(pages_text(build_service_order(order)))
    assert squash(f"前置：{items[0].name}、") in text
    assert squash('<font color="red">红字</font>') in text  # a hostile name, printed literally
    assert "预计2026-07-01" in text
    assert "预计全部审批完成：2026-08-03" in text and "（含暂定日期）" in text
    assert squash("全链条承诺（一般工业项目全链条承诺）：自项目备案办结起30个工作日内完成施工许可证。"
                  "承诺完成日期：2026-06-15。") in text
    # Not started: the clock starts with the first item; no forecast line without a forecast.
    plain = samples.service_order(chain_promise=OrderPromise("承诺", "项目备案", "施工许可证", 30))
    text = "".join(pages_text(build_service_order(plain)))
    assert "自项目备案办结之日起计时" in text and "预计全部审批完成" not in text


def test_summary_counts_extended_milestones_and_promises_on_their_own():
    s = samples.summary()
    s = replace(s, figures=replace(s.figures, milestones_extended=7, promises_at_risk=12,
                                   promises_overdue=3))
    text = pages_text(build_summary(s))[0]
    assert "7其中经批准延期办结" in text
    assert "12全链条承诺有风险项目" in text and "3全链条承诺已超期项目" in text


def test_summary_shows_forecast_vs_promise_signed_in_working_days():
    s = samples.summary()
    assert "—预测较承诺平均" in pages_text(build_summary(s))[0]  # no running promise
    behind = replace(s, figures=replace(s.figures, promises_running=12,
                                        promise_margin_workdays=-41))
    assert "−3.4个工作日预测较承诺平均" in pages_text(build_summary(behind))[0]
    ahead = replace(s, figures=replace(s.figures, promises_running=4, promise_margin_workdays=10))
    assert "+2.5个工作日预测较承诺平均" in pages_text(build_summary(ahead))[0]


def test_summary_shows_satisfaction_overall_and_per_dimension():
    s = samples.summary()
    rated = replace(s, figures=replace(s.figures, ratings=20, ratings_satisfied=90,
                                       satisfied_by_dimension=(20, 19, 15, 18, 18), cases_late=2))
    text = pages_text(build_summary(rated))[0]
    assert "90.0%企业满意率（20份评价）" in text and "2逾期未整改差评" in text
    assert "75.0%办事便利满意率" in text and "100.0%政务公开满意率" in text
    assert "办事便利满意率" not in pages_text(build_summary(s))[0]  # no ratings: no rows
