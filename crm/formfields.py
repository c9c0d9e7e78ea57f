"""Form fields that read input strictly: what the database can hold, and only what a person
means (ASCII digits, ISO dates), with our own messages."""

from __future__ import annotations

import datetime as dt
import re

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField

_WHOLE = re.compile(r"^[+-]?[0-9]{1,100}$")
DATE_MESSAGE = _l("Enter a date as YYYY-MM-DD.")


class WholeNumberField(IntegerField):
    """A whole number written with ASCII digits (Python's int() would also take "1_000" and
    other scripts' digits such as "٣"); anything else is "Enter a whole number."."""

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        text = valuelist[0].strip()
        if not _WHOLE.match(text):
            self.data = None
            raise ValueError(str(_l("Enter a whole number.")))
        self.data = int(text)


class DayField(DateField):
    """A date written YYYY-MM-DD; anything else is "Enter a date as YYYY-MM-DD."."""

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = dt.date.fromisoformat(valuelist[0].strip())
        except ValueError:
            self.data = None
            raise ValueError(str(DATE_MESSAGE)) from None
