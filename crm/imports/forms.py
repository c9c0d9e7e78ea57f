"""The upload form and the column-mapping form of an import."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from crm.imports.models import ImportKind, ImportMode

KIND_LABELS = {
    ImportKind.PROJECTS: _l("Projects (and their approval progress on a second sheet)"),
    ImportKind.PROGRESS: _l("Approval progress of projects already here"),
    ImportKind.ROSTER: _l("A park's staff roster"),
}
MODE_LABELS = {
    ImportMode.CREATE: _l("Create new records only"),
    ImportMode.UPSERT: _l("Create new and update matching records"),
    ImportMode.UPDATE: _l("Update matching records only"),
}


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


class UploadForm(FlaskForm):
    file = FileField(_l("Spreadsheet (.xlsx or .csv)"),
                     validators=[FileRequired(_l("Choose the file."))])
    kind = SelectField(_l("The file holds"), choices=list(KIND_LABELS.items()),
                       default=ImportKind.PROJECTS.value, validators=[InputRequired()])
    mode = SelectField(_l("Import mode"), choices=list(MODE_LABELS.items()),
                       default=ImportMode.UPSERT.value, validators=[InputRequired()])
    park = SelectField(_l("Park"), coerce=_optional_int, validate_choice=False,
                       description=_l("Rows that name no park go to this park; a roster is "
                                      "this park's."))
    saved_mapping = SelectField(_l("Saved column mapping"), coerce=_optional_int,
                                validate_choice=False, validators=[Optional()])


class MappingForm(FlaskForm):
    """Fields are added per sheet and column by ``mapping_form``."""

    save_as = StringField(_l("Save this mapping as"), validators=[Optional(), Length(max=50)],
                          description=_l("A name, to choose these columns again next time."))


class ActionForm(FlaskForm):
    """A POST with nothing but the CSRF token (import, revert)."""
