"""The summary request form: scope (the city or a park in the user's scope) and period."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.validators import InputRequired, ValidationError

from crm.auth.scope import sees_all, visible_parks
from crm.i18n import today
from crm.labels import label

CITY = "city"
# The working-day calendar covers these years; periods outside cannot be computed.
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2100, 12, 31)


class SummaryForm(FlaskForm):
    scope = SelectField(_l("Scope"), validators=[InputRequired()])
    start = DateField(_l("From"), validators=[InputRequired(message=_l("Enter a date."))])
    end = DateField(_l("To"), validators=[InputRequired(message=_l("Enter a date."))])

    def validate_start(self, field):
        if field.data and not FIRST_DAY <= field.data <= LAST_DAY:
            raise ValidationError(_l("Choose a date between 2000 and 2100."))

    def validate_end(self, field):
        if field.data and not FIRST_DAY <= field.data <= LAST_DAY:
            raise ValidationError(_l("Choose a date between 2000 and 2100."))
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError(_l("The period ends before it starts."))

    @property
    def park_id(self) -> int | None:
        return None if self.scope.data == CITY else int(self.scope.data)


def summary_form(user, park_id: int | None = None, formdata=None, **form_options) -> SummaryForm:
    """The form with the scopes the user may summarise: the city (leaders, admins) and their
    parks; ``park_id`` preselects a park (dashboards)."""
    form = SummaryForm(formdata=formdata, **form_options)  # formdata None: not bound to the request
    choices = [(CITY, label("summary_scope", CITY))] if sees_all(user) else []
    choices += [(str(p.id), p.name) for p in visible_parks(user)]
    form.scope.choices = choices
    if formdata is None:
        day = today()
        form.start.data = day.replace(month=1, day=1)
        form.end.data = day
        codes = [code for code, _ in choices]
        wanted = str(park_id) if park_id is not None else None
        form.scope.data = wanted if wanted in codes else (codes[0] if codes else None)
    return form
