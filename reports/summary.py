"""The leadership summary (汇总报告) of the city or one park over a period."""

from __future__ import annotations

import io

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Spacer, Table

from reports.data import Summary
from reports.styles import (
    ACCENT, FONT, MUTED, STATE_COLORS, axis_fonts, build_pdf, content_width, grid_style, iso,
    nice_step, para, pct, section, side_labels, yi,
)
from reports.text import SUMMARY as T

MET_COLOR = STATE_COLORS["met"]


def build_summary(summary: Summary) -> bytes:
    """The summary PDF."""
    period = T["period_value"].format(start=iso(summary.period_start), end=iso(summary.period_end))
    story = [
        para(T["title"], "title"),
        para(f"{T['scope']}：{summary.scope_label}", "subtitle_line"),
        para(f"{T['period']}：{period}", "subtitle_line"),
        para(f"{T['generated_at']}：{summary.generated_at:%Y-%m-%d %H:%M}", "subtitle"),
        para(T["snapshot_note"], "small"),
        *section(T["section_figures"]),
        _figures(summary),
        KeepTogether([*section(T["section_stages"]), _stage_chart(summary)]),
        KeepTogether([*section(T["section_compliance"]), *_compliance(summary)]),
        *section(T["section_overdue"]),
        *_overdue(summary),
        *section(T["section_blockers"]),
        *_blockers(summary),
        *section(T["section_workload"]),
        *_workload(summary),
    ]
    buffer = io.BytesIO()
    build_pdf(
        buffer, story, title=f"{T['title']} {summary.scope_label}", subject=period,
        header_left=f"{T['header']} · {summary.scope_label}", header_right=period,
        footer_left=f"{T['footer']}　{summary.generated_at:%Y-%m-%d %H:%M}", page_label=T["page"],
    )
    return buffer.getvalue()


def _margin(value: float | None) -> str:
    if value is None:
        return T["not_applicable"]
    return T["days_unit"].format(n=f"{value:+.1f}".replace("-", "−"))


