"""The workbooks an import hands out: the template of each kind (Chinese headers, drop-down
lists of the allowed values, an example row) and the failed rows of a batch (the rows as
uploaded, plus a column with what is wrong), ready to fix and upload again."""

from __future__ import annotations

import tempfile
from collections import defaultdict

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from crm.imports import columns, reading
from crm.spreadsheets import safe_cell

ERROR_HEADER = "错误说明"
SHEET_TITLES = {columns.PROJECTS_SHEET: "项目", columns.PROGRESS_SHEET: "审批进度",
                columns.ROSTER_SHEET: "人员"}
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
REQUIRED_FONT = Font(bold=True, color="C00000")
MAX_LIST_ROWS = 2000


def _saved(workbook: Workbook):
    out = tempfile.TemporaryFile(suffix=".xlsx")
    workbook.save(out)
    out.seek(0)
    return out


def template(kind: str, lists: dict[str, list[str]], examples: dict[str, dict[str, object]]):
    """The template of ``kind``: one sheet per sheet the kind reads, the columns' Chinese
    headers (required ones in red), an example row, and drop-downs from ``lists``
    ({field: allowed values}) kept on a hidden sheet."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    options = workbook.create_sheet("选项")
    option_columns: dict[str, str] = {}
    for position, (field, allowed) in enumerate(sorted(lists.items()), start=1):
        letter = get_column_letter(position)
        options.cell(row=1, column=position, value=field)
        for row, value in enumerate(allowed[:MAX_LIST_ROWS], start=2):
            options.cell(row=row, column=position, value=value)
        option_columns[field] = f"'选项'!${letter}$2:${letter}${max(len(allowed), 1) + 1}"
    for sheet_name, _titles, cols in columns.SHEETS[kind]:
        sheet = workbook.create_sheet(SHEET_TITLES[sheet_name], index=len(workbook.sheetnames) - 1)
        for position, column in enumerate(cols, start=1):
            cell = sheet.cell(row=1, column=position, value=column.header)
            cell.fill = HEADER_FILL
            if column.required:
                cell.font = REQUIRED_FONT
            sheet.column_dimensions[get_column_letter(position)].width = max(
                12, len(column.header) * 2 + 4)
            example = examples.get(sheet_name, {}).get(column.field)
            if example is not None:
                sheet.cell(row=2, column=position, value=example)
            if column.field in option_columns:
                validation = DataValidation(type="list", formula1=option_columns[column.field],
                                            allow_blank=True, showErrorMessage=False)
                sheet.add_data_validation(validation)
                letter = get_column_letter(position)
                validation.add(f"{letter}2:{letter}10000")
        sheet.freeze_panes = "A2"
    options.sheet_state = "hidden"
    return _saved(workbook)


def failed_rows(filename: str, data: bytes, kind: str, errors: list[dict]):
    """The rejected rows of each sheet as uploaded, with ERROR_HEADER listing their problems
    (column: message; ...)."""
    by_row: dict[tuple[str, int], list[str]] = defaultdict(list)
    for error in errors:
        text = f"{error['column']}: {error['message']}" if error.get("column") else error["message"]
        by_row[(error["sheet"], error["row"])].append(text)
    workbook = Workbook(write_only=True)
    for sheet_name, found in reading.sheets_for(kind, reading.read(filename, data)).items():
        sheet = workbook.create_sheet(SHEET_TITLES[sheet_name])
        sheet.append([safe_cell(sheet, h) for h in [*found.headers, ERROR_HEADER]])
        for number, cells in found.rows:
            problems = by_row.get((found.title, number))
            if problems:
                sheet.append([safe_cell(sheet, v) for v in [*cells, "；".join(problems)]])
    return _saved(workbook)
