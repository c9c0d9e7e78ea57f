"""Cell values into what the forms and services take: text as the user typed it, dates in any
of the ways ledgers write them, choices by code or by their Chinese or English label."""

from __future__ import annotations

import datetime as dt
import decimal
import re

from flask_babel import force_locale, lazy_gettext as _l

from crm import labels
from crm.imports.columns import normalise

HTML_TAG = re.compile(r"<\s*[a-zA-Z!/?]")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")

HTML_REFUSED = _l("Text with HTML tags (<...>) is not accepted: remove the tags.")
BAD_DATE = _l("Write the date as 2025-03-01 (or a date cell).")
BAD_NUMBER = _l("Enter a number.")


class CellError(ValueError):
    """A cell that cannot be read; its message is for the person who fixes the file."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = value.isoformat(sep=" ")
    elif isinstance(value, dt.date):
        value = value.isoformat()
    value = str(value).strip()
    if HTML_TAG.search(value):
        raise CellError(HTML_REFUSED)
    return value or None


def date_text(value) -> str | None:
    """ISO text of a date cell or of 2025-03-01, 2025/3/1, 2025.3.1, 2025年3月1日, 20250301."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    raw = str(value).strip()
    if re.fullmatch(r"\d{8}", raw):
        raw = f"{raw[:4]}-{raw[4:6]}-{raw[6:]}"
    match = _DATE.match(raw)
    if not match:
        raise CellError(BAD_DATE)
    try:
        return dt.date(*(int(g) for g in match.groups())).isoformat()
    except ValueError:
        raise CellError(BAD_DATE) from None


def date(value) -> dt.date | None:
    iso = date_text(value)
    return dt.date.fromisoformat(iso) if iso else None


def number(value) -> decimal.Decimal | None:
    if value is None:
        return None
    try:
        result = decimal.Decimal(str(value).replace(",", "").strip())
    except decimal.InvalidOperation:
        raise CellError(BAD_NUMBER) from None
    if not result.is_finite():
        raise CellError(BAD_NUMBER)
    return result


# What ledgers write besides our labels.
SYNONYMS = {
    "eia_category": {"环境影响报告书": "report_book", "报告书": "report_book",
                     "环境影响报告表": "report_form", "报告表": "report_form",
                     "环境影响登记表": "registration", "登记表": "registration"},
    "approval_mode": {"备案": "filing", "备案制": "filing", "核准": "verification",
                      "核准制": "verification"},
    "staff_kind": {"首席审批服务专员": "consultant", "审批服务专员": "consultant",
                   "代办员": "agent", "帮办代办员": "agent", "项目代办员": "agent"},
}


class Choices:
    """Codes of the label groups, found by code, Chinese label or English label."""

    def __init__(self, groups):
        self.codes: dict[str, dict[str, str]] = {}
        for group in groups:
            found = {normalise(k): v for k, v in SYNONYMS.get(group, {}).items()}
            for code, label in labels.choices(group):
                found[normalise(code)] = code
                for locale in ("zh_Hans_CN", "en"):
                    with force_locale(locale):
                        found.setdefault(normalise(str(label)), code)
            self.codes[group] = found

    def code(self, group: str, value) -> str | None:
        """The code, or the value unchanged (the form then refuses it with its own message)."""
        if value is None:
            return None
        return self.codes[group].get(normalise(value), str(value))
