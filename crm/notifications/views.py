"""The notification list (with unread count in the navigation bar)."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from crm.db import parse_id
from crm.notifications import queries, services
from crm.security import is_safe_next
from crm.transaction import transaction

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


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
