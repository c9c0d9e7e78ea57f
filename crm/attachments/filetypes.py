"""What a file is, judged by its content: the accepted kinds (PDF, JPEG, PNG, Office), and
why anything else is refused; and a safe file name.  No database, no request.

The content decides: the magic bytes (puremagic names what a refused file looks like), then
the container: an Office Open XML file is a ZIP whose ``[Content_Types].xml`` names its main
part, a legacy Office file an OLE compound file whose streams say Word or Excel (olefile).
The name's extension must agree with the content; a file that claims another type, an
executable, and an Office file with macros (VBA) are refused.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Kind:
    code: str
    content_type: str
    extensions: tuple[str, ...]  # the first is the one added to a name without one
    image: bool = False


KINDS = {k.code: k for k in (
    Kind("pdf", "application/pdf", ("pdf",)),
    Kind("jpeg", "image/jpeg", ("jpg", "jpeg"), image=True),
    Kind("png", "image/png", ("png",), image=True),
    Kind("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         ("docx",)),
    Kind("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ("xlsx",)),
    Kind("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation",
         ("pptx",)),
    Kind("doc", "application/msword", ("doc",)),
    Kind("xls", "application/vnd.ms-excel", ("xls",)),
)}
ACCEPTED_EXTENSIONS = tuple(ext for kind in KINDS.values() for ext in kind.extensions)
# The upload field's ``accept``: a hint to the browser (the content is what is checked).
ACCEPT = ",".join("." + ext for ext in ACCEPTED_EXTENSIONS)
MACRO_EXTENSIONS = {"docm", "dotm", "xlsm", "xltm", "xlsb", "xlam", "pptm", "potm", "ppsm",
                    "ppam", "sldm"}

# The main part's content type in [Content_Types].xml -> the kind.
_OOXML_MAIN = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": "pptx",
}
_CONTENT_TYPES_LIMIT = 1024 * 1024  # [Content_Types].xml is a few kB; never inflate more
_EXECUTABLE_MAGIC = (
    b"MZ",  # Windows PE (.exe, .dll, .scr)
    b"\x7fELF",  # Linux
    b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe",  # Mach-O
    b"\xca\xfe\xba\xbe",  # Mach-O universal, Java class
    b"#!",  # a script with an interpreter line
)
_EXECUTABLE_EXTENSIONS = {"exe", "dll", "com", "scr", "msi", "bat", "cmd", "ps1", "vbs", "js",
                          "jse", "wsf", "hta", "sh", "app", "apk", "jar", "lnk", "cpl"}

MAX_NAME = 100  # characters of a stored file name


class Refused(ValueError):
    """The file may not be attached; ``message`` says why, in words for the uploader."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Identified:
    kind: Kind
    filename: str  # sanitised, with the kind's extension


# -- names -------------------------------------------------------------------------------------

