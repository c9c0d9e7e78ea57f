"""Writing .xlsx spreadsheets (exports of every package).

openpyxl's write-only mode streams rows to a temporary file as they come from the database
(fetched in batches), so memory stays flat however long the list.  Text that a spreadsheet
would read as a formula (starting with = + - @, a tab or a carriage return) is prefixed with
an apostrophe, and characters XML cannot hold are dropped.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

from crm.extensions import db
from crm.labels import label

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BATCH = 500


def safe_cell(value):
    """A value fit for a cell: text never starts a formula and holds no illegal characters."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if value.startswith(FORMULA_STARTS):
            return "'" + value
    return value


def write_xlsx(title: str, headers: Sequence[str], rows: Iterable[Sequence],
               widths: Sequence[int] = ()):
    """An .xlsx workbook of one sheet, in a temporary file positioned at its start."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.append([safe_cell(h) for h in headers])
    for row in rows:
        sheet.append([safe_cell(v) for v in row])
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
