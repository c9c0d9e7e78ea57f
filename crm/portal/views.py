"""The enterprise's progress page (/e/<token>, no account) and the staff's side of its link
(the project page's panel: the address, its QR code, issue a new one, revoke).

Whatever is wrong with a token (unknown, revoked, expired, malformed) answers the same 404;
the pages are rate-limited per address, tell search engines to stay away and send no
referrer."""

from __future__ import annotations

from flask import (
    Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required
from limits import parse

import reports
from crm.auth.permissions import Action, can, require
from crm.auth.scope import get_project_or_404
from crm.documents import queries as documents
from crm.errors import DomainError, apply_to_form
from crm.extensions import limiter
from crm.i18n import today
from crm.milestones.queries import work_calendar
from crm.portal import queries, services
from crm.portal.forms import ConfirmForm, LinkForm
from crm.transaction import transaction

bp = Blueprint("portal", __name__)

PORTAL_LOCALE = "zh_Hans_CN"  # the enterprise reads Chinese whatever the staff's choice
MISS_AUDIT_LIMIT = "1 per minute"


def _portal_limit() -> str:
    return current_app.config["RATELIMIT_PORTAL"]


def _portal_limit_exempt() -> bool:
    return not current_app.config["RATELIMIT_ENABLED"]


def _private(response: Response) -> Response:
    response.headers["X-Robots-Tag"] = "noindex, nofollow, noarchive"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _miss_audited() -> bool:
    """One audit event per address and minute for wrong tokens: enough to see someone
    guessing, too few for guessing from many addresses to fill the trail."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return True
    return limiter.limiter.hit(parse(MISS_AUDIT_LIMIT), "enterprise-link-miss",
                               get_remote_address())


def _open(token: str, *, view: bool = True):
    """The link the token opens today (a page view recorded when ``view``); 404 otherwise."""
    with transaction():
        link = services.open_page(token, today(), view=view, audit_miss=_miss_audited)
    if link is None:
        abort(404)
    return link


@bp.get("/e/<token>")
@limiter.limit(_portal_limit, exempt_when=_portal_limit_exempt)
def page(token: str):
    return _page(_open(token), token)


@bp.post("/e/<token>/confirm")
@limiter.limit(_portal_limit, exempt_when=_portal_limit_exempt)
def confirm(token: str):
    """The enterprise confirms the latest version of its service order."""
    link = _open(token, view=False)
    latest = queries.latest_order(link.project_id)
    if latest is None or latest.confirmed_by is not None:
        return redirect(url_for("portal.page", token=token) + "#order")
    with force_locale(PORTAL_LOCALE):
        form = ConfirmForm()
        if form.validate_on_submit():
            try:
                with transaction():
                    services.confirm(link, form.document_id.data,
                                     signer_name=form.signer_name.data,
                                     signer_title=form.signer_title.data,
                                     signer_phone=form.signer_phone.data)
            except DomainError as exc:
                form.form_errors.extend(apply_to_form(form, exc))
            else:
                return redirect(url_for("portal.page", token=token) + "#order")
    return _page(link, token, form, status=422)


def _page(link, token: str, form: ConfirmForm | None = None, status: int = 200) -> Response:
    project = link.project
    day = today()
    with force_locale(PORTAL_LOCALE):
        order = documents.service_order(project.id, number="", version=0, today=day,
                                        calendar=work_calendar())
        latest = queries.latest_order(project.id)
        if form is None and latest is not None and latest.confirmed_by is None:
            form = ConfirmForm(formdata=None, document_id=latest.document_id)
        html = render_template(
            "portal/page.html", token=token, project=project, order=order,
            waiting=queries.waiting_on_enterprise(project.id),
            reached=queries.reached(project.id), latest=latest, form=form, today=day)
    return _private(Response(html, status=status, mimetype="text/html"))


@bp.get("/e/<token>/order.pdf")
@limiter.limit(_portal_limit, exempt_when=_portal_limit_exempt)
def order_pdf(token: str):
    link = _open(token, view=False)
    latest = queries.latest_order(link.project_id)
    doc = queries.order_content(latest.document_id) if latest else None
    if doc is None:
        abort(404)
    response = Response(doc.content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = documents.content_disposition(
        doc.filename or documents.ascii_filename(doc), documents.ascii_filename(doc))
    return _private(response)


# -- the staff's side ---------------------------------------------------------------------------

def link_panel(project, user) -> dict:
    """The project page's panel (crm/web.py lists the panels): the active link, its views
    (one query)."""
    link, views, last = queries.link_with_views(project.id)
    return {"project": project, "link": link, "url": queries.page_url(link) if link else None,
            "views": views, "last_viewed_at": last,
            "can_manage": can(user, Action.ENTERPRISE_LINK)}


@bp.route("/projects/<int:project_id>/enterprise-link", methods=["GET", "POST"])
@login_required
def issue(project_id: int):
    """Issue the project's enterprise link (a new one replaces the active one)."""
    project = get_project_or_404(current_user, project_id)
    require(Action.ENTERPRISE_LINK)
    form = LinkForm()
    errors: list = []
    if form.validate_on_submit():
        try:
            with transaction():
                services.issue(project, actor_id=current_user.id, today=today(),
                               expires_on=form.expires_on.data)
        except DomainError as exc:
            errors = apply_to_form(form, exc)
        else:
            flash(_("A new enterprise link is active; the previous one no longer opens."),
                  "success")
            return redirect(url_for("projects.detail", project_id=project.id) + "#enterprise-link")
    status = 422 if form.errors or errors else 200
    return render_template("portal/issue.html", project=project, form=form, errors=errors,
                           active=services.active_link(project.id)), status


@bp.post("/projects/<int:project_id>/enterprise-link/revoke")
@login_required
def revoke(project_id: int):
    project = get_project_or_404(current_user, project_id)
    require(Action.ENTERPRISE_LINK)
    try:
        with transaction():
            services.revoke(project)
    except DomainError as exc:
        flash(str(exc), "danger")
    else:
        flash(_("The enterprise link no longer opens."), "success")
    return redirect(url_for("projects.detail", project_id=project.id) + "#enterprise-link")


@bp.get("/projects/<int:project_id>/enterprise-link/qr.svg")
@login_required
def qr(project_id: int):
    project = get_project_or_404(current_user, project_id)
    url = queries.link_url(project.id)
    if url is None:
        abort(404)
    response = Response(reports.qr_svg(url), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, no-store"
    return response
