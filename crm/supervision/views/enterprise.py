"""The enterprise's part of its project's round reports, on its progress page: the page's
section listing the open rounds, and the form (/e/<token>/rounds/<id>).  The token opens it as
it opens the page (crm.portal); a round the project is not in answers 404."""

from __future__ import annotations

from flask import Response, abort, redirect, render_template, request, url_for
from flask_babel import force_locale

from crm.db import parse_id
from crm.errors import DomainError, apply_to_form
from crm.portal.views import PORTAL_LOCALE, open_link, private, rate_limited
from crm.supervision import queries
from crm.supervision.forms import EnterprisePartForm
from crm.supervision.services import enterprise
from crm.supervision.views import bp
from crm.transaction import transaction


def enterprise_rounds_panel(project, token: str) -> dict | None:
    """The progress page's section: the open rounds waiting for the enterprise's part."""
    reports = queries.open_reports_of_project(project.id)
    if not reports:
        return None
    return {"token": token, "reports": reports}


@bp.route("/e/<token>/rounds/<int:round_id>", methods=["GET", "POST"])
@rate_limited
def enterprise_part(token: str, round_id: int):
    link = open_link(token, view=False)
    found = queries.open_reports_of_project(link.project_id, round_id)
    if not found:
        abort(404)
    report = found[0]
    part = report.enterprise_part
    status = 200
    with force_locale(PORTAL_LOCALE):
        if request.method == "POST":
            form, status = EnterprisePartForm(), 422
            if form.validate_on_submit():
                try:
                    with transaction():
                        enterprise.fill(
                            report, progress=form.progress.data,
                            investment_completed=form.investment_completed.data,
                            needs=form.needs.data, contact_name=form.contact_name.data,
                            contact_phone=form.contact_phone.data,
                            expected_version=parse_id(form.version.data))
                except DomainError as error:
                    form.form_errors.extend(apply_to_form(form, error))
                    status = error.status
                else:
                    return private(redirect(
                        url_for("portal.page", token=token, reported=round_id) + "#rounds",
                        code=303))
        else:
            form = EnterprisePartForm(obj=part)
            form.version.data = part.version if part else ""
        html = render_template("supervision/enterprise_part.html", token=token, report=report,
                               project=link.project, park_name=link.project.park.name,
                               form=form)
    return private(Response(html, status=status, mimetype="text/html"))
