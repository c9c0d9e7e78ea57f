"""The staff's form for issuing a project's enterprise link; the enterprise's confirmation."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from crm.db import parse_id
from crm.formfields import DayField
from crm.projects.forms import PHONE, strip


class LinkForm(FlaskForm):
    expires_on = DayField(_l("Expires after"), validators=[Optional()],
                          description=_l("Optional: the last day the link opens."))


class ConfirmForm(FlaskForm):
    """The enterprise confirms its service order: the version it was shown (a newer one issued
    meanwhile is refused)."""

    document_id = HiddenField(validators=[DataRequired(
        _l("This page is out of date: reload it and confirm again."))], filters=[parse_id])

    signer_name = StringField(_l("Your name"), validators=[
        DataRequired(_l("Enter your name.")), Length(max=50)], filters=[strip])
    signer_title = StringField(_l("Your position"), validators=[
        DataRequired(_l("Enter your position in the company.")), Length(max=50)],
        filters=[strip])
    signer_phone = StringField(_l("Phone"), validators=[
        DataRequired(_l("Enter a phone number.")),
        Length(max=20), Regexp(PHONE, message=_l("Enter a phone number: digits, spaces, + and -."))],
        filters=[strip])
    understood = BooleanField(_l("We have read the approval plan and the service promises."),
                              validators=[DataRequired(
                                  _l("Tick the box to confirm you have read the order."))])
