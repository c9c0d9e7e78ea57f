"""Login, logout, profile (password change) and language choice."""

from __future__ import annotations

from flask import (
    Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from crm.auth import services
from crm.auth.forms import ChangePasswordForm, LoginForm, TokenForm
from crm.extensions import db, limiter
from crm.security import is_safe_next, verify_password

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _login_limit_exempt() -> bool:
    return not current_app.config["RATELIMIT_ENABLED"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], exempt_when=_login_limit_exempt)
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
            login_user(user)
            session.permanent = True
            services.record_login(user)
            db.session.commit()
            return redirect(next_url if is_safe_next(next_url) else url_for("main.home"))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


def _render_profile(form=None, token_form=None, new_secret=None):
    from crm.api.tokens import tokens_of

    return render_template("auth/profile.html", form=form or ChangePasswordForm(formdata=None),
                           token_form=token_form or TokenForm(formdata=None),
                           tokens=tokens_of(current_user), new_secret=new_secret)


@bp.post("/profile/tokens")
@login_required
def create_token():
    from crm.api.tokens import create_token as create

    token_form = TokenForm()
    if not token_form.validate_on_submit():
        return _render_profile(token_form=token_form), 422
    _, secret = create(current_user, token_form.name.data)
    db.session.commit()
    # Shown in this response only: never stored in clear, never put in the (signed, readable)
    # session cookie.
    return _render_profile(new_secret=secret)


@bp.post("/profile/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    from crm.api.models import ApiToken
    from crm.api.tokens import revoke

    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    revoke(token)
    db.session.commit()
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
            services.set_password(current_user, form.new_password.data)
            db.session.commit()
            # The token rotated: every other session is gone; keep this one.
            login_user(current_user._get_current_object())
            flash(_("Password changed. Your other sessions have been logged out."), "success")
            return redirect(url_for("auth.profile"))
    return _render_profile(form=form)


@bp.post("/language")
def set_language():
    lang = request.form.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        if current_user.is_authenticated:
            current_user.locale = lang
            db.session.commit()
    target = request.form.get("next")
    return redirect(target if is_safe_next(target) else url_for("main.home"))
