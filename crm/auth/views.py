"""Login, logout, profile (password change, API tokens) and language choice; the Flask-Login
wiring (sessions identified by "user id:session token")."""

from __future__ import annotations

from flask import (
    Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from crm.auth import services
from crm.auth.forms import CalendarForm, ChangePasswordForm, LoginForm, TokenForm
from crm.auth.models import ApiToken, User
from crm.errors import DomainError, apply_to_form
from crm.extensions import db, limiter, login_manager
from crm.security import is_safe_next, verify_password
from crm.transaction import transaction

bp = Blueprint("auth", __name__)


def load_user(session_id: str) -> User | None:
    """The user of a login cookie "id:session token:login secret", while the user is active,
    the token has not rotated and that login has not ended (logout)."""
    user_id, token, secret = ((session_id or "").split(":") + ["", "", ""])[:3]
    if not user_id.isdigit() or len(user_id) > 10 or not token or not secret:
        return None
    return services.session_user(int(user_id), token, secret)


def init_login(app: Flask) -> None:
    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "warning"
    # "basic": a session seen from another address/agent is no longer "fresh".  Not "strong":
    # agents on phones change networks all day and must not be logged out each time.
    login_manager.session_protection = "basic"


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _login_limit_exempt() -> bool:
    return not current_app.config["RATELIMIT_ENABLED"]


def _login_username_key() -> str:
    """The second login limit's key: the username tried (case-insensitive), so guessing one
    account's password from many addresses is limited too."""
    return "login-user:" + (request.form.get("username") or "").strip().lower()[:50]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], exempt_when=_login_limit_exempt)
@limiter.limit(_login_limit, methods=["POST"], exempt_when=_login_limit_exempt,
               key_func=_login_username_key)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    next_url = request.args.get("next")
    if form.validate_on_submit():
        user = services.authenticate(form.username.data, form.password.data)
        if user is None:
            # One message for a wrong password, an unknown user and a disabled account.
            form.password.errors.append(_("Wrong username or password, or the account is disabled."))
        else:
            lang = session.get("lang")
            session.clear()  # a new session on login: nothing carries over
            if lang:
                session["lang"] = lang
            with transaction():
                secret = services.record_login(user)
            user.login_secret = secret  # the cookie names this login session
            login_user(user)
            session.permanent = True
            return redirect(next_url if is_safe_next(next_url) else url_for("main.home"))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        with transaction():  # the cookie stops working, even if someone copied it
            services.end_login(current_user.id, current_user.login_secret)
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


def _render_profile(form=None, token_form=None, new_secret=None):
    return render_template("auth/profile.html", form=form or ChangePasswordForm(formdata=None),
                           token_form=token_form or TokenForm(formdata=None),
                           tokens=services.tokens_of(current_user), new_secret=new_secret,
                           calendar_token=services.calendar_token(
                               current_user, current_app.config["SECRET_KEY"]))


@bp.post("/profile/calendar")
@login_required
def rotate_calendar():
    """A new secret address for the user's deadline calendar (the old one stops working)."""
    if not CalendarForm().validate_on_submit():
        abort(400)
    with transaction():
        services.rotate_calendar_feed(current_user, current_app.config["SECRET_KEY"])
    flash(_("Your calendar has a new address; subscribe to it again (the old one no longer "
            "works)."), "success")
    return redirect(url_for("auth.profile") + "#calendar")


@bp.post("/profile/tokens")
@login_required
def create_token():
    token_form = TokenForm()
    if not token_form.validate_on_submit():
        return _render_profile(token_form=token_form), 422
    with transaction():
        _, secret = services.create_token(current_user, token_form.name.data)
    # Shown in this response only: never stored in clear, never put in the (signed, readable)
    # session cookie.
    return _render_profile(new_secret=secret)


@bp.post("/profile/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    with transaction():
        services.revoke_token(token)
    flash(_("The API token was revoked."), "success")
    return redirect(url_for("auth.profile"))


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not verify_password(current_user.password_hash, form.current_password.data):
            form.current_password.errors.append(_("The current password is wrong."))
        else:
            user = current_user._get_current_object()
            try:
                with transaction():
                    revoked = services.set_password(user, form.new_password.data,
                                                    field="new_password")
                    secret = services.start_session(user)
            except DomainError as error:
                apply_to_form(form, error)
                return _render_profile(form=form), 422
            # The token rotated: every session is gone; this browser gets a new one.
            user.login_secret = secret
            login_user(user)
            flash(_("Password changed. Your other sessions have been logged out."), "success")
            if revoked:
                flash(ngettext("Your API token was revoked: create a new one for your scripts.",
                               "Your %(num)d API tokens were revoked: create new ones for your scripts.",
                               revoked), "warning")
            return redirect(url_for("auth.profile"))
    return _render_profile(form=form)


@bp.post("/language")
def set_language():
    lang = request.form.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        if current_user.is_authenticated:
            with transaction():
                current_user.locale = lang
    target = request.form.get("next")
    return redirect(target if is_safe_next(target) else url_for("main.home"))
