"""The staff's form for issuing a project's enterprise link."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.validators import Optional

from crm.formfields import DayField


class LinkForm(FlaskForm):
    expires_on = DayField(_l("Expires after"), validators=[Optional()],
                          description=_l("Optional: the last day the link opens."))
