"""The API validates domain rules with the same WTForms forms as the web pages (one set of
rules): JSON values become form data, form errors become the API's field errors."""

from __future__ import annotations

import datetime as dt
import decimal

from werkzeug.datastructures import MultiDict

from crm.api.errors import abort


def formdata(values: dict) -> MultiDict:
    """JSON-ish values as the strings a browser would submit (None and False: not sent)."""
    data = MultiDict()
    for key, value in values.items():
        if value is None or value is False:
            continue
        if value is True:
            data[key] = "y"
        elif isinstance(value, (dt.date, dt.datetime)):
            data[key] = value.isoformat()
        elif isinstance(value, decimal.Decimal):
            data[key] = format(value, "f")
        else:
            data[key] = str(value)
    return data


def validate_or_422(form, message: str = "The request has invalid fields.", names: dict | None = None):
    """The validated form, or a 422 naming each invalid field with its (translated) message;
    ``names`` maps form field names to the API's (e.g. park -> park_id)."""
    if not form.validate():
        names = names or {}
        abort(422, message, fields={names.get(name, name): [str(m) for m in msgs]
                                    for name, msgs in form.errors.items()})
    return form
