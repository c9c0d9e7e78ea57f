"""Writing .xlsx spreadsheets (exports of every package).

openpyxl's write-only mode streams rows to a temporary file as they come from the database
(fetched in batches), so memory stays flat however long the list.

Text is always written as a text cell (an inline string), never as a formula, so nothing a
user typed is executed when the file opens; text that a spreadsheet would take for a formula
if someone edited the cell (starting with = + - @, a tab or a carriage return) also gets
Excel's "quote prefix" style, which keeps it text without showing an apostrophe: a phone
number such as "+86 513 8500 1234" reads as typed.  Characters XML cannot hold are dropped.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

from crm.extensions import db
from crm.labels import label

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BATCH = 500


def safe_cell(sheet, value):
    """A value fit for a cell of ``sheet``: text as a text cell (never a formula), without
    characters XML cannot hold, quote-prefixed when it looks like a formula; other values
    (numbers, dates) as they are."""
    if not isinstance(value, str):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    if not text.startswith(FORMULA_STARTS):
        return text  # openpyxl stores it as text (only "=..." would become a formula)
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
    cell.quotePrefix = True
    return cell


def write_xlsx(title: str, headers: Sequence[str], rows: Iterable[Sequence],
               widths: Sequence[int] = ()):
    """An .xlsx workbook of one sheet, in a temporary file positioned at its start."""
    return write_workbook([(title, headers, rows, widths)])


def write_workbook(sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence], Sequence[int]]]):
    """An .xlsx workbook of several sheets (title, headers, rows, column widths), in a
    temporary file positioned at its start."""
    workbook = Workbook(write_only=True)
    for title, headers, rows, widths in sheets:
        sheet = workbook.create_sheet(title=title[:31])
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
        sheet.append([safe_cell(sheet, h) for h in headers])
        for row in rows:
            sheet.append([safe_cell(sheet, v) for v in row])
    out = tempfile.TemporaryFile(suffix=".xlsx")
    workbook.save(out)
    out.seek(0)
    return out


def local_naive(value: dt.datetime | None, zone) -> dt.datetime | None:
    """Spreadsheets have no time zones: the local wall-clock time."""
    return value.astimezone(zone).replace(tzinfo=None) if value else None


def label_lookup(group: str):
    """``label`` for one group, looked up once per code (exports call it for every row)."""
    cache: dict = {}

    def lookup(code):
        if code not in cache:
            cache[code] = label(group, code)
        return cache[code]

    return lookup


def batched(statement):
    """Rows of a statement fetched BATCH at a time (a server-side cursor on PostgreSQL)."""
    return db.session.execute(statement.execution_options(yield_per=BATCH))
