"""The upload form and the removal form (CSRF only)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField

from crm.attachments.filetypes import ACCEPT
from crm.attachments.models import Purpose

PURPOSE_LABELS = {
    Purpose.APPROVAL_DOCUMENT.value: _l("Approval document (completion evidence)"),
    Purpose.CORRECTION_NOTICE.value: _l("Correction notice (pause evidence)"),
    Purpose.PHOTO.value: _l("Visit photo"),
    Purpose.OTHER.value: _l("Other"),
}


class UploadForm(FlaskForm):
    file = FileField(_l("File"), validators=[FileRequired(_l("Choose the file."))],
                     render_kw={"accept": ACCEPT},
                     description=_l("PDF, JPEG or PNG, Word, Excel or PowerPoint."))
    purpose = SelectField(_l("What it is"), choices=list(PURPOSE_LABELS.items()))


def upload_form(purposes: tuple[str, ...], **kwargs) -> UploadForm:
    """The form with the purposes the owner type offers, the first preselected."""
    form = UploadForm(**kwargs)
    form.purpose.choices = [(p, PURPOSE_LABELS[p]) for p in purposes]
    if not form.purpose.data or form.purpose.data == "None":
        form.purpose.data = purposes[0]
    return form


class RemoveForm(FlaskForm):
    """A POST with nothing but the CSRF token."""
