"""The supervision round report (调度报告): how many projects reported, the investment
completed against the annual plan per park, the problems waiting on each department and the
projects that did not report, compared with the previous round."""

from __future__ import annotations

import io

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Table

from reports.data import RoundParkRow, RoundReportData
from reports.styles import (
    ACCENT, FONT, MUTED, axis_fonts, build_pdf, content_width, grid_style, iso, para, pct, section,
    side_labels,
)
from reports.text import ROUND as T

MAX_CHART_PARKS = 30


def build_round_report(data: RoundReportData) -> bytes:
    period = T["period_value"].format(start=iso(data.period_start), end=iso(data.period_end))
    previous = data.previous_title or T["no_previous"]
    story = [
        para(T["title"], "title"),
        para(f"{T['round']}：{data.title}", "subtitle_line"),
        para(f"{T['scope']}：{data.scope_label}　{T['cadence']}：{data.cadence}",
             "subtitle_line"),
        para(f"{T['period']}：{period}　{T['due']}：{iso(data.due_on)}"
             f"　{T['closed']}：{iso(data.closed_on)}", "subtitle_line"),
        para(f"{T['previous']}：{previous}", "subtitle_line"),
        para(f"{T['generated_at']}：{data.generated_at:%Y-%m-%d %H:%M}", "subtitle"),
        *section(T["section_figures"]),
        _figures(data.total, data.year),
        *section(T["section_parks"]),
        _parks(data),
    ]
    chart = _completion_chart(data.parks)
    if chart is not None:
        story.append(KeepTogether([chart]))
    story += [*section(T["section_departments"]), *_departments(data),
              *section(T["section_missing"]), *_missing(data)]
    buffer = io.BytesIO()
    build_pdf(buffer, story, title=f"{T['title']} {data.title}", subject=period,
              header_left=f"{T['header']} · {data.scope_label}", header_right=period,
              footer_left=f"{T['footer']}　{data.generated_at:%Y-%m-%d %H:%M}",
              page_label=T["page"])
    return buffer.getvalue()


def _wan(value: int | None) -> str:
    return T["not_applicable"] if value is None else T["wan"].format(n=f"{value:,}")


