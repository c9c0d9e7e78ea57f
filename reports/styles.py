"""What every PDF shares: the embedded CJK font, paragraph and table styles, safe text, and the
A4 page frame with a header, a footer and "page X of Y" on every page.

User text never enters Paragraph markup unescaped (CVE-2023-33733: ReportLab evaluated
attribute values of markup such as ``<font color="...">``): build paragraphs with ``para()``,
which escapes, or with ``markup()`` from pieces that went through ``esc()``.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate, CondPageBreak, Frame, PageTemplate, Paragraph, TableStyle,
)

FONT = "WenQuanYiMicroHei"
FONT_FILE = Path(__file__).parent / "fonts" / "wqy-microhei.ttc"

PAGE_SIZE = A4
MARGIN_X = 18 * mm
MARGIN_TOP = 24 * mm
MARGIN_BOTTOM = 20 * mm

INK = colors.HexColor("#1f2328")
MUTED = colors.HexColor("#59636e")
RULE = colors.HexColor("#b6bcc4")
ACCENT = colors.HexColor("#0b5cad")
HEAD_FILL = colors.HexColor("#e8eef6")
ZEBRA = colors.HexColor("#f6f8fa")
STATE_COLORS = {
    "overdue": colors.HexColor("#b42318"),
    "missed": colors.HexColor("#b42318"),
    "due_soon": colors.HexColor("#b54708"),
    "paused": colors.HexColor("#6941c6"),
    "met": colors.HexColor("#067647"),
    "on_track": colors.HexColor("#0b5cad"),
}

_font_lock = threading.Lock()


def register_font() -> str:
    """Register the embedded WenQuanYi Micro Hei once per process (about 0.2 s); its name.

    The font is a TrueType collection with TrueType outlines; ReportLab embeds the subset of
    glyphs each document uses, so the PDF reads the same on machines without Chinese fonts.
    """
    with _font_lock:
        if FONT not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(FONT, str(FONT_FILE), subfontIndex=0))
            # One face only: bold and italic fall back to the regular face.
            pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT, italic=FONT, boldItalic=FONT)
    return FONT


def warm_up() -> None:
    """Load the font and the layout machinery before a worker forks its work horses.

    Measures the widths of a few characters so ReportLab's per-font caches exist in the parent
    and every forked child inherits them instead of building them again.
    """
    register_font()
    pdfmetrics.stringWidth("服务单 0123456789 abcdefghijklmnopqrstuvwxyz", FONT, 10)
    # Codecs a build imports on first use: UTF-16 for the PDF's Chinese metadata, Shift-JIS
    # for the QR encoder's kanji test.  Imported here, not again in every work horse.
    "服务单".encode("utf_16_be")
    "FW".encode("shift_jis")


# -- text -------------------------------------------------------------------------------------

_CONTROL = {c: None for c in range(32) if c not in (9, 10)}


def esc(text: object) -> str:
    """User text made safe for Paragraph markup: &, <, > escaped; line breaks kept."""
    if text is None:
        return ""
    cleaned = str(text).translate(_CONTROL).replace("\r\n", "\n")
    return escape(cleaned).replace("\n", "<br/>")


def _style(name: str, **kw) -> ParagraphStyle:
    base = dict(fontName=FONT, fontSize=9.5, leading=13.5, textColor=INK, wordWrap="CJK")
    base.update(kw)
    return ParagraphStyle(name, **base)


STYLES = {
    "body": _style("body"),
    "small": _style("small", fontSize=8, leading=11, textColor=MUTED),
    "small_center": _style("small_center", fontSize=8, leading=11, textColor=MUTED,
                           alignment=TA_CENTER),
    "cell": _style("cell", fontSize=8.5, leading=11.5),
    "cell_right": _style("cell_right", fontSize=8.5, leading=11.5, alignment=TA_RIGHT),
    "cell_center": _style("cell_center", fontSize=8.5, leading=11.5, alignment=TA_CENTER),
    "head": _style("head", fontSize=8.5, leading=11.5, textColor=INK),
    "title": _style("title", fontSize=18, leading=26, alignment=TA_CENTER, spaceAfter=4),
    "subtitle_line": _style("subtitle_line", fontSize=10, leading=14, alignment=TA_CENTER,
                            textColor=MUTED),
    "subtitle": _style("subtitle", fontSize=10, leading=14, alignment=TA_CENTER, textColor=MUTED,
                       spaceAfter=8),
    "section": _style("section", fontSize=12, leading=17, textColor=ACCENT, spaceBefore=10,
                      spaceAfter=5),
    "figure": _style("figure", fontSize=15, leading=19, textColor=ACCENT),
    "figure_label": _style("figure_label", fontSize=8, leading=11, textColor=MUTED),
}


def para(text: object, style: str = "body", color: colors.Color | None = None) -> Paragraph:
    """A paragraph of plain (user) text: always escaped."""
    return markup(esc(text), style, color)


def section(title: str, room: float = 40 * mm) -> list:
    """A section heading that starts a new page when less than ``room`` is left below it, so
    it is never left alone at the foot of a page (keepWithNext would push a table longer than
    a page, and the heading, to the next page)."""
    return [CondPageBreak(room), para(title, "section")]


def markup(safe_markup: str, style: str = "body", color: colors.Color | None = None) -> Paragraph:
    """A paragraph of markup built only from constants and ``esc()``-ed pieces."""
    register_font()
    if color is not None:
        safe_markup = f'<font color="{color.hexval()}">{safe_markup}</font>'
    return Paragraph(safe_markup, STYLES[style])


# -- numbers and dates ------------------------------------------------------------------------

def yi(wan: int) -> str:
    """万元 -> 亿元 with one decimal, as in the web pages."""
    value = (Decimal(wan) / 10000).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return f"{value:,}"


def iso(day: dt.date | None, empty: str = "—") -> str:
    return day.isoformat() if day else empty


def chinese_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def pct(value: float | None, empty: str = "—") -> str:
    return empty if value is None else f"{value:.1f}%"


def nice_step(top: float, ticks: int = 5) -> int:
    """A round axis step (1, 2, 5, 10, 20, 25, 50, ...) giving about ``ticks`` intervals."""
    raw = max(top, 1) / ticks
    magnitude = 1
    while magnitude * 10 <= raw:
        magnitude *= 10
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if step >= raw and step == int(step):
            return int(step)
    return 10 * magnitude


# -- tables ----------------------------------------------------------------------------------

def grid_style(header_rows: int = 1, zebra: bool = True, extra: list | None = None) -> TableStyle:
    commands = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("GRID", (0, 0), (-1, -1), 0.5, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
    if header_rows:
        commands.append(("BACKGROUND", (0, 0), (-1, header_rows - 1), HEAD_FILL))
    if zebra:
        commands.append(("ROWBACKGROUNDS", (0, header_rows), (-1, -1), [colors.white, ZEBRA]))
    return TableStyle(commands + (extra or []))


# -- page frame ------------------------------------------------------------------------------

class NumberedCanvas(Canvas):
    """A canvas that knows the page count when it saves, to print "page X of Y" everywhere."""

    def __init__(self, *args, page_label: str = "{page}/{pages}", **kwargs):
        kwargs.setdefault("initialFontName", FONT)  # no unused Helvetica in the file
        super().__init__(*args, **kwargs)
        self._page_label = page_label
        self._saved_pages: list[dict] = []

    def showPage(self):  # noqa: N802 (ReportLab's name)
        self._saved_pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._saved_pages)
        for state in self._saved_pages:
            self.__dict__.update(state)
            self.setFont(FONT, 8)
            self.setFillColor(MUTED)
            label = self._page_label.format(page=self._pageNumber, pages=total)
            self.drawRightString(PAGE_SIZE[0] - MARGIN_X, MARGIN_BOTTOM - 11 * mm, label)
            super().showPage()
        super().save()


def fit(text: str, width: float, size: float) -> str:
    """``text`` cut with an ellipsis to fit ``width`` points at ``size`` in the CJK font."""
    if pdfmetrics.stringWidth(text, FONT, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", FONT, size) > width:
        text = text[:-1]
    return text + "…"


def page_decorator(header_left: str, header_right: str, footer_left: str) -> Callable:
    """Draw the header and footer (plain strings: drawString does not parse markup)."""
    half = (PAGE_SIZE[0] - 2 * MARGIN_X) / 2 - 4 * mm
    header_left, header_right = fit(header_left, half, 8.5), fit(header_right, half, 8.5)

    def draw(canvas: Canvas, doc) -> None:
        width, height = PAGE_SIZE
        canvas.saveState()
        canvas.setFont(FONT, 8.5)
        canvas.setFillColor(MUTED)
        top = height - MARGIN_TOP + 8 * mm
        canvas.drawString(MARGIN_X, top, header_left)
        canvas.drawRightString(width - MARGIN_X, top, header_right)
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.6)
        canvas.line(MARGIN_X, top - 2.5 * mm, width - MARGIN_X, top - 2.5 * mm)
        bottom = MARGIN_BOTTOM - 11 * mm
        canvas.line(MARGIN_X, bottom + 4 * mm, width - MARGIN_X, bottom + 4 * mm)
        canvas.setFont(FONT, 8)
        canvas.drawString(MARGIN_X, bottom, footer_left)
        canvas.restoreState()

    return draw


def build_pdf(buffer, story: list, *, title: str, subject: str, header_left: str,
              header_right: str, footer_left: str, page_label: str) -> None:
    """Lay the story out on A4 pages with the shared header and footer."""
    register_font()
    doc = BaseDocTemplate(
        buffer, pagesize=PAGE_SIZE, leftMargin=MARGIN_X, rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP, bottomMargin=MARGIN_BOTTOM, title=title, subject=subject,
        author="Daiban", creator="Daiban", lang="zh-CN",
    )
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body",
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=page_decorator(
        header_left, header_right, footer_left))])
    doc.build(story, canvasmaker=partial(NumberedCanvas, page_label=page_label))


def content_width() -> float:
    return PAGE_SIZE[0] - 2 * MARGIN_X


def axis_fonts(chart) -> None:
    """A bar chart's axes in the report's font, with a light value grid."""
    for axis in (chart.categoryAxis, chart.valueAxis):
        axis.labels.fontName = FONT
        axis.labels.fontSize = 8
        axis.labels.fillColor = INK
        axis.strokeColor = RULE
    chart.valueAxis.gridStrokeColor = colors.HexColor("#e4e7eb")
    chart.valueAxis.visibleGrid = True


def side_labels(chart, fmt: str = "%.1f") -> None:
    """A horizontal bar chart's values written beside the bars."""
    chart.barLabelFormat = fmt
    chart.barLabels.fontName = FONT
    chart.barLabels.fontSize = 7.5
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
