"""Chart data for the vendored ECharts, computed on the server.

Each chart is plain JSON: ``{"kind": "bar" | "line" | "funnel", "categories": [...],
"series": [{"name": ..., "data": [...]}]}``; static/js/charts.js turns it into ECharts
options.  The same numbers are in the page as a table for readers without JavaScript.
"""

from __future__ import annotations

from flask_babel import gettext as _

from crm.dashboard.figures import ParkFigures
from crm.labels import label
from crm.projects.models import Stage


def stage_funnel(figures: ParkFigures) -> dict:
    return {
        "kind": "funnel",
        "categories": [label("stage", s.value) for s in Stage],
        "series": [{"name": _("Active projects"),
                    "data": [figures.stages.get(s.value, [0, 0])[0] for s in Stage]}],
    }


def milestone_states(figures: ParkFigures) -> dict:
    return {
        "kind": "bar",
        "categories": [_("Overdue"), _("Due within 5 working days"), _("On track"), _("Paused")],
        "series": [{"name": _("Running milestones"),
                    "data": [figures.overdue, figures.due_soon, figures.on_track,
                             figures.paused]}],
    }


def monthly_trend(figures: ParkFigures, months: list[str]) -> dict:
    values = [figures.months.get(m, [0, 0, 0]) for m in months]
    return {
        "kind": "line",
        "categories": months,
        "series": [{"name": _("New projects"), "data": [v[0] for v in values]},
                   {"name": _("Milestones met"), "data": [v[1] for v in values]},
                   {"name": _("Milestones missed"), "data": [v[2] for v in values]}],
    }


def park_compliance(parks) -> dict:
    return {
        "kind": "bar",
        "categories": [p.short_name for p in parks],
        "series": [{"name": _("SLA compliance (%)"),
                    "data": [round(p.figures.compliance_pct, 1)
                             if p.figures.compliance_pct is not None else None
                             for p in parks]}],
    }
