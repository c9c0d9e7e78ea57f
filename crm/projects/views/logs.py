"""Progress-log routes: log (htmx-enhanced, plain POST without JavaScript), edit within 24
hours, annotate, close a blocker, delete (admins).

The short log form is the partial ``projects/_log_form.html``.  Any page can include it: it
takes ``log_form`` from the page or builds one with the ``quick_log_form()`` template global
(a project select of the user's projects), and posts to ``projects.add_log``, which answers
an htmx request with the partial again and a plain POST with a redirect to ``next``.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from crm.auth.permissions import Action, require
from crm.errors import DomainError
from crm.milestones.queries import plan
from crm.projects import queries, services
from crm.projects.forms import (
    AnnotationForm, CloseBlockerForm, DeleteLogForm, LogEditForm, LogForm, fill_log_choices,
    options, project_log_form,
)
from crm.projects.models import ProgressLog, Project
from crm.projects.views import bp
from crm.projects.views.pages import activity_context, load_project, render_detail
from crm.security import is_safe_next
from crm.transaction import transaction


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def _chosen_project(form: LogForm) -> Project | None:
    chosen = form.project.data
    if chosen is None or chosen not in {c.value for c in form.project.choices}:
        return None
    return queries.get_project(chosen)


def quick_log_form(formdata=None) -> LogForm:
    """The log form with a project select (the user's projects).  Without formdata it is
    blank; with it, the chosen project's approval items and open blockers are offered."""
    form = LogForm(formdata=formdata)
    form.project.choices = options(queries.log_targets(current_user), blank="—")
    # Changing the project offers its approval items and open blockers (htmx).
    form.project.render_kw = {
        "hx-get": url_for("projects.log_form_fragment"), "hx-trigger": "change",
        "hx-target": "#log-form-box", "hx-swap": "outerHTML", "hx-include": "closest form",
        "hx-params": "not csrf_token",
    }
    project = _chosen_project(form) if formdata is not None else None
    milestones, blockers = [], []
    if project is not None:
        milestones = plan(project.id)
        blockers = queries.open_blockers(project.id)
    fill_log_choices(form, milestones=milestones, blockers=blockers)
    return form


@bp.app_template_global("quick_log_form")
def _quick_log_form_global() -> LogForm:
    return quick_log_form()


def _save(form: LogForm, project: Project, blockers) -> ProgressLog:
    resolves = next((b for b in blockers if b.id == form.resolves.data), None)
    return services.add_log(project, author_id=current_user.id, kind=form.kind.data,
                            happened_on=form.happened_on.data, text=form.text.data,
                            hours=form.hours.data, milestone_id=form.milestone.data,
                            resolves=resolves)


def _saved_message(project: Project) -> str:
    return _("Logged on %(project)s.", project=project.name)


@bp.post("/<int:project_id>/logs")
@login_required
def add_project_log(project_id: int):
    project = load_project(project_id)
    require(Action.LOG_CREATE)
    blockers = queries.open_blockers(project.id)
    form = project_log_form(project, blockers)
    if form.validate_on_submit():
        with transaction():
            log = _save(form, project, blockers)
        if not is_htmx():
            flash(_saved_message(project), "success")
            return redirect(url_for("projects.detail", project_id=project.id, _anchor=f"log-{log.id}"))
        context = activity_context(project)
        fresh = project_log_form(project, context["blockers"], formdata=None)
        return (render_template("projects/_log_form.html", log_form=fresh, log_project=project,
                                log_saved=_saved_message(project))
                + render_template("projects/_activity.html", oob=True, **context))
    if is_htmx():
        return render_template("projects/_log_form.html", log_form=form, log_project=project)
    return render_detail(project, log_form=form)


@bp.post("/logs")
@login_required
def add_log():
    require(Action.LOG_CREATE)
    form = quick_log_form(formdata=request.form)
    next_url = request.form.get("next")
    next_url = next_url if is_safe_next(next_url) else None
    valid = form.validate_on_submit()
    project = _chosen_project(form) if valid else None
    if valid and project is None:  # the blank choice ("—"), however it was written
        form.project.errors = [*form.project.errors, _("Choose one of your projects.")]
    elif valid:
        with transaction():
            _save(form, project, queries.open_blockers(project.id))
        if is_htmx():
            return render_template("projects/_log_form.html", log_form=quick_log_form(),
                                   log_saved=_saved_message(project), log_next=next_url)
        flash(_saved_message(project), "success")
        return redirect(next_url or url_for("projects.detail", project_id=project.id))
    if is_htmx():  # (htmx swaps 200 answers only: the form comes back with its messages)
        return render_template("projects/_log_form.html", log_form=form, log_next=next_url)
    return render_template("projects/log_new.html", log_form=form, log_next=next_url)


@bp.get("/logs/form")
@login_required
def log_form_fragment():
    """The quick log form again after the project select changed (htmx)."""
    next_url = request.args.get("next")
    return render_template("projects/_log_form.html", log_form=quick_log_form(formdata=request.args),
                           log_next=next_url if is_safe_next(next_url) else None)


# -- one entry -----------------------------------------------------------------------------

def _log_or_404(log_id: int) -> ProgressLog:
    log = queries.visible_log(current_user, log_id)
    if log is None:
        abort(404)
    return log


def _back_to(log: ProgressLog):
    return redirect(url_for("projects.detail", project_id=log.project_id, _anchor=f"log-{log.id}"),
                    code=303)


@bp.route("/logs/<int:log_id>/edit", methods=["GET", "POST"])
@login_required
def edit_log(log_id: int):
    log = _log_or_404(log_id)
    require(Action.LOG_CREATE)
    if not services.can_edit(log, current_user.id):
        flash(_("Only its author can edit an entry, and only for 24 hours; add an annotation "
                "instead."), "warning")
        return _back_to(log)
    project = load_project(log.project_id)
    form = LogEditForm(obj=log) if request.method == "GET" else LogEditForm()
    if request.method == "GET":
        form.milestone.data = log.milestone_id
    fill_log_choices(form, milestones=project.milestones, blockers=())
    if form.validate_on_submit():
        try:
            with transaction():
                services.edit_log(log, user_id=current_user.id, happened_on=form.happened_on.data,
                                  text=form.text.data, hours=form.hours.data,
                                  milestone_id=form.milestone.data)
        except DomainError as error:
            flash(str(error.message), "warning")
        else:
            flash(_("Entry updated."), "success")
        return _back_to(log)
    return render_template("projects/log_edit.html", form=form, log=log, project=project)


def _entry_action(log_id: int, action: Action, form_class, kind: str, apply):
    """Load an entry in the user's scope (404), check the role (403), validate the form and
    ``apply(log, form)``; on bad input, the project page with the message next to the
    field."""
    log = _log_or_404(log_id)
    require(action)
    form = form_class()
    if form.validate_on_submit():
        back = url_for("projects.detail", project_id=log.project_id, _anchor=f"log-{log.id}")
        try:
            with transaction():
                apply(log, form)
        except DomainError as error:
            flash(str(error.message), "warning")
        return redirect(back, code=303)
    return render_detail(load_project(log.project_id), failed=(log.id, kind, form))


@bp.post("/logs/<int:log_id>/annotate")
@login_required
def annotate(log_id: int):
    return _entry_action(log_id, Action.LOG_CREATE, AnnotationForm, "annotate", lambda log, form:
                         services.annotate(log, author_id=current_user.id, text=form.text.data))


@bp.post("/logs/<int:log_id>/close")
@login_required
def close_blocker(log_id: int):
    log = _log_or_404(log_id)
    if not log.is_open_blocker:
        flash(_("This blocker is already resolved."), "info")
        return _back_to(log)
    return _entry_action(log_id, Action.LOG_CREATE, CloseBlockerForm, "close", lambda log, form:
                         services.close_blocker(log, actor_id=current_user.id, note=form.note.data))


@bp.post("/logs/<int:log_id>/delete")
@login_required
def delete_log(log_id: int):
    def apply(log, form):
        services.delete_log(log, reason=form.reason.data)
        if not is_htmx():
            flash(_("Entry deleted."), "success")

    return _entry_action(log_id, Action.LOG_DELETE, DeleteLogForm, "delete", apply)
