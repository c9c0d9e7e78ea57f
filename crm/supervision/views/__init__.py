"""Supervision pages: rounds and their reports (rounds.py), problems and meetings
(problems.py), the project page's panel (investment and problems) and the enterprise's part
of its reports on its progress page (enterprise.py)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("supervision", __name__)

from crm.supervision.views import enterprise, problems, rounds  # noqa: E402,F401  (register the routes)
from crm.supervision.views.enterprise import enterprise_rounds_panel  # noqa: E402,F401
from crm.supervision.views.panel import investment_panel  # noqa: E402,F401