def _figures(total: RoundParkRow, year: int) -> Table:
    reported_pct = 100.0 * total.reported / total.projects if total.projects else None
    items = [
        (T["projects"], f"{total.projects:,}"),
        (T["reported"], f"{total.reported:,}"),
        (T["late"], f"{total.late:,}"),
        (T["missing"], f"{total.missing:,}"),
        (T["reported_pct"], pct(reported_pct, T["not_applicable"])),
        (T["investment_period"], _wan(total.investment_period)),
        (f"{year} {T['investment_year']}", _wan(total.investment_year)),
        (f"{year} {T['planned_year']}", _wan(total.planned_year)),
        (T["completion"], pct(total.completion_pct, T["not_applicable"])),
        (T["stages_advanced"], f"{total.stages_advanced:,}"),
        (T["previous_reported"], T["not_applicable"] if total.previous_reported is None
         else f"{total.previous_reported:,}"),
        (T["previous_investment"], _wan(total.previous_investment)),
    ]
    columns = 4
    cells = [[para(value, "figure"), para(label, "figure_label")] for label, value in items]
    rows = [cells[i:i + columns] for i in range(0, len(cells), columns)]
    table = Table(rows, colWidths=[content_width() / columns] * columns)
    table.setStyle(grid_style(header_rows=0, zebra=False, extra=[
        ("TOPPADDING", (0, 0), (-1, -1), 6), ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
        ("LEFTPADDING", (0, 0), (-1, -1), 8), ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    return table


def _parks(data: RoundReportData) -> Table:
    keys = ("park", "projects", "reported", "missing", "investment_period", "investment_year",
            "completion", "stages_advanced", "previous_reported")
    head = [para(T[k], "head") for k in keys]

    def row(r: RoundParkRow, style: str = "cell") -> list:
        return [para(r.park, style), para(f"{r.projects:,}", "cell_center"),
                para(f"{r.reported:,}", "cell_center"), para(f"{r.missing:,}", "cell_center"),
                para(f"{r.investment_period:,}", "cell_center"),
                para(f"{r.investment_year:,}", "cell_center"),
                para(pct(r.completion_pct, T["not_applicable"]), "cell_center"),
                para(f"{r.stages_advanced:,}", "cell_center"),
                para(T["not_applicable"] if r.previous_reported is None
                     else f"{r.previous_reported:,}", "cell_center")]

    rows = [row(r) for r in data.parks]
    total = data.total
    rows.append(row(RoundParkRow(T["total"], total.projects, total.filled, total.late,
                                 total.missing, total.investment_period, total.investment_year,
                                 total.planned_year, total.stages_advanced,
                                 total.previous_reported, total.previous_investment), "head"))
    w = content_width()
    widths = [0.2, 0.08, 0.08, 0.08, 0.12, 0.12, 0.11, 0.1, 0.11]
    table = Table([head, *rows], colWidths=[w * f for f in widths], repeatRows=1, splitByRow=1)
    table.setStyle(grid_style())
    return table


def _completion_chart(parks: tuple[RoundParkRow, ...]) -> Drawing | None:
    rows = [r for r in parks if r.completion_pct is not None][:MAX_CHART_PARKS]
    if not rows:
        return None
    width = content_width()
    bar_height = 7 * mm
    height = len(rows) * bar_height + 20 * mm
    drawing = Drawing(width, height)
    drawing.add(String(0, height - 5 * mm, T["chart_title"], fontName=FONT, fontSize=9,
                       fillColor=MUTED))
    chart = HorizontalBarChart()
    label_width = 40 * mm
    chart.x, chart.y = label_width, 8 * mm
    chart.width, chart.height = width - label_width - 14 * mm, len(rows) * bar_height
    ordered = list(reversed(rows))
    chart.data = [[round(min(r.completion_pct, 200.0), 1) for r in ordered]]
    chart.categoryAxis.categoryNames = [r.park[:14] for r in ordered]
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = max(100, *(v for v in chart.data[0]))
    chart.valueAxis.valueStep = 20
    chart.bars[0].fillColor = ACCENT
    chart.bars[0].strokeColor = None
    side_labels(chart)
    axis_fonts(chart)
    drawing.add(chart)
    return drawing


def _departments(data: RoundReportData) -> list:
    if not data.departments:
        return [para(T["no_problems"], "small")]
    keys = ("department", "new_problems", "open_problems", "overdue_problems", "held_projects")
    head = [para(T[k], "head") for k in keys]
    rows = [[para(d.department), para(str(d.new), "cell_center"),
             para(str(d.open), "cell_center"), para(str(d.overdue), "cell_center"),
             para(str(d.projects), "cell_center")] for d in data.departments]
    w = content_width()
    table = Table([head, *rows], colWidths=[w * f for f in (0.44, 0.14, 0.14, 0.14, 0.14)],
                  repeatRows=1, splitByRow=1)
    table.setStyle(grid_style())
    return [table]


def _missing(data: RoundReportData) -> list:
    if not data.missing:
        return [para(T["no_missing"], "small")]
    head = [para(T[k], "head") for k in ("seq", "project", "park", "reporter")]
    rows = [[para(str(n), "cell_center"), para(m.project), para(m.park), para(m.reporter)]
            for n, m in enumerate(data.missing, start=1)]
    w = content_width()
    table = Table([head, *rows], colWidths=[w * f for f in (0.08, 0.5, 0.22, 0.2)],
                  repeatRows=1, splitByRow=1)
    table.setStyle(grid_style())
    result = [table]
    if data.missing_total > len(data.missing):
        result.append(para(T["more_rows"].format(n=data.missing_total - len(data.missing)),
                           "small"))
    return result
