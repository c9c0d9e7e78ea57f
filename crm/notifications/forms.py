"""Forms of the alert settings: a user's address and choices, a park's group robot."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from crm.notifications.messages import CHOOSABLE, KIND_LABELS

MODE_LABELS = (("immediate", _l("At once")), ("digest", _l("In the daily digest")),
               ("off", _l("Not by email")))


def mode_field(kind: str) -> str:
    return f"mode_{kind}"


class AlertPreferencesForm(FlaskForm):
    """The user's address, and one choice per kind of alert (``mode_<kind>``, added below)."""

    email = StringField(_l("Email address"), validators=[Optional(), Length(max=254)],
                        description=_l("Alerts by email go here; leave empty for in-app "
                                       "alerts only."))


for _kind in CHOOSABLE:
    setattr(AlertPreferencesForm, mode_field(_kind),
            SelectField(KIND_LABELS[_kind], choices=MODE_LABELS))


class ParkRobotForm(FlaskForm):
    url = StringField(_l("Group robot webhook address"), validators=[Optional(), Length(max=500)])
    kinds = SelectMultipleField(
        _l("Alerts posted to the group"),
        choices=[(kind, KIND_LABELS[kind]) for kind in CHOOSABLE],
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())


class PostForm(FlaskForm):
    """A POST with the CSRF token only (remove the robot, test it, resend a delivery)."""
