"""Flask-Login wiring: sessions identified by "user id:session token"."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from crm.auth.models import User
from crm.extensions import db, login_manager


def load_user(session_id: str) -> User | None:
    user_id, _, token = (session_id or "").partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_token != token:
        return None
    return user


def init_login(app: Flask) -> None:
    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "warning"
    # "basic": a session seen from another address/agent is no longer "fresh".  Not "strong":
    # agents on phones change networks all day and must not be logged out each time.
    login_manager.session_protection = "basic"
