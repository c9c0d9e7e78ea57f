"""The web UI's wiring: blueprints, the sections of the project page, navigation and error
pages."""

from __future__ import annotations

from typing import NamedTuple

from flask import Flask, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from crm.auth.permissions import Action, can, can_current
from crm.errors import DomainError, domain_error_response, error_response, from_http_exception


def register_blueprints(app: Flask) -> None:
    from crm.agents.views import bp as agents_bp
    from crm.attachments.views import bp as attachments_bp
    from crm.imports.views import bp as imports_bp
    from crm.agents.views.team import team_context
    from crm.auth.views import bp as auth_bp
    from crm.dashboard.views import bp as dashboard_bp
    from crm.documents.views import bp as documents_bp
    from crm.documents.views import service_orders_panel
    from crm.portal.views import bp as portal_bp
    from crm.portal.views import callbacks as _callback_routes  # noqa: F401 (registers them)
    from crm.portal.views import feedback_panel, link_panel
    from crm.main.views import bp as main_bp
    from crm.milestones.views import bp as milestones_bp
    from crm.milestones.queries import warning_workdays
    from crm.milestones.views import timeline_panel
    from crm.notifications.views import bp as notifications_bp
    from crm.notifications.views import escalations_panel
    from crm.projects.views import bp as projects_bp
    from crm.projects.views.pages import Panel
    from crm.supervision.views import bp as supervision_bp
    from crm.supervision.views import enterprise_rounds_panel, investment_panel

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(projects_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(agents_bp)
    app.register_blueprint(milestones_bp)
    app.register_blueprint(documents_bp)
    app.register_blueprint(portal_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(imports_bp)
    app.register_blueprint(attachments_bp)
    app.register_blueprint(supervision_bp)
    register_attachment_owners(app)
    # The project page shows its own header and log, then these sections of other packages.
    app.extensions["project_panels"] = [
        Panel("team", 10, "agents/_team_panel.html", team_context),
        Panel("timeline", 20, "milestones/_timeline.html", timeline_panel),
        Panel("escalations", 25, "notifications/_escalations_panel.html", escalations_panel),
        Panel("supervision", 30, "supervision/_panel.html", investment_panel),
        Panel("service_orders", 50, "documents/_service_orders.html", service_orders_panel),
        Panel("enterprise_link", 55, "portal/_link_panel.html", link_panel),
        Panel("feedback", 57, "portal/_feedback_panel.html", feedback_panel),
    ]
    # The enterprise's progress page (crm.portal) shows these sections of later packages.
    app.extensions["enterprise_panels"] = [
        Panel("rounds", 10, "supervision/_enterprise_rounds.html", enterprise_rounds_panel),
    ]
    app.jinja_env.globals.update(nav_items=nav_items, unread_notifications=unread_notifications,
                                 can=can_current, warning_workdays=warning_workdays)


def register_attachment_owners(app: Flask) -> None:
    """Later packages' records that files attach to (the attachments package registers
    milestones and progress-log entries itself): a problem's evidence and correspondence."""
    from flask_babel import lazy_gettext as _l

    from crm.attachments.owners import OwnerType, register_owner_type
    from crm.supervision.models import Problem

    register_owner_type(app, OwnerType(
        name="problem", model=Problem, label=_l("Problem"),
        page=lambda problem: url_for("supervision.problem", problem_id=problem.id),
        title=lambda problem: problem.department))


class NavItem(NamedTuple):
    label: str
    url: str
    prefix: str


def nav_items() -> list[NavItem]:
    """The main navigation for the current user's role."""
    if not current_user.is_authenticated:
        return []
    items = [
        NavItem(_("Home"), url_for("main.home"), "/"),
        NavItem(_("Projects"), url_for("projects.index"), "/projects"),
    ]
    if can(current_user, Action.PARK_DASHBOARD):
        items.insert(1, NavItem(_("Dashboard"), url_for("dashboard.index"), "/dashboard"))
    if can(current_user, Action.ROSTER_VIEW):
        items.append(NavItem(_("Staff"), url_for("agents.index"), "/parks"))
    items.append(NavItem(_("Rounds"), url_for("supervision.rounds"), "/rounds"))
    items.append(NavItem(_("Problems"), url_for("supervision.problems"), "/problems"))
    if can(current_user, Action.SUMMARY_REQUEST):
        items.append(NavItem(_("Reports"), url_for("documents.summaries"), "/documents/summaries"))
    if can(current_user, Action.CALLBACKS):
        items.append(NavItem(_("Callbacks"), url_for("portal.callbacks"), "/callbacks"))
    if can(current_user, Action.IMPORT):
        items.append(NavItem(_("Import"), url_for("imports.index"), "/imports"))
    if can(current_user, Action.ADMIN):
        items.append(NavItem(_("Back office"), "/admin/", "/admin"))
    return items


def unread_notifications() -> int:
    """The navigation bar's unread count (one query per page)."""
    from crm.notifications.queries import unread_count

    if not current_user.is_authenticated:
        return 0
    return unread_count(current_user.id)


def wants_json() -> bool:
    return request.path.startswith("/api/")


def _error_page(status: int, title: str, message: str, error=None):
    if wants_json():
        if error is not None and hasattr(error, "code"):
            described = getattr(error, "description", None)
            if described and described != type(error).description:
                message = described  # the specific reason (e.g. which part of the body)
            return from_http_exception(error, message)
        return error_response(status, message)
    return render_template("errors/error.html", status=status, title=title, message=message), status


def register_error_handlers(app: Flask) -> None:
    messages = {
        400: lambda: (_("Bad request"), _("The request could not be understood.")),
        403: lambda: (_("Not allowed"), _("Your role does not allow this action.")),
        404: lambda: (_("Not found"), _("The page or record does not exist, or is not yours to see.")),
        405: lambda: (_("Not allowed"), _("This address does not accept that method.")),
        413: lambda: (_("Too large"), _("The data sent is too large.")),
        429: lambda: (_("Too many attempts"), _("Too many requests in a short time. Wait a minute and try again.")),
        500: lambda: (_("Something went wrong"), _("An unexpected error occurred. Nothing was saved; please try again.")),
    }

    @app.errorhandler(CSRFError)
    def _csrf_error(error):
        return _error_page(
            400, _("Form expired"),
            _("The form was missing its security token or has expired. Go back, reload the page and submit again."),
        )

    @app.errorhandler(DomainError)
    def _refused(error):
        """A refused change no view turned into form messages: the API's JSON error, or a
        page that says what was refused."""
        if wants_json():
            return domain_error_response(error)
        titles = {409: _("Not possible now"), 403: _("Not allowed")}
        return render_template("errors/error.html", status=error.status,
                               title=titles.get(error.status, _("Not saved")),
                               message=" ".join(str(m) for m in error.messages)), error.status

    @app.errorhandler(HTTPException)
    def _http_error(error):
        if error.code not in messages:
            if wants_json():
                return _error_page(error.code or 500, error.name, error.description, error)
            return error
        title, message = messages[error.code]()
        return _error_page(error.code, title, message, error)

    @app.errorhandler(500)
    def _server_error(error):
        from crm.extensions import db

        db.session.rollback()
        title, message = messages[500]()
        return _error_page(500, title, message)
