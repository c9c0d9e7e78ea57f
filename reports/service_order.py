"""The service order (服务单): the order-style promise handed to the enterprise.

A4, header and footer on every page; the approval plan is one table whose header row repeats
on every page and whose rows never split across pages.
"""

from __future__ import annotations

import io

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics import renderSVG
from reportlab.graphics.shapes import Drawing
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Spacer, Table, TableStyle

from reports.data import PlanItem, ServiceOrder
from reports.styles import (
    FONT, HEAD_FILL, RULE, STATE_COLORS, build_pdf, chinese_date, content_width, esc, grid_style,
    iso, markup, para, section, yi,
)
from reports.text import SERVICE_ORDER as T
from reports.text import SERVICE_PROMISES

QR_SIZE = 30 * mm


def build_service_order(order: ServiceOrder) -> bytes:
    """The service order PDF."""
    story = [
        para(T["title"], "title"),
        _meta_table(order),
        Spacer(1, 4 * mm),
        *section(T["section_project"]),
        _project_block(order),
        *section(T["section_staff"]),
        _staff_table(order),
        *section(T["section_plan"]),
        *_plan(order),
        *section(T["section_promises"]),
        *_promises(order),
        KeepTogether([*section(T["section_signatures"]), _signature_boxes()]),
    ]
    buffer = io.BytesIO()
    footer = T["footer"]
    if order.generated_at:
        footer += f"　{order.generated_at:%Y-%m-%d %H:%M}"
    build_pdf(
        buffer, story, title=f"{T['title']} {order.order_number}", subject=order.project_name,
        header_left=f"{T['header']} · {order.order_number} · {T['version_value'].format(n=order.version)}",
        header_right=order.park_name, footer_left=footer, page_label=T["page"],
    )
    return buffer.getvalue()


