"""The notification list (with unread count in the navigation bar), each user's alert
settings, a park's WeCom group robot and the delivery log of the back office."""

from __future__ import annotations

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from crm.auth.permissions import Action, require
from crm.auth.scope import get_park_or_404
from crm.db import parse_id
from crm.extensions import db
from crm.notifications import delivery, outbox, queries, services, settings
from crm.notifications.forms import AlertPreferencesForm, ParkRobotForm, PostForm, mode_field
from crm.notifications.messages import CHOOSABLE, KIND_LABELS
from crm.notifications.models import Delivery, DeliveryStatus
from crm.security import is_safe_next
from crm.transaction import transaction

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


def escalations_panel(project, user) -> dict:
    """The project page's section: the escalation steps taken (none: nothing shown)."""
    return {"escalations": queries.project_escalations(project.id)}


@bp.get("/")
@login_required
def index():
    items = queries.recent(current_user.id)
    return render_template("notifications/list.html", items=items, render=queries.message)


@bp.post("/read")
@login_required
def mark_read():
    raw = request.form.get("id")
    notification_id = parse_id(raw)
    if raw and (notification_id is None or not queries.is_recipient(current_user.id,
                                                                     notification_id)):
        abort(404)  # not one of yours: as if it did not exist
    with transaction():
        services.mark_read(current_user.id, notification_id)
    target = request.form.get("next")
    return redirect(target if is_safe_next(target) else url_for("notifications.index"))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def preferences():
    """Where the user's alerts reach them: the email address and, per kind, at once, in the
    daily digest or not by email (in-app alerts always)."""
    form_class = AlertPreferencesForm
    if request.method == "GET":
        form = form_class(formdata=None, email=current_user.email, **{
            mode_field(kind): mode for kind, mode in settings.preferences(current_user.id).items()})
        return render_template("notifications/settings.html", form=form, kinds=CHOOSABLE,
                               mail=outbox.mail_configured())
    form = form_class()
    email = None
    if form.validate_on_submit():
        if form.email.data and form.email.data.strip():
            try:
                email = settings.normalise_email(form.email.data)
            except ValueError as error:
                form.email.errors.append(str(error))
        if not form.email.errors:
            with transaction():
                settings.save_preferences(current_user._get_current_object(), email, {
                    kind: getattr(form, mode_field(kind)).data for kind in CHOOSABLE})
            flash(_("Your alert settings were saved."), "success")
            return redirect(url_for("notifications.preferences"))
    return render_template("notifications/settings.html", form=form, kinds=CHOOSABLE,
                           mail=outbox.mail_configured()), 422


def _robot_page(park, form, status=200):
    robot = settings.park_robot(park.id)
    return render_template("notifications/park_robot.html", park=park, form=form,
                           robot=robot, masked=settings.mask(robot.robot_key) if robot else None,
                           action_form=PostForm(formdata=None)), status


@bp.route("/parks/<int:park_id>/robot", methods=["GET", "POST"])
@login_required
def park_robot(park_id: int):
    """A park's WeCom group robot: its address (never shown back in full) and what the
    group hears.  The park's managers and admins."""
    park = get_park_or_404(current_user, park_id)
    require(Action.ROSTER_EDIT)
    robot = settings.park_robot(park.id)
    if request.method == "GET":
        return _robot_page(park, ParkRobotForm(formdata=None,
                                               kinds=robot.kinds if robot else []))
    form = ParkRobotForm()
    if not form.validate_on_submit():
        return _robot_page(park, form, 422)
    try:
        with transaction():
            settings.save_robot(park.id, (form.url.data or "").strip() or None,
                                form.kinds.data or [], current_user.id)
    except ValueError as error:
        form.url.errors = [*form.url.errors, str(error)]
        return _robot_page(park, form, 422)
    flash(_("The group robot was saved."), "success")
    return redirect(url_for("notifications.park_robot", park_id=park.id))


def _robot_action(park_id: int, act, message: str):
    park = get_park_or_404(current_user, park_id)
    require(Action.ROSTER_EDIT)
    if not PostForm().validate_on_submit():
        abort(400)
    if settings.park_robot(park.id) is None:
        flash(_("This park has no group robot yet."), "warning")
    else:
        with transaction():
            act(park)
        flash(message, "success")
    return redirect(url_for("notifications.park_robot", park_id=park.id))


@bp.post("/parks/<int:park_id>/robot/test")
@login_required
def test_robot(park_id: int):
    return _robot_action(park_id, settings.test_robot,
                         _("A test message is on its way to the group; its outcome shows in "
                           "the delivery log."))


@bp.post("/parks/<int:park_id>/robot/remove")
@login_required
def remove_robot(park_id: int):
    return _robot_action(park_id, lambda park: settings.remove_robot(park.id),
                         _("The group robot was removed."))


@bp.get("/deliveries")
@login_required
def deliveries():
    """The delivery log (admins): every message for email and WeCom, its tries and errors."""
    require(Action.ADMIN)
    status = request.args.get("status")
    if status not in {s.value for s in DeliveryStatus}:
        status = None
    page = max(1, parse_id(request.args.get("page")) or 1)
    size = current_app.config["PAGE_SIZE"] * 2
    rows, more = queries.delivery_page(status, page, size)
    return render_template("notifications/deliveries.html", rows=rows, more=more, page=page,
                           status=status, counts=queries.delivery_counts(),
                           statuses=[s.value for s in DeliveryStatus], kind_labels=KIND_LABELS,
                           render=queries.delivery_message, action_form=PostForm(formdata=None))


@bp.post("/deliveries/<int:delivery_id>/resend")
@login_required
def resend(delivery_id: int):
    require(Action.ADMIN)
    if not PostForm().validate_on_submit():
        abort(400)
    item = db.session.get(Delivery, delivery_id)
    if item is None:
        abort(404)
    if item.status not in (DeliveryStatus.FAILED.value, DeliveryStatus.DEAD.value):
        flash(_("Only a failed message can be sent again."), "warning")
    else:
        with transaction():
            delivery.resend(item)
        flash(_("The message will be sent again in a moment."), "success")
    return redirect(url_for("notifications.deliveries", status=request.args.get("status")))
