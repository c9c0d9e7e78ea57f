"""Project pages (one blueprint): the list and its export, the project page, create and edit,
stage changes (pages.py); the progress log (logs.py)."""

from flask import Blueprint

bp = Blueprint("projects", __name__, url_prefix="/projects")

from crm.projects.views import logs, pages  # noqa: E402,F401  (the routes)
