"""The back office (Flask-Admin at /admin): admins only.

Forms use Flask-WTF's FlaskForm as their base, so they carry the same CSRF token that
CSRFProtect checks app-wide (giving Flask-Admin its own SecureForm would add a second,
conflicting token and break every save).
"""

from __future__ import annotations

import datetime as dt
import re

from flask import Flask, abort, redirect, request, url_for
from flask_admin import Admin, AdminIndexView, expose
from flask_admin.menu import MenuLink
from flask_admin.contrib.sqla import ModelView
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from wtforms import PasswordField, ValidationError
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from crm.auth import services as user_services
from crm.auth.models import Role
from crm.auth.permissions import Action, can
from crm.db import parse_id
from crm.errors import DomainError
from crm.extensions import db
from crm.i18n import local_time
from crm.labels import choices, label
from crm.milestones.models import CalendarOverride
from crm.milestones.queries import build_calendar
from crm.milestones.services.forecasts import mark_stale, queue_refresh
from crm.milestones.services.plans import check_commitment, check_requires
from crm.milestones.services.schedules import recompute_open
from crm.security import csp_nonce

IMPORT_LINK_LABEL = _l("Load a holiday schedule")  # the back office's menu link


class _AdminOnly:
    def is_accessible(self) -> bool:
        return can(current_user, Action.ADMIN)

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        abort(403)


class HomeView(_AdminOnly, AdminIndexView):
    @expose("/")
    def index(self):
        return self.render("admin/index.html")


class AdminForm(FlaskForm):
    """Flask-WTF's form (the app-wide CSRF token) that also remembers the edited object, as
    Flask-Admin's own BaseForm does (its Unique validator needs ``_obj``)."""

    def __init__(self, formdata=_Auto, obj=None, prefix="", **kwargs):
        self._obj = obj
        super().__init__(formdata=formdata, obj=obj, prefix=prefix, **kwargs)


def _label_formatter(group: str, attribute: str):
    return lambda view, context, model, name: label(group, getattr(model, attribute))


def _local_time_formatter(view, context, model, name):
    return local_time(getattr(model, name))


class SecuredModelView(_AdminOnly, ModelView):
    form_base_class = AdminForm
    page_size = 50
    can_view_details = True
    can_export = False

    def get_one(self, id):
        """The record of an ``?id=`` in the URL; text or a number no id column holds names
        nothing (Flask-Admin then says the record does not exist) instead of reaching the
        database driver."""
        pk = parse_id(id)
        return super().get_one(str(pk)) if pk else None


def division_code(form, field):
    """GB/T 2260: six digits (the message as text: Flask-Admin shows only str messages)."""
    if not re.fullmatch(r"[1-8][0-9]{5}", field.data or ""):
        raise ValidationError(str(_l("A division code has 6 digits (GB/T 2260).")))


class DistrictView(SecuredModelView):
    column_list = ("code", "name")
    column_searchable_list = ("code", "name")
    column_labels = {"code": _l("Division code"), "name": _l("Name")}
    form_columns = ("code", "name")
    form_args = {"code": {"validators": [InputRequired(), division_code]},
                 "name": {"validators": [InputRequired(), Length(max=50)]}}


class DepartmentView(SecuredModelView):
    """Departments problems can be taken to, beside the approval catalogue's."""

    column_list = ("name", "active")
    column_searchable_list = ("name",)
    column_labels = {"name": _l("Name"), "active": _l("Active")}
    form_columns = ("name", "active")
    form_args = {"name": {"validators": [InputRequired(), Length(max=100)]}}


class ParkView(SecuredModelView):
    column_list = ("name", "short_name", "level", "district")
    column_searchable_list = ("name", "short_name")
    column_filters = ("level", "district")
    column_labels = {"name": _l("Name"), "short_name": _l("Short name"), "level": _l("Level"),
                     "district": _l("District"), "address": _l("Address"), "phone": _l("Phone")}
    form_columns = ("name", "short_name", "level", "district", "address", "phone")
    form_choices = {"level": choices("park_level")}
    column_formatters = {"level": _label_formatter("park_level", "level")}


class StaffView(SecuredModelView):
    column_list = ("name", "kind", "phone", "capacity", "on_leave_until", "active", "parks")
    column_searchable_list = ("name", "phone")
    column_filters = ("kind", "active", "parks")
    column_labels = {"name": _l("Name"), "kind": _l("Kind"), "phone": _l("Phone"),
                     "title": _l("Title"), "capacity": _l("Capacity"),
                     "on_leave_until": _l("On leave until"), "active": _l("Enabled"),
                     "released": _l("Released to other parks"), "parks": _l("Parks served")}
    form_columns = ("name", "kind", "title", "phone", "capacity", "on_leave_until", "active",
                    "released", "parks")
    form_choices = {"kind": choices("staff_kind")}
    form_args = {
        "capacity": {"validators": [InputRequired(), NumberRange(
            min=1, max=1000, message=_l("Enter a number of projects from 1 to 1000."))]},
        "released": {"description": _l("A park manager may then add this person to their park "
                                       "(otherwise only people who serve no park).")},
    }
    column_formatters = {"kind": _label_formatter("staff_kind", "kind")}


