"""The columns an import reads, per kind and sheet, and how a file's headers are matched to
them: Chinese and English names and the variants ledgers use (全角 or ASCII brackets, spaces,
units in the header), so most files map themselves.  Pure: no Flask, no database."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

PROJECTS_SHEET = "projects"
PROGRESS_SHEET = "progress"
ROSTER_SHEET = "roster"


@dataclass(frozen=True)
class Column:
    field: str
    header: str  # the template's (Chinese) header
    english: str
    aliases: tuple[str, ...] = ()
    required: bool = False


PROJECT_COLUMNS = (
    Column("park", "所属园区", "Park", ("园区", "园区名称")),
    Column("name", "项目名称", "Project name", ("项目",), required=True),
    Column("investor_name", "投资主体", "Investor", ("投资方", "投资单位", "企业名称", "建设单位",
                                                 "项目单位")),
    Column("investor_credit_code", "统一社会信用代码", "Investor's credit code",
           ("信用代码", "社会信用代码", "credit code", "unified social credit code")),
    Column("code", "项目代码", "Project code", ("国家项目代码", "项目统一代码", "投资项目代码",
                                              "code")),
    Column("investment_wan", "总投资（万元）", "Investment (10,000 yuan)",
           ("总投资", "投资额（万元）", "计划总投资（万元）", "总投资额（万元）",
            "investment (wan yuan)", "investment")),
    Column("investment_yi", "总投资（亿元）", "Investment (100 million yuan)",
           ("投资额（亿元）", "计划总投资（亿元）", "总投资额（亿元）", "investment (yi yuan)")),
    Column("industry", "产业类别", "Industry", ("行业", "所属行业", "产业")),
    Column("stage", "项目阶段", "Stage", ("阶段",)),
    Column("status", "项目状态", "Status", ("状态",)),
    Column("approval_mode", "审批方式", "Approval mode", ("核准备案", "立项方式")),
    Column("eia_category", "环评类别", "EIA category", ("环评", "环境影响评价类别")),
    Column("contact_name", "企业联系人", "Contact", ("联系人",)),
    Column("contact_phone", "联系电话", "Contact phone", ("电话", "手机", "phone")),
    Column("signed_on", "签约日期", "Signed on", ("签约时间",)),
    Column("expected_start_on", "计划开工日期", "Expected start", ("计划开工时间", "开工日期")),
    Column("description", "项目简介", "Description", ("建设内容", "备注")),
    Column("consultant", "首席审批服务专员", "Chief consultant", ("审批服务专员", "首席专员")),
    Column("lead_agent", "项目代办员", "Lead agent", ("代办员", "帮办代办员")),
)

PROGRESS_COLUMNS = (
    Column("project_code", "项目代码", "Project code", ("国家项目代码", "项目统一代码", "code")),
    Column("project_name", "项目名称", "Project name", ("项目",)),
    Column("investor_credit_code", "统一社会信用代码", "Investor's credit code",
           ("信用代码", "credit code")),
    Column("item", "审批事项", "Approval item", ("事项", "事项名称", "事项编码", "item"),
           required=True),
    Column("accepted_on", "受理日期", "Accepted on", ("受理时间",)),
    Column("paused_on", "暂停日期", "Paused on", ("补正开始日期", "暂停时间")),
    Column("pause_reason", "暂停原因", "Pause reason", ("暂停事由",)),
    Column("resumed_on", "恢复日期", "Resumed on", ("补正完成日期", "恢复时间")),
    Column("completed_on", "办结日期", "Completed on", ("办结时间", "批复日期")),
    Column("approval_doc_no", "批准文号", "Approval document no.", ("批复文号", "文号")),
)

ROSTER_COLUMNS = (
    Column("name", "姓名", "Name", required=True),
    Column("kind", "人员类别", "Kind", ("类别", "岗位")),
    Column("phone", "联系电话", "Phone", ("电话", "手机")),
    Column("title", "职务", "Title", ("职务/部门", "部门")),
    Column("capacity", "服务项目上限", "Capacity", ("服务上限", "项目上限")),
    Column("parks", "服务园区", "Parks served", ("园区",)),
)

# Per kind: (sheet, the sheet's names in a workbook, its columns); the first sheet is required.
SHEETS = {
    "projects": ((PROJECTS_SHEET, ("项目", "项目台账", "projects"), PROJECT_COLUMNS),
                 (PROGRESS_SHEET, ("审批进度", "审批事项", "progress"), PROGRESS_COLUMNS)),
    "progress": ((PROGRESS_SHEET, ("审批进度", "审批事项", "progress"), PROGRESS_COLUMNS),),
    "roster": ((ROSTER_SHEET, ("人员", "人员名册", "roster"), ROSTER_COLUMNS),),
}

_BRACKETS = str.maketrans({"（": "(", "）": ")", "【": "(", "】": ")", "[": "(", "]": ")"})


def normalise(header) -> str:
    """A header reduced for matching: NFKC, brackets unified, spaces and * removed, lower case."""
    text = unicodedata.normalize("NFKC", str(header or "")).translate(_BRACKETS)
    return re.sub(r"[\s*:：]+", "", text).lower()


def columns_of(kind: str, sheet: str) -> tuple[Column, ...]:
    return next(cols for name, _, cols in SHEETS[kind] if name == sheet)


def auto_mapping(columns: tuple[Column, ...], headers: list[str]) -> dict[str, str]:
    """{field: header} for every column whose name, English name or alias is a header of the
    file (each header used once, the first match winning)."""
    by_name = {}
    for header in headers:
        by_name.setdefault(normalise(header), header)
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for column in columns:
        for candidate in (column.header, column.english, *column.aliases):
            header = by_name.get(normalise(candidate))
            if header is not None and header not in used:
                mapping[column.field] = header
                used.add(header)
                break
    return mapping


def missing_required(columns: tuple[Column, ...], mapping: dict[str, str]) -> list[Column]:
    return [c for c in columns if c.required and not mapping.get(c.field)]