def extension_of(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem and ext else ""


def clean_name(raw: str | None) -> str:
    """The name a person gave the file, safe to store and to send back: no folder path (that is
    refused), no control or formatting characters (a right-to-left override can disguise an
    extension), Chinese kept, at most MAX_NAME characters with the extension kept."""
    name = unicodedata.normalize("NFC", raw or "")
    if "/" in name or "\\" in name:
        raise Refused(_l("The file name contains a folder path (/ or \\): send the file "
                         "itself under a plain name."))
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] not in ("C", "Z")
                   or ch == " ")
    name = re.sub(r'[<>:"|?*]', "_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    if len(name) > MAX_NAME:
        ext = extension_of(name)
        keep = MAX_NAME - (len(ext) + 1 if ext else 0)
        name = name[:keep].rstrip(" .") + ("." + ext if ext else "")
    return name


# -- content -----------------------------------------------------------------------------------

def _looks_like(data: bytes) -> str | None:
    """What puremagic thinks the content is (for the refusal's message), or None."""
    import puremagic

    try:
        found = puremagic.magic_string(data[:8192])
    except (puremagic.PureError, ValueError):
        return None
    return found[0].name if found else None


def _ooxml(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            lowered = [n.lower() for n in names]
            if any(n.endswith("vbaproject.bin") or n.endswith("vbadata.xml") for n in lowered):
                raise Refused(_l("Office files with macros are not accepted: save it as a plain "
                                 "document (.docx, .xlsx, .pptx) or as a PDF."))
            try:
                info = archive.getinfo("[Content_Types].xml")
            except KeyError:
                raise Refused(_l("This is a ZIP archive, not an Office document: archives "
                                 "are not accepted.")) from None
            if info.file_size > _CONTENT_TYPES_LIMIT:
                raise Refused(_l("The Office document is damaged."))
            with archive.open(info) as part:
                types = part.read(_CONTENT_TYPES_LIMIT + 1).decode("utf-8", "replace")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, RuntimeError,
            NotImplementedError, ValueError) as exc:
        if isinstance(exc, Refused):
            raise
        raise Refused(_l("The Office document is damaged.")) from None
    if "macroenabled" in types.lower():
        raise Refused(_l("Office files with macros are not accepted: save it as a plain "
                         "document (.docx, .xlsx, .pptx) or as a PDF."))
    for content_type, code in _OOXML_MAIN.items():
        if f'ContentType="{content_type}"' in types:
            return code
    raise Refused(_l("This kind of Office file is not accepted (templates, add-ins...): "
                     "send a document, a workbook or a presentation."))


def _ole(data: bytes) -> str:
    import olefile

    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            streams = ["/".join(path) for path in ole.listdir(streams=True, storages=True)]
    except Exception:  # olefile raises many kinds on a damaged file
        raise Refused(_l("The Office document is damaged.")) from None
    top = {s.split("/")[0] for s in streams}
    lowered = {s.lower() for s in streams}
    if any(part in ("macros", "_vba_project_cur", "vba", "_vba_project")
           for s in lowered for part in s.split("/")):
        raise Refused(_l("Office files with macros are not accepted: save it as a plain "
                         "document (.docx, .xlsx, .pptx) or as a PDF."))
    if "EncryptedPackage" in top:
        raise Refused(_l("Password-protected Office files cannot be checked: remove the "
                         "password and send it again."))
    if "WordDocument" in top:
        return "doc"
    if "Workbook" in top or "Book" in top:
        return "xls"
    raise Refused(_l("This kind of Office file is not accepted: send Word (.doc, .docx), "
                     "Excel (.xls, .xlsx) or PowerPoint (.pptx) files, PDFs or photos."))


def kind_of(data: bytes) -> Kind:
    """The accepted kind the content is, or Refused saying why not."""
    if not data:
        raise Refused(_l("The file is empty."))
    if data.startswith(_EXECUTABLE_MAGIC):
        raise Refused(_l("Programs and scripts are not accepted."))
    if data.startswith(b"%PDF-"):
        return KINDS["pdf"]
    if data.startswith(b"\xff\xd8\xff"):
        return KINDS["jpeg"]
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return KINDS["png"]
    if data.startswith(b"PK\x03\x04"):
        return KINDS[_ooxml(data)]
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return KINDS[_ole(data)]
    seen = _looks_like(data)
    if seen and "executable" in seen.lower():
        raise Refused(_l("Programs and scripts are not accepted."))
    raise Refused(_l("Only PDF, JPEG or PNG images and Office files (Word, Excel, PowerPoint) "
                     "are accepted; this file is none of them."))


def identify(data: bytes, raw_name: str | None) -> Identified:
    """The file's kind and its safe name; Refused when its content is not accepted or its name
    claims another type than its content."""
    name = clean_name(raw_name)
    ext = extension_of(name)
    if ext in MACRO_EXTENSIONS:
        raise Refused(_l("Office files with macros are not accepted: save it as a plain "
                         "document (.docx, .xlsx, .pptx) or as a PDF."))
    if ext in _EXECUTABLE_EXTENSIONS:
        raise Refused(_l("Programs and scripts are not accepted."))
    kind = kind_of(data)
    if not ext or not name.rpartition(".")[0]:
        name = (name.rpartition(".")[0] or name or "attachment") + "." + kind.extensions[0]
        name = clean_name(name)
    elif ext not in kind.extensions:
        raise Refused(_l("The file is named .%(ext)s but its content is %(kind)s: rename it "
                         "or send the right file.", ext=ext, kind=kind.code.upper()))
    return Identified(kind, name)
