"""The monthly callback sample (回访抽样) on the staff's side: the months drawn, a month's call
list on screen and as .xlsx for the third-party surveyor, and the results entered back."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, send_file, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from crm.auth.permissions import Action, can, require
from crm.auth.scope import park_condition
from crm.errors import DomainError, apply_to_form
from crm.i18n import today
from crm.labels import label
from crm.milestones.queries import work_calendar
from crm.portal import queries
from crm.portal.forms import CallbackForm
from crm.portal.models import DIMENSIONS, CallbackItem
from crm.portal.services import ratings
from crm.portal.services.callbacks import MONTH
from crm.portal.views import bp
from crm.spreadsheets import write_xlsx
from crm.transaction import transaction

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _scope():
    require(Action.CALLBACKS)
    return _parks()


def _parks():
    return park_condition(current_user, CallbackItem.park_id)


def _month(month: str) -> str:
    if not MONTH.match(month):
        abort(404)
    return month


@bp.get("/callbacks")
@login_required
def callbacks():
    months = queries.callback_months(_scope())
    if months:
        return redirect(url_for("portal.callback_month", month=months[0].month))
    return render_template("portal/callbacks.html", months=[], month=None, rows=[])


@bp.get("/callbacks/<month>")
@login_required
def callback_month(month: str):
    condition = _scope()
    month = _month(month)
    rows = queries.callback_rows(month, condition)
    return render_template("portal/callbacks.html", months=queries.callback_months(condition),
                           month=month, rows=rows,
                           can_enter=can(current_user, Action.CASE_MANAGE))


@bp.get("/callbacks/<month>.xlsx")
@login_required
def callback_sheet(month: str):
    rows = queries.callback_rows(_month(month), _scope())
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        headers = [_("Park"), _("Project"), _("Investor"), _("Enterprise contact"),
                   _("Contact phone"), _("Approval item"), _("Handling department"),
                   _("Accepted"), _("Completed"), _("Served by"),
                   *(label("dimension", d) for d in DIMENSIONS), _("Comment")]
        widths = [18, 34, 28, 10, 16, 24, 22, 12, 12, 10, 10, 10, 10, 10, 10, 40]
        lines = ((r.park, r.project, r.investor, r.contact_name, r.contact_phone, r.milestone,
                  r.department, r.accepted_on, r.completed_on, r.served_by,
                  *(r.rating.scores()[d] if r.rating else None for d in DIMENSIONS),
                  r.rating.comment if r.rating else None) for r in rows)
        out = write_xlsx(_("Callbacks %(month)s", month=month), headers, lines, widths)
        name = _("callbacks-%(month)s.xlsx", month=month)
    return send_file(out, as_attachment=True, download_name=name, mimetype=XLSX)


@bp.route("/callbacks/items/<int:item_id>", methods=["GET", "POST"])
@login_required
def callback_result(item_id: int):
    item = queries.callback_item(item_id, _parks())  # out of scope: 404 whatever the role
    if item is None:
        abort(404)
    require(Action.CASE_MANAGE)
    form = CallbackForm()
    errors: list = []
    status = 200
    if form.validate_on_submit():
        try:
            with transaction():
                ratings.record_callback(item, form.scores(), form.comment.data, today=today(),
                                        calendar=work_calendar())
        except DomainError as exc:
            errors, status = apply_to_form(form, exc), exc.status
        else:
            flash(_("The callback's result is recorded."), "success")
            return redirect(url_for("portal.callback_month", month=item.month))
    elif form.is_submitted():
        status = 422
    return render_template("portal/callback_result.html", item=item, form=form,
                           errors=errors), status