class UserView(SecuredModelView):
    column_list = ("username", "display_name", "role", "active", "staff", "parks", "last_login_at")
    column_searchable_list = ("username", "display_name")
    column_filters = ("role", "active")
    column_exclude_list = ("password_hash", "session_token")
    column_details_exclude_list = ("password_hash", "session_token")
    column_labels = {"username": _l("Username"), "display_name": _l("Name"), "role": _l("Role"),
                     "active": _l("Enabled"), "staff": _l("Staff record"),
                     "parks": _l("Parks managed"), "last_login_at": _l("Last login"),
                     "new_password": _l("New password"), "locale": _l("Language")}
    form_columns = ("username", "display_name", "role", "active", "staff", "parks", "locale",
                    "new_password")
    form_extra_fields = {
        "new_password": PasswordField(
            _l("New password"), validators=[Optional()],
            description=_l("Leave empty to keep the current password."),
        )
    }
    column_formatters = {"role": _label_formatter("role", "role"),
                         "last_login_at": _local_time_formatter}
    form_choices = {
        "role": [(code, text) for code, text in choices("role")],
        "locale": [("zh_Hans_CN", "中文"), ("en", "English")],
    }

    action_disallowed_list = ["delete"]  # one by one, so the guards below always run

    def on_model_change(self, form, model, is_created):
        password = form.new_password.data
        if password:
            try:
                user_services.set_password(model, password, field="new_password")
            except DomainError as exc:
                raise ValidationError(str(exc)) from exc
        elif is_created:
            raise ValidationError(str(_l("A new user needs a password.")))
        if not is_created:
            self._keep_an_admin(model, removing=not (model.active and model.role == Role.ADMIN))
        user_services.set_active(model, model.active)

    def on_model_delete(self, model):
        if model.id == current_user.id:
            raise ValidationError(str(_l("You cannot delete your own account.")))
        self._keep_an_admin(model, removing=True)
        super().on_model_delete(model)

    @staticmethod
    def _keep_an_admin(model, removing: bool) -> None:
        """Refuse to delete, demote or disable the last enabled administrator."""
        if removing and user_services.is_last_admin(model.id):
            raise ValidationError(str(_l("This is the last enabled administrator: make someone "
                                         "else an administrator first.")))


class ApprovalItemView(SecuredModelView):
    column_list = ("sort_order", "name", "stage", "department", "statutory_limit",
                   "statutory_unit", "committed_limit", "committed_unit", "applicability",
                   "district", "active")
    column_default_sort = "sort_order"
    column_searchable_list = ("name", "department", "code")
    column_filters = ("stage", "district", "active")
    column_formatters = {
        "stage": _label_formatter("stage", "stage"),
        "statutory_unit": _label_formatter("limit_unit", "statutory_unit"),
        "committed_unit": _label_formatter("limit_unit", "committed_unit"),
        "applicability": _label_formatter("applicability", "applicability"),
    }
    column_labels = {"name": _l("Name"), "stage": _l("Stage"), "department": _l("Handling department"),
                     "statutory_limit": _l("Statutory limit"), "statutory_unit": _l("Unit"),
                     "committed_limit": _l("Committed limit"), "committed_unit": _l("Unit"),
                     "applicability": _l("Applies to"), "district": _l("District"),
                     "active": _l("Enabled"), "sort_order": _l("Order"), "code": _l("Code"),
                     "required": _l("Required"), "required_materials": _l("Required materials"),
                     "requires": _l("Needs issued first"),
                     "extension_allowance": _l("Extension allowed (working days)")}
    form_columns = ("code", "name", "department", "stage", "statutory_limit", "statutory_unit",
                    "committed_limit", "committed_unit", "applicability", "required",
                    "required_materials", "requires", "extension_allowance", "sort_order",
                    "district", "active")
    form_args = {
        "requires": {"description": _l("The codes of the items that must be issued before this "
                                       "one can be accepted, separated by spaces; items that "
                                       "need nothing of each other run in parallel. New plans "
                                       "copy them; existing plans keep theirs.")},
        "extension_allowance": {"validators": [InputRequired(), NumberRange(
            min=0, max=60, message=_l("Enter a number of working days from 0 to 60."))]},
    }
    form_choices = {
        "statutory_unit": choices("limit_unit"),
        "committed_unit": choices("limit_unit"),
        "stage": [(c, t) for c, t in choices("stage") if c in ("filing", "land", "planning", "permitting")],
        "applicability": choices("applicability"),
    }

    def on_model_change(self, form, model, is_created):
        try:
            model.requires = check_requires(model, model.requires)
        except DomainError as exc:
            raise ValidationError(str(exc)) from exc