def _meta_table(order: ServiceOrder) -> Table:
    cells = [[
        para(T["order_number"], "small"), para(order.order_number),
        para(T["version"], "small"), para(T["version_value"].format(n=order.version)),
        para(T["date"], "small"), para(chinese_date(order.issued_on)),
    ], [
        para(T["park"], "small"), para(order.park_name), "", "", "", "",
    ]]
    w = content_width()
    table = Table(cells, colWidths=[w * 0.11, w * 0.25, w * 0.08, w * 0.16, w * 0.12, w * 0.28])
    table.setStyle(TableStyle([
        ("SPAN", (1, 1), (-1, 1)),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LINEBELOW", (0, -1), (-1, -1), 0.8, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]))
    return table


def _qr_code(url: str, size: float = QR_SIZE) -> Drawing:
    """ReportLab's own QR widget, drawn at its final size (asking it for its bounds first
    would encode the code twice: half the time of a one-page order)."""
    drawing = Drawing(size, size)
    drawing.add(QrCodeWidget(url, barLevel="M", barWidth=size, barHeight=size))
    return drawing


def qr_svg(url: str, size: float = 60 * mm) -> str:
    """The same QR code as an SVG document (the project page's printable enterprise link)."""
    return renderSVG.drawToString(_qr_code(url, size))


def _project_block(order: ServiceOrder) -> Table:
    empty = T["empty"]
    contact = " ".join(p for p in (order.contact_name, order.contact_phone) if p) or empty
    rows = [
        (T["project_name"], order.project_name),
        (T["project_code"], order.project_code or empty),
        (T["investor"], order.investor_name),
        (T["investment"], T["investment_value"].format(yi=yi(order.investment_wan),
                                                       wan=f"{order.investment_wan:,}")),
        (T["stage"], order.stage_label),
        (T["contact"], contact),
    ]
    if order.description:
        rows.append((T["description"], order.description))
    w = content_width() - QR_SIZE - 6 * mm
    info = Table([[para(k, "head"), para(v, "cell")] for k, v in rows],
                 colWidths=[w * 0.24, w * 0.76])
    info.setStyle(grid_style(header_rows=0, zebra=False, extra=[
        ("BACKGROUND", (0, 0), (0, -1), HEAD_FILL),
    ]))
    qr = Table([[_qr_code(order.project_url)], [para(T["qr_caption"], "small_center")]],
               colWidths=[QR_SIZE + 4 * mm])
    qr.setStyle(TableStyle([("ALIGN", (0, 0), (-1, -1), "CENTER"),
                            ("LEFTPADDING", (0, 0), (-1, -1), 0),
                            ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    outer = Table([[info, qr]], colWidths=[w, content_width() - w])
    outer.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (0, -1), 0),
                               ("ALIGN", (1, 0), (1, 0), "RIGHT")]))
    return outer


def _staff_table(order: ServiceOrder) -> Table:
    rows = [[para(T["role"], "head"), para(T["name"], "head"), para(T["phone"], "head")]]
    for person in order.staff:
        rows.append([para(person.role, "cell"), para(person.name, "cell"),
                     para(person.phone or T["empty"], "cell")])
    if not order.staff:
        rows.append([para(T["no_staff"], "small"), "", ""])
    w = content_width()
    table = Table(rows, colWidths=[w * 0.34, w * 0.33, w * 0.33], repeatRows=1)
    extra = [("SPAN", (0, 1), (-1, 1))] if not order.staff else []
    table.setStyle(grid_style(extra=extra))
    return table


def _limit(item: PlanItem) -> str:
    key = "working_days" if item.limit_unit == "working" else "calendar_days"
    return T[key].format(n=item.limit_value)


def _state_cell(item: PlanItem):
    text = esc(item.state_label)
    if item.state == "paused" and item.remaining_workdays is not None:
        text += "<br/>" + esc(T["remaining"].format(n=item.remaining_workdays))
    if item.completed_on and item.status == "done":
        text += "<br/>" + esc(iso(item.completed_on))
    return markup(text, "cell", STATE_COLORS.get(item.state))


def _plan(order: ServiceOrder) -> list:
    if not order.plan:
        return [para(T["no_plan"], "small")]
    head = [para(T[k], "head") for k in
            ("seq", "item", "department", "limit", "accepted_on", "due_on", "state")]
    rows = [head]
    provisional = False
    for n, item in enumerate(order.plan, start=1):
        due = esc(iso(item.due_on))
        if item.due_on and item.due_provisional:
            due += " *"
            provisional = True
        elif item.due_on is None and item.forecast_on and item.status == "pending":
            due = _small(T["expected"].format(date=iso(item.forecast_on)))
        name = esc(item.name)
        if item.needs:
            name += "<br/>" + _small(T["needs"].format(names="、".join(item.needs)))
        rows.append([
            para(str(n), "cell_center"), markup(name, "cell"),
            para(item.department or T["empty"], "cell"), para(_limit(item), "cell"),
            para(iso(item.accepted_on), "cell"), markup(due, "cell"), _state_cell(item),
        ])
    w = content_width()
    widths = [0.06, 0.24, 0.19, 0.12, 0.12, 0.13, 0.14]
    table = Table(rows, colWidths=[w * f for f in widths], repeatRows=1, splitByRow=1)
    table.setStyle(grid_style())
    story = [table]
    if provisional:
        story += [Spacer(1, 2 * mm), para(T["provisional_note"], "small")]
    return story + _outlook(order)


def _small(text: str) -> str:
    """``text`` escaped, in the small grey type of a note inside a cell."""
    return f'<font size="7.5" color="#5c6670">{esc(text)}</font>'


def _outlook(order: ServiceOrder) -> list:
    """The forecast approval date and the park's whole-chain promise, under the plan."""
    lines = []
    if order.forecast_on:
        text = T["forecast"].format(date=iso(order.forecast_on))
        if order.forecast_provisional:
            text += T["forecast_provisional"]
        lines.append(text)
    p = order.chain_promise
    if p is not None:
        text = T["chain_promise"].format(name=p.name, start=p.start_item, n=p.limit_workdays,
                                         end=p.end_item)
        text += (T["chain_due"].format(date=iso(p.due_on)) if p.due_on
                 else T["chain_not_started"].format(start=p.start_item))
        lines.append(text)
    return [Spacer(1, 2 * mm)] + [para(line, "body") for line in lines] if lines else []


def _promises(order: ServiceOrder) -> list:
    promises = order.promises if order.promises is not None else SERVICE_PROMISES
    return [markup(f"{n}．{esc(text)}", "body") for n, text in enumerate(promises, start=1)]


def _signature_boxes() -> Table:
    def box(title: str):
        return [para(title, "head"), Spacer(1, 16 * mm), para(T["signature"], "cell"),
                Spacer(1, 3 * mm),
                # Ideographic spaces would collapse in a paragraph: keep the blanks to write in.
                markup(esc(T["sign_date"]).replace("\u3000", "&nbsp;" * 4), "cell")]

    w = content_width() / 3
    table = Table([[box(T["sign_enterprise"]), box(T["sign_agent"]), box(T["sign_park"])]],
                  colWidths=[w, w, w])
    table.setStyle(TableStyle([
        ("BOX", (0, 0), (0, 0), 0.8, RULE), ("BOX", (1, 0), (1, 0), 0.8, RULE),
        ("BOX", (2, 0), (2, 0), 0.8, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 6), ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
        ("LEFTPADDING", (0, 0), (-1, -1), 8),
        ("FONTNAME", (0, 0), (-1, -1), FONT),
    ]))
    return table
