"""Staff pages (one blueprint): park rosters, staff records, hand-over, workload and the
unassigned queue (roster.py); a project's service team (team.py)."""

from flask import Blueprint

bp = Blueprint("agents", __name__)

from crm.agents.views import roster, team  # noqa: E402,F401  (the routes)
