"""Validation of official codes (pure).

- 投资项目统一代码 (investment project code), 24 characters:
  current format (since 2020-11) ``YYMM-RRRRRR-DD-TT-NNNNNC``: year and month, 6-digit
  division code, two 2-digit fields, a 5-digit serial and a check digit that is very likely
  ISO 7064 MOD 11,10 over the 19 digits before it (a mismatch is a warning, not an error);
  legacy format ``YYYY-RRRRRR-II-TT-NNNNNN``.
- 统一社会信用代码 (unified social credit code), 18 characters with the GB 32100-2015 check
  character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Both formats have the same shape: 4-6-2-2-6 digits.  The first group tells them apart:
# YYMM (a month since 2020-11) in the current format, YYYY (up to 2020) in the legacy one.
PROJECT_CODE_SHAPE = re.compile(r"^(\d{4})-(\d{6})-(\d{2})-(\d{2})-(\d{6})$")


def mod11_10_check_digit(digits: str) -> int:
    """ISO 7064 MOD 11,10 check digit for a string of decimal digits."""
    product = 10
    for ch in digits:
        total = (product + int(ch)) % 10 or 10
        product = (total * 2) % 11
    return (11 - product) % 10


@dataclass(frozen=True)
class ProjectCodeCheck:
    valid: bool  # the format is right (current or legacy)
    fmt: str | None  # "current" or "legacy"
    check_digit_ok: bool | None  # current format only; None when not applicable
    message: str | None = None  # why it is invalid


def check_project_code(code: str) -> ProjectCodeCheck:
    code = (code or "").strip().upper()
    match = PROJECT_CODE_SHAPE.match(code)
    if not match:
        return ProjectCodeCheck(False, None, None, "format")
    head = match.group(1)
    yy, mm = int(head[:2]), int(head[2:])
    current_possible = 1 <= mm <= 12 and (yy, mm) >= (20, 11)
    legacy_possible = 1990 <= int(head) <= 2020
    digits = code.replace("-", "")
    check_ok = mod11_10_check_digit(digits[:19]) == int(digits[19])
    if current_possible and (check_ok or not legacy_possible):
        return ProjectCodeCheck(True, "current", check_ok)
    if legacy_possible:
        return ProjectCodeCheck(True, "legacy", None)
    return ProjectCodeCheck(False, None, None, "date")


def make_project_code(yymm: str, division: str, field1: str, field2: str, serial: str) -> str:
    """A current-format code with its check digit (used by demo data and tests)."""
    body = f"{yymm}{division}{field1}{field2}{serial}"
    if len(body) != 19 or not body.isdigit():
        raise ValueError("19 digits expected")
    return f"{yymm}-{division}-{field1}-{field2}-{serial}{mod11_10_check_digit(body)}"


# GB 32100-2015: 31 characters (no I, O, Z, S, V) and the weights of positions 1-17.
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_SHAPE = re.compile(r"^[0-9A-HJ-NP-RTUW-Y]{2}\d{6}[0-9A-HJ-NP-RTUW-Y]{10}$")


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_CHARSET.index(ch) * w for ch, w in zip(first17, USCC_WEIGHTS))
    return USCC_CHARSET[(31 - total % 31) % 31]


def check_credit_code(code: str) -> str | None:
    """None when valid; otherwise "length", "characters" or "check"."""
    code = (code or "").strip().upper()
    if len(code) != 18:
        return "length"
    if not _USCC_SHAPE.match(code):
        return "characters"
    if uscc_check_char(code[:17]) != code[17]:
        return "check"
    return None


def make_credit_code(first17: str) -> str:
    return first17 + uscc_check_char(first17)
