"""The project page's supervision panel: the year's investment plan against what the rounds'
reports say was completed, and the project's coordination problems; setting a year's plan."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from crm.auth.permissions import Action, can, require
from crm.auth.scope import get_project_or_404
from crm.errors import DomainError
from crm.i18n import today
from crm.supervision import queries
from crm.supervision.forms import InvestmentPlanForm
from crm.supervision.services import investment
from crm.supervision.views import bp
from crm.transaction import transaction


def investment_panel(project, user) -> dict:
    """Three queries: the plan, the reported amounts, the problems."""
    year = today().year
    return {"investment": queries.project_investment(project, year),
            "problems": queries.project_problems(project.id),
            "plan_form": InvestmentPlanForm(formdata=None, year=year),
            "may_plan": can(user, Action.PROJECT_EDIT)}


@bp.post("/projects/<int:project_id>/investment-plan")
@login_required
def set_plan(project_id: int):
    project = get_project_or_404(current_user, project_id)
    require(Action.PROJECT_EDIT)
    form = InvestmentPlanForm()
    back = url_for("projects.detail", project_id=project_id, _anchor="investment")
    if not form.validate():
        for field in form:
            for message in field.errors:
                flash(f"{field.label.text}: {message}", "warning")
        return redirect(back, code=303)
    try:
        with transaction():
            investment.set_plan(project, year=form.year.data, planned=form.planned.data,
                                today=today())
    except DomainError as error:
        flash(str(error.message), "warning")
    else:
        flash(_("Investment plan for %(year)s saved.", year=form.year.data), "success")
    return redirect(back, code=303)
