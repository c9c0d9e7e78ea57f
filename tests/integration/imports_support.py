"""Workbooks for the import tests, built with openpyxl as a park's clerk would fill them."""

from __future__ import annotations

import io
import re
import zipfile

from openpyxl import Workbook, load_workbook

PROJECT_HEADERS = ["所属园区", "项目名称", "投资主体", "统一社会信用代码", "项目代码", "总投资（亿元）",
                   "产业类别", "项目阶段", "审批方式", "环评类别", "签约日期"]
PROGRESS_HEADERS = ["项目名称", "审批事项", "受理日期", "暂停日期", "暂停原因", "恢复日期", "办结日期",
                    "批准文号"]
BAD_ROWS = 5


def project_row(park: str, name: str, investment_yi=2, signed="2025-06-01", **overrides):
    row = {"所属园区": park, "项目名称": name, "投资主体": "南通导入测试有限公司",
           "统一社会信用代码": None, "项目代码": None, "总投资（亿元）": investment_yi,
           "产业类别": "新材料", "项目阶段": "签约", "审批方式": "备案", "环评类别": "环境影响报告表",
           "签约日期": signed}
    row.update(overrides)
    return [row[h] for h in PROJECT_HEADERS]


def ledger(park: str, other_park: str, good: int = 6, progress: bool = True) -> bytes:
    """``good`` valid project rows, then BAD_ROWS bad ones (one problem each), and a progress
    sheet recording the filing of the first two projects."""
    book = Workbook()
    sheet = book.active
    sheet.title = "项目"
    sheet.append(PROJECT_HEADERS)
    for i in range(good):
        sheet.append(project_row(park, f"导入项目{i:02d}"))
    sheet.append(project_row(park, "投资不足项目", investment_yi=0.5))  # under 1亿元
    sheet.append(project_row(park, "<b>标记</b>项目"))  # HTML
    sheet.append(project_row(other_park, "别的园区项目"))  # not the manager's park
    sheet.append(project_row(park, "未来签约项目", signed="2099-01-01"))  # in the future
    sheet.append(project_row(park, "导入项目00"))  # the same as the first row
    if progress:
        steps = book.create_sheet("审批进度")
        steps.append(PROGRESS_HEADERS)
        steps.append(["导入项目00", "项目备案", "2025-06-05", None, None, None, "2025-06-09",
                      "通行审备〔2025〕1号"])
        steps.append(["导入项目01", "项目备案", "2025-06-05", "2025-06-06", "补正材料", "2025-06-10",
                      None, None])
    return save(book)


def save(book) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def with_cached_formula(data: bytes, cell: str, formula: str, cached) -> bytes:
    """The workbook with ``cell`` of the first sheet holding a formula and the value Excel
    cached for it (openpyxl writes formulas without a cached value)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = content.decode()
                text = re.sub(rf'<c r="{cell}"[^>]*?(/>|>.*?</c>)',
                              f'<c r="{cell}"><f>{formula}</f><v>{cached}</v></c>', text, count=1)
                content = text.encode()
            target.writestr(item, content)
    return out.getvalue()


def read_back(data: bytes) -> dict[str, list[list]]:
    book = load_workbook(io.BytesIO(data), read_only=True)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in book.worksheets}
