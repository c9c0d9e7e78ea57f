"""Helpers shared by the project and progress-log tests."""

from __future__ import annotations

import re


def field_errors(html: str, field_id: str) -> str:
    """The error text shown next to a form field ("" when none)."""
    match = re.search(rf'id="{re.escape(field_id)}-errors">((?:\s*<div>.*?</div>)+)', html, re.S)
    return re.sub(r"<[^>]+>", " ", match.group(1)).strip() if match else ""


def count(app, model) -> int:
    from sqlalchemy import func, select

    from crm.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


CREDIT_CODE = "91320613MA1M12345"  # 17 characters; the check character is appended


def valid_project(park_id: int, **overrides) -> dict:
    from crm.projects.codes import make_credit_code, make_project_code

    data = {
        "name": "南通智能装备产业园项目", "investor_name": "江苏恒远智能装备有限公司",
        "investor_credit_code": make_credit_code(CREDIT_CODE),
        "investment": "15000", "industry": "high_end_equipment", "park": str(park_id),
        "stage": "negotiating", "status": "active",
        "code": make_project_code("2411", "320613", "89", "01", "12345"),
        "approval_mode": "filing", "eia_category": "report_form", "contact_name": "王经理",
        "contact_phone": "0513-85001234", "signed_on": "2024-10-08", "expected_start_on": "2025-03-01",
        "description": "总投资1.5亿元，建设智能装备生产线。",
    }
    data.update(overrides)
    return data

