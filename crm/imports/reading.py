"""Reading an uploaded ledger: .xlsx (openpyxl's read-only mode, formulas read as the values
Excel cached, never evaluated) or .csv (UTF-8, or GB18030 as Chinese Excel writes it).

A file is refused, with a message for the person who uploaded it, before any row is used:
not a spreadsheet, a macro-enabled or old binary workbook, an .xlsx that would unpack to an
absurd size (a zip bomb), or more rows than an import takes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from crm.errors import DomainError
from crm.imports import columns

MAX_ROWS = 50_000  # records: projects, staff
# Approval-progress rows: one per approval item of a project (8 to 12 each), so a city's
# ledger of 10,000 projects and their progress is one file.
MAX_PROGRESS_ROWS = 200_000
MAX_UNPACKED_BYTES = 300 * 1024 * 1024
MAX_RATIO = 200  # unpacked / packed: real workbooks stay far below, zip bombs far above
MAX_CELL = 2000


@dataclass
class Sheet:
    title: str
    headers: list[str]
    rows: Iterator[tuple[int, list]]  # (row number in the file, cell values)


def _refuse(message) -> DomainError:
    return DomainError(message, "file")


def file_type(filename: str, data: bytes) -> str:
    """"xlsx" or "csv", judged by the content (the name's extension only breaks a tie)."""
    name = (filename or "").lower()
    if data[:4] == b"PK\x03\x04":
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except zipfile.BadZipFile:
            raise _refuse(_l("The file is damaged: it cannot be opened as a workbook.")) from None
        if "xl/vbaProject.bin" in names or name.endswith((".xlsm", ".xltm", ".xlsb")):
            raise _refuse(_l("Workbooks with macros are not accepted: save it as an ordinary "
                             "Excel workbook (.xlsx) and upload that."))
        if "xl/workbook.xml" not in names:
            raise _refuse(_l("This is not an Excel workbook: upload an .xlsx or .csv file."))
        return "xlsx"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise _refuse(_l("Old Excel files (.xls) are not read: save it as .xlsx in Excel or "
                         "WPS and upload that."))
    if name.endswith((".csv", ".txt")) or (name and "." not in name):
        if b"\x00" in data[:4096]:
            raise _refuse(_l("This is not a spreadsheet: upload an .xlsx or .csv file."))
        return "csv"
    raise _refuse(_l("This is not a spreadsheet: upload an .xlsx or .csv file."))


def _check_unpacked_size(data: bytes) -> None:
    archive = zipfile.ZipFile(io.BytesIO(data))
    unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > MAX_UNPACKED_BYTES or unpacked > MAX_RATIO * max(len(data), 1):
        raise _refuse(_l("The workbook would unpack to %(size)d MB, far more than a ledger "
                         "holds; it is refused.", size=unpacked // (1024 * 1024)))


def cell_value(value):
    """A cell as the validation reads it: text stripped, whole floats as integers, dates as
    dates; None for empty."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time() else value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _refuse(_l("The CSV file is neither UTF-8 nor GB18030 text: save it again as "
                     "\"CSV UTF-8\"."))


def _non_empty(rows: Iterator[tuple[int, list]]) -> Iterator[tuple[int, list]]:
    return ((number, values) for number, values in rows if any(v is not None for v in values))


def _limited(rows: Iterator[tuple[int, list]], limit: int) -> Iterator[tuple[int, list]]:
    for count, row in enumerate(rows, start=1):
        if count > limit:
            raise _refuse(_l("The file has more than %(max)d rows: split it into several files.",
                             max=limit))
        yield row


def _csv_sheet(data: bytes) -> Sheet:
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    header = next(reader, None) or []
    rows = ((number, [cell_value(v) for v in values])
            for number, values in enumerate(reader, start=2))
    return Sheet("csv", [str(h).strip() for h in header], _non_empty(rows))


def _xlsx_sheets(data: bytes) -> list[Sheet]:
    from openpyxl import load_workbook

    _check_unpacked_size(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a broken file
        raise _refuse(_l("The file is damaged: it cannot be opened as a workbook.")) from None
    sheets = []
    for worksheet in workbook.worksheets:
        iterator = worksheet.iter_rows(values_only=True)
        header = next(iterator, None)
        if header is None:
            continue
        headers = [str(h).strip() if h is not None else "" for h in header]
        rows = ((number, [cell_value(v) for v in values])
                for number, values in enumerate(iterator, start=2))
        sheets.append(Sheet(worksheet.title, headers, _non_empty(rows)))
    return sheets


def read(filename: str, data: bytes) -> list[Sheet]:
    """The file's sheets (a CSV file is one), each with its header row and a lazy iterator of
    its non-empty rows (``sheets_for`` limits their number).  Raises DomainError on the field
    "file"."""
    if not data:
        raise _refuse(_l("The file is empty."))
    if file_type(filename, data) == "csv":
        return [_csv_sheet(data)]
    sheets = _xlsx_sheets(data)
    if not sheets:
        raise _refuse(_l("The workbook has no rows."))
    return sheets


def count_rows(sheet: Sheet) -> int:
    return sum(1 for _ in sheet.rows)


def sheets_for(kind: str, found: list[Sheet]) -> dict[str, Sheet]:
    """The file's sheets for each sheet the kind reads: by the sheet's name, else (for the
    first sheet of the kind) the file's first sheet."""
    chosen = {}
    for position, (name, titles, _) in enumerate(columns.SHEETS[kind]):
        wanted = {columns.normalise(t) for t in titles}
        match = next((s for s in found if columns.normalise(s.title) in wanted), None)
        if match is None and position == 0:
            taken = {columns.normalise(t) for _, ts, _ in columns.SHEETS[kind] for t in ts}
            match = next((s for s in found if columns.normalise(s.title) not in taken), None)
        if match is not None:
            limit = MAX_PROGRESS_ROWS if name == columns.PROGRESS_SHEET else MAX_ROWS
            chosen[name] = Sheet(match.title, match.headers, _limited(match.rows, limit))
    return chosen