class CommitmentRuleView(SecuredModelView):
    """The parks' whole-chain promises.  A saved change marks every forecast stale; the
    forecast job (hourly, and queued at once) recomputes the promises."""

    column_list = ("name", "park", "approval_mode", "start_code", "end_code", "limit_workdays",
                   "active")
    column_labels = {"name": _l("Name"), "park": _l("Park"), "approval_mode": _l("Approval mode"),
                     "start_code": _l("From the issue of (code)"),
                     "end_code": _l("To the issue of (code)"),
                     "limit_workdays": _l("Working days"), "active": _l("Enabled")}
    column_formatters = {"approval_mode": lambda v, c, m, n: (
        label("approval_mode", m.approval_mode) if m.approval_mode else _l("Any"))}
    form_columns = ("name", "park", "approval_mode", "start_code", "end_code", "limit_workdays",
                    "active")
    form_choices = {"approval_mode": [("", _l("Any")), *choices("approval_mode")]}
    form_args = {
        "name": {"validators": [InputRequired(), Length(max=100)]},
        "park": {"description": _l("Empty: the whole city (a park's own promise replaces it).")},
        "limit_workdays": {"validators": [InputRequired(), NumberRange(
            min=1, max=1000, message=_l("Enter a number of working days from 1 to 1000."))]},
    }

    def on_model_change(self, form, model, is_created):
        model.approval_mode = model.approval_mode or None
        try:
            check_commitment(model)
        except DomainError as exc:
            raise ValidationError(str(exc)) from exc
        mark_stale()

    def on_model_delete(self, model):
        mark_stale()

    def after_model_change(self, form, model, is_created):
        queue_refresh()

    def after_model_delete(self, model):
        queue_refresh()


class RecomputesDeadlines:
    """Flask-Admin hooks for calendar overrides: a saved or deleted override recomputes every
    open deadline in the same transaction (Flask-Admin commits it).  Also reads the date key of
    the edit and delete URLs as a date (SQLite's Date type refuses the string)."""

    action_disallowed_list = ["delete"]  # the mass delete passes string keys; delete one by one

    def get_one(self, id):
        try:
            day = dt.date.fromisoformat(str(id))
        except ValueError:
            return None
        return db.session.get(CalendarOverride, day)

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        db.session.flush()
        recompute_open(build_calendar())

    def on_model_delete(self, model):
        super().on_model_delete(model)
        recompute_open(build_calendar(exclude_days=[model.day]))


class CalendarOverrideView(RecomputesDeadlines, SecuredModelView):
    column_list = ("day", "is_workday", "note", "created_at")
    column_formatters = {"created_at": _local_time_formatter}
    column_default_sort = ("day", True)
    column_labels = {"day": _l("Date"), "is_workday": _l("Working day"), "note": _l("Note"),
                     "created_at": _l("Created")}
    form_columns = ("day", "is_workday", "note")


class AuditEventView(SecuredModelView):
    can_create = False
    can_edit = False
    can_delete = False
    column_list = ("occurred_at", "user", "action", "entity_type", "entity_id", "project_id",
                   "changes", "note")
    column_default_sort = ("occurred_at", True)
    column_formatters = {"occurred_at": _local_time_formatter}
    column_filters = ("action", "entity_type", "entity_id", "project_id")
    column_labels = {"occurred_at": _l("Time"), "user": _l("User"), "action": _l("Action"),
                     "entity_type": _l("Record type"), "entity_id": _l("Record"),
                     "project_id": _l("Project"), "changes": _l("Changes"), "note": _l("Note")}


def init_admin(app: Flask) -> Admin:
    from crm import models as m

    admin = Admin(
        name=_l("Daiban back office"),
        url="/admin",
        index_view=HomeView(url="/admin"),
        theme=Bootstrap4Theme(fluid=True),
        csp_nonce_generator=csp_nonce,
    )
    admin.add_view(DistrictView(m.District, db, name=_l("Districts"), endpoint="admin_districts"))
    admin.add_view(ParkView(m.Park, db, name=_l("Parks"), endpoint="admin_parks"))
    admin.add_view(StaffView(m.Staff, db, name=_l("Staff"), endpoint="admin_staff"))
    admin.add_view(UserView(m.User, db, name=_l("Users"), endpoint="admin_users"))
    admin.add_view(ApprovalItemView(m.ApprovalItem, db, name=_l("Approval items"),
                                    endpoint="admin_approval_items"))
    admin.add_view(CommitmentRuleView(m.CommitmentRule, db, name=_l("Whole-chain promises"),
                                      endpoint="admin_commitments"))
    admin.add_view(CalendarOverrideView(m.CalendarOverride, db, name=_l("Calendar"),
                                        endpoint="admin_calendar"))
    admin.add_view(DepartmentView(m.Department, db, name=_l("Departments"),
                                  endpoint="admin_departments"))
    admin.add_link(MenuLink(name=IMPORT_LINK_LABEL, url="/milestones/calendar/import"))
    admin.add_view(AuditEventView(m.AuditEvent, db, name=_l("Audit log"),
                                  endpoint="admin_audit"))
    admin.add_link(MenuLink(name=_l("Delivery log"), url="/notifications/deliveries"))
    admin.add_link(MenuLink(name=_l("Back to Daiban"), url="/"))
    admin.init_app(app)
    return admin
