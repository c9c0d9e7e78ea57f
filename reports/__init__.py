"""PDF builders (ReportLab): plain data in (reports.data), PDF bytes out.

This package never imports the application (``crm``): the job gathers the data, hands it over
as frozen dataclasses and stores the bytes it gets back.
"""

from reports.data import (
    BlockerRow, ComplianceRow, Count, DepartmentRow, KeyFigures, MissingReport, OrderPromise,
    OverdueRow, Person, PlanItem, RoundParkRow, RoundReportData, ServiceOrder, Summary,
    WorkloadRow,
)
from reports.round_report import build_round_report
from reports.service_order import build_service_order, qr_svg
from reports.styles import register_font, warm_up
from reports.summary import build_summary

__all__ = [
    "BlockerRow", "ComplianceRow", "Count", "KeyFigures", "OrderPromise", "OverdueRow", "Person", "PlanItem",
    "ServiceOrder", "Summary", "WorkloadRow", "build_service_order", "build_summary", "qr_svg",
    "DepartmentRow", "MissingReport", "RoundParkRow", "RoundReportData", "build_round_report",
    "register_font", "warm_up",
]
