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
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required
from limits import parse

import reports
from crm.auth.permissions import Action, can, require
from crm.auth.scope import get_project_or_404
from crm.documents import queries as documents
from crm.db import utcnow
from crm.errors import Conflict, DomainError, apply_to_form
from crm.extensions import limiter
from crm.i18n import today
from crm.milestones.queries import work_calendar
from crm.portal import queries, services
from crm.portal.forms import (
    AcceptForm, ClassifyForm, CloseForm, ComplaintForm, ConfirmForm, LinkForm, RatingForm,
    RectifyForm,
)
from crm.portal.services import ratings
from crm.transaction import transaction

bp = Blueprint("portal", __name__)

PORTAL_LOCALE = "zh_Hans_CN"  # the enterprise reads Chinese whatever the staff's choice
MISS_AUDIT_LIMIT = "1 per minute"


def _portal_limit() -> str:
    return current_app.config["RATELIMIT_PORTAL"]


def _portal_limit_exempt() -> bool:
    return not current_app.config["RATELIMIT_ENABLED"]


def rate_limited(view):
    """The enterprise pages' limit per address (later packages' /e/<token>/... routes too)."""
    return limiter.limit(_portal_limit, exempt_when=_portal_limit_exempt)(view)


def private(response: Response) -> Response:
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


def open_link(token: str, *, view: bool = True):
    """The link the token opens today (a page view recorded when ``view``); 404 otherwise."""
    with transaction():
        link = services.open_page(token, today(), view=view, audit_miss=_miss_audited)
    if link is None:
        abort(404)
    return link


@bp.get("/e/<token>")
@rate_limited
def page(token: str):
    return _page(open_link(token), token)


@bp.post("/e/<token>/confirm")
@rate_limited
def confirm(token: str):
    """The enterprise confirms the latest version of its service order."""
    link = open_link(token, view=False)
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


@bp.post("/e/<token>/rate")
@rate_limited
def rate(token: str):
    """The enterprise rates a finished approval or the whole service (or changes its rating)."""
    link = open_link(token, view=False)
    with force_locale(PORTAL_LOCALE):
        form = RatingForm()
        form.set_targets(queries.rating_targets(link.project, utcnow()))
        if form.validate_on_submit():
            try:
                with transaction():
                    ratings.rate(link, form.milestone_id(), form.scores(), form.comment.data,
                                 today=today(), calendar=work_calendar())
            except DomainError as exc:
                form.form_errors.extend(apply_to_form(form, exc))
            else:
                return redirect(url_for("portal.page", token=token, rated=1) + "#ratings")
    return _page(link, token, rating_form=form, status=422)


@bp.post("/e/<token>/complain")
@rate_limited
def complain(token: str):
    link = open_link(token, view=False)
    with force_locale(PORTAL_LOCALE):
        form = ComplaintForm()
        if form.validate_on_submit():
            try:
                with transaction():
                    ratings.complain(link, text=form.text.data,
                                     contact_name=form.contact_name.data,
                                     contact_phone=form.contact_phone.data, today=today(),
                                     calendar=work_calendar())
            except DomainError as exc:
                form.form_errors.extend(apply_to_form(form, exc))
            else:
                return redirect(url_for("portal.page", token=token, complained=1) + "#complaint")
    return _page(link, token, complaint_form=form, status=422)


def enterprise_panels(project, token: str) -> list[tuple[str, dict]]:
    """The sections later packages add to the page (crm/web.py lists them): each panel's
    context answers None when it has nothing for this project."""
    panels = sorted(current_app.extensions.get("enterprise_panels", ()),
                    key=lambda p: (p.order, p.name))
    shown = []
    for panel in panels:
        context = panel.context(project, token)
        if context is not None:
            shown.append((panel.template, context))
    return shown


