"""Supervision pages: rounds and their reports (rounds.py), problems and meetings
(problems.py), and the project page's panel (investment and problems)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("supervision", __name__)

from crm.supervision.views import problems, rounds  # noqa: E402,F401  (register the routes)
from crm.supervision.views.panel import investment_panel  # noqa: E402,F401