def _figures(summary: Summary) -> Table:
    f = summary.figures
    items = [
        (T["active_projects"], T["projects_unit"].format(n=f"{f.active_projects:,}")),
        (T["total_investment"], T["yi_unit"].format(yi=yi(f.total_investment_wan))),
        (T["compliance"], pct(f.compliance_pct, T["not_applicable"])),
        (T["saved"], T["days_unit"].format(n=f"{f.workdays_saved:,}")),
        (T["met"], f"{f.milestones_met:,}"),
        (T["missed"], f"{f.milestones_missed:,}"),
        (T["extended"], f"{f.milestones_extended:,}"),
        (T["overdue"], f"{f.milestones_overdue:,}"),
        (T["promises_at_risk"], f"{f.promises_at_risk:,}"),
        (T["promises_overdue"], f"{f.promises_overdue:,}"),
        (T["promise_margin"], _margin(f.promise_margin_avg)),
        (T["satisfaction"].format(n=f"{f.ratings:,}"), pct(f.satisfaction_pct, T["not_applicable"])),
        (T["cases_late"], f"{f.cases_late:,}"),
        *((T["dimension_satisfaction"].format(name=name),
           pct(100.0 * count / f.ratings if f.ratings else None, T["not_applicable"]))
          for name, count in zip(T["dimensions"], f.satisfied_by_dimension)),
    ]
    columns = 4  # rows: projects and time saved; milestones; promises; satisfaction
    cells = [[para(value, "figure"), para(label, "figure_label")] for label, value in items]
    cells += [""] * (-len(cells) % columns)
    rows = [cells[i:i + columns] for i in range(0, len(cells), columns)]
    w = content_width() / columns
    table = Table(rows, colWidths=[w] * columns)
    table.setStyle(grid_style(header_rows=0, zebra=False, extra=[
        ("TOPPADDING", (0, 0), (-1, -1), 6), ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
        ("LEFTPADDING", (0, 0), (-1, -1), 8), ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    return table


def _stage_chart(summary: Summary) -> Drawing:
    width, height = content_width(), 62 * mm
    drawing = Drawing(width, height)
    chart = VerticalBarChart()
    chart.x, chart.y = 12 * mm, 12 * mm
    chart.width, chart.height = width - 16 * mm, height - 18 * mm
    values = [c.value for c in summary.stages] or [0]
    chart.data = [values]
    chart.categoryAxis.categoryNames = [c.label for c in summary.stages] or [""]
    chart.valueAxis.valueMin = 0
    step = nice_step(max(values) * 1.1)
    chart.valueAxis.valueStep = step
    chart.valueAxis.valueMax = step * max(1, -(-max(values) * 1.1 // step))
    chart.bars[0].fillColor = ACCENT
    chart.bars[0].strokeColor = None
    chart.barLabelFormat = "%d"
    chart.barLabels.fontName = FONT
    chart.barLabels.fontSize = 8
    chart.barLabels.nudge = 6
    axis_fonts(chart)
    drawing.add(chart)
    return drawing


def _compliance(summary: Summary) -> list:
    rows = [r for r in summary.compliance if r.pct is not None]
    if not rows:
        return [para(T["no_completed"], "small")]
    title = T["compliance_by_park"] if summary.compliance_by == "park" else T["compliance_by_item"]
    width = content_width()
    bar_height = 7 * mm
    height = len(rows) * bar_height + 20 * mm
    drawing = Drawing(width, height)
    drawing.add(String(0, height - 5 * mm, title, fontName=FONT, fontSize=9, fillColor=MUTED))
    chart = HorizontalBarChart()
    label_width = 48 * mm
    chart.x, chart.y = label_width, 8 * mm
    chart.width, chart.height = width - label_width - 14 * mm, len(rows) * bar_height
    # Bars are drawn bottom-up; reverse so the first row is at the top.
    ordered = list(reversed(rows))
    chart.data = [[round(r.pct, 1) for r in ordered]]
    chart.categoryAxis.categoryNames = [_short(r.label, 16) for r in ordered]
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = 100
    chart.valueAxis.valueStep = 20
    chart.bars[0].fillColor = MET_COLOR
    chart.bars[0].strokeColor = None
    side_labels(chart)
    axis_fonts(chart)
    drawing.add(chart)
    return [drawing]


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _more(total: int | None, shown: int) -> list:
    if total is not None and total > shown:
        return [Spacer(1, 1.5 * mm), para(T["more_rows"].format(n=total - shown), "small")]
    return []


def _table(keys: tuple[str, ...], rows: list[list], widths: list[float], shown: int,
           total: int | None) -> list:
    """A ranked list: numbered rows under a header row repeated on every page, rows never
    split, and a note counting the rows not listed."""
    w = content_width()
    head = [para(T[k], "head") for k in ("seq", *keys)]
    numbered = [[para(str(n), "cell_center"), *row] for n, row in enumerate(rows, start=1)]
    table = Table([head, *numbered], colWidths=[w * f for f in widths], repeatRows=1,
                  splitByRow=1)
    table.setStyle(grid_style())
    return [table, *_more(total, shown)]


def _overdue(summary: Summary) -> list:
    if not summary.overdue:
        return [para(T["no_overdue"], "small")]
    rows = [[para(r.project_name, "cell"), para(r.park_name, "cell"), para(r.item_name, "cell"),
             para(iso(r.due_on), "cell"),
             para(str(r.workdays_overdue), "cell_right", STATE_COLORS["overdue"]),
             para(r.owner_name or "—", "cell")] for r in summary.overdue]
    return _table(("project", "park", "item", "due_on", "workdays_overdue", "owner"), rows,
                  [0.06, 0.25, 0.16, 0.19, 0.12, 0.1, 0.12], len(rows), summary.overdue_total)


def _blockers(summary: Summary) -> list:
    if not summary.blockers:
        return [para(T["no_blockers"], "small")]
    rows = [[para(r.project_name, "cell"), para(r.park_name, "cell"),
             para(iso(r.raised_on), "cell"), para(str(r.calendar_days_open), "cell_right"),
             para(r.text, "cell")] for r in summary.blockers]
    return _table(("project", "park", "raised_on", "calendar_days_open", "blocker_text"), rows,
                  [0.06, 0.2, 0.14, 0.12, 0.1, 0.38], len(rows), summary.blockers_total)


def _load_color(load_pct: float):
    if load_pct > 100:
        return STATE_COLORS["overdue"]
    return STATE_COLORS["due_soon"] if load_pct >= 90 else None


def _workload(summary: Summary) -> list:
    if not summary.workload:
        return [para(T["no_staff"], "small")]
    rows = [[para(r.name, "cell"), para(r.kind_label, "cell"), para("、".join(r.parks), "cell"),
             para(str(r.active_projects), "cell_right"), para(str(r.capacity), "cell_right"),
             para(pct(r.load_pct), "cell_right", _load_color(r.load_pct)),
             para(str(r.overdue), "cell_right")] for r in summary.workload]
    return _table(("staff_name", "staff_kind", "staff_parks", "active_load", "capacity", "load",
                   "staff_overdue"), rows, [0.06, 0.14, 0.16, 0.25, 0.1, 0.08, 0.11, 0.1],
                  len(rows), summary.workload_total)