def _page(link, token: str, form: ConfirmForm | None = None, status: int = 200, *,
          rating_form: RatingForm | None = None,
          complaint_form: ComplaintForm | None = None) -> Response:
    project = link.project
    day = today()
    with force_locale(PORTAL_LOCALE):
        targets = queries.rating_targets(project, utcnow())
        if rating_form is None:
            rating_form = RatingForm(formdata=None)
            rating_form.set_targets(targets)
        order = documents.service_order(project.id, number="", version=0, today=day,
                                        calendar=work_calendar())
        latest = queries.latest_order(project.id)
        if form is None and latest is not None and latest.confirmed_by is None:
            form = ConfirmForm(formdata=None, document_id=latest.document_id)
        html = render_template(
            "portal/page.html", token=token, project=project, order=order,
            panels=enterprise_panels(project, token),
            waiting=queries.waiting_on_enterprise(project.id),
            reached=queries.reached(project.id), latest=latest, form=form, today=day,
            targets=targets, rating_form=rating_form,
            complaint_form=complaint_form or ComplaintForm(formdata=None),
            rated=request.args.get("rated"), complained=request.args.get("complained"))
    return private(Response(html, status=status, mimetype="text/html"))


@bp.get("/e/<token>/order.pdf")
@rate_limited
def order_pdf(token: str):
    link = open_link(token, view=False)
    latest = queries.latest_order(link.project_id)
    doc = queries.order_content(latest.document_id) if latest else None
    if doc is None:
        abort(404)
    response = Response(doc.content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = documents.content_disposition(
        doc.filename or documents.ascii_filename(doc), documents.ascii_filename(doc))
    return private(response)


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


# -- the enterprise's ratings and the bad-review cases, on the staff's side -------------------

CASE_STEPS = {"classify": (ClassifyForm, Action.CASE_MANAGE),
              "rectify": (RectifyForm, Action.CASE_RECTIFY),
              "accept": (AcceptForm, Action.CASE_MANAGE),
              "close": (CloseForm, Action.CASE_MANAGE)}
CASE_DONE = {
    "classify": _l("The case is classified."),
    "rectify": _l("The rectification is recorded."),
    "accept": _l("The panel's acceptance is recorded."),
    "close": _l("The case is closed."),
}


def feedback_panel(project, user) -> dict:
    """The project page's panel: the enterprise's ratings and the cases they opened."""
    ratings_, cases = queries.project_feedback(project.id)
    return {"project": project, "ratings": ratings_, "cases": cases, "today": today()}


def _step(step: str, case, form) -> None:
    version = form.version.data
    if step == "classify":
        ratings.classify(case, form.classification.data, today=today(), calendar=work_calendar(),
                         version=version)
    elif step == "rectify":
        ratings.rectify(case, rectification=form.rectification.data,
                        rectified_on=form.rectified_on.data, today=today(), version=version)
    elif step == "accept":
        ratings.accept(case, panel_members=form.panel_members.data,
                       findings=form.rectification.data, accepted_on=form.rectified_on.data,
                       today=today(), version=version)
    else:
        ratings.close_by_phone(case, note=form.close_note.data, version=version)


def _case_forms(case, posted: str | None = None, form=None) -> dict:
    forms = {}
    for step, (form_class, _action) in CASE_STEPS.items():
        if step == posted:
            forms[step] = form
            continue
        blank = form_class(formdata=None)
        blank.version.data = case.version
        for name in ("rectified_on",):
            if name in blank:
                blank[name].data = today()
        forms[step] = blank
    return forms


@bp.get("/projects/<int:project_id>/cases/<int:case_id>")
@login_required
def case(project_id: int, case_id: int):
    return case_step(project_id, case_id, None)


@bp.post("/projects/<int:project_id>/cases/<int:case_id>/<step>")
@login_required
def case_step(project_id: int, case_id: int, step: str | None):
    project = get_project_or_404(current_user, project_id)
    found = queries.project_case(project.id, case_id)
    if found is None or (step is not None and step not in CASE_STEPS):
        abort(404)
    status, errors, form = 200, [], None
    if step is not None:
        form_class, action = CASE_STEPS[step]
        require(action)
        form = form_class()
        if not form.validate_on_submit():
            status = 422
        else:
            try:
                with transaction():
                    _step(step, found, form)
            except Conflict as exc:
                errors, status = [str(exc)], 409
            except DomainError as exc:
                errors, status = apply_to_form(form, exc), exc.status
            else:
                flash(str(CASE_DONE[step]), "success")
                return redirect(url_for("portal.case", project_id=project.id, case_id=found.id))
    return render_template("portal/case.html", project=project, case=found,
                           forms=_case_forms(found, step, form), posted=step, errors=errors,
                           today=today(), can_manage=can(current_user, Action.CASE_MANAGE),
                           can_rectify=can(current_user, Action.CASE_RECTIFY)), status
