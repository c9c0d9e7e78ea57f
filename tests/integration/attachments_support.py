"""Real files of every kind the attachments accept or refuse, made in-process: a PDF
(ReportLab), JPEG and PNG images (Pillow), Office Open XML packages (openpyxl for .xlsx; the
minimal parts Word and PowerPoint need for .docx/.pptx), legacy OLE compound files (.doc,
.xls, written sector by sector as [MS-CFB] lays them out), and the hostile ones."""

from __future__ import annotations

import io
import struct
import zipfile

FREE, END, FAT_SECTOR, NONE = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def pdf(text: str = "批复文件") -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4)
    page.drawString(72, 750, "Approval document")
    page.showPage()
    page.save()
    return out.getvalue()


def image(fmt: str = "JPEG", size=(640, 480), color=(30, 120, 200)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt)
    return out.getvalue()


def xlsx(macro: bool = False) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["项目", "投资"])
    out = io.BytesIO()
    book.save(out)
    if not macro:
        return out.getvalue()
    return _with_macro(out.getvalue(), "xl", "application/vnd.ms-excel.sheet.macroEnabled.main+xml")


def _with_macro(package: bytes, folder: str, main_type: str) -> bytes:
    """The package turned macro-enabled: a VBA project part and the main part's macro type."""
    source = zipfile.ZipFile(io.BytesIO(package))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "[Content_Types].xml":
                text = data.decode()
                for plain in ("spreadsheetml.sheet.main+xml",
                              "wordprocessingml.document.main+xml"):
                    text = text.replace(f"application/vnd.openxmlformats-officedocument.{plain}",
                                        main_type)
                data = text.encode()
            target.writestr(info, data)
        target.writestr(f"{folder}/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"\x00" * 60)
    return out.getvalue()


OOXML_MAIN = {
    "docx": ("word/document.xml",
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
    "pptx": ("ppt/presentation.xml",
             "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"),
}


def ooxml(kind: str, macro: bool = False) -> bytes:
    """A minimal .docx or .pptx package: content types, the package relationship, the main part."""
    part, content_type = OOXML_MAIN[kind]
    types = ('<?xml version="1.0" encoding="UTF-8"?>'
             '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
             '<Default Extension="xml" ContentType="application/xml"/>'
             f'<Override PartName="/{part}" ContentType="{content_type}"/></Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            f'relationships/officeDocument" Target="{part}"/></Relationships>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", types)
        package.writestr("_rels/.rels", rels)
        package.writestr(part, "<document>批复</document>")
    if macro:
        return _with_macro(out.getvalue(), part.split("/")[0],
                           "application/vnd.ms-word.document.macroEnabled.main+xml")
    return out.getvalue()


def ole(streams: dict[str, bytes], storages: tuple[str, ...] = ()) -> bytes:
    """A compound file (version 3, 512-byte sectors) holding the streams (each padded to 4 KB so
    it lives in regular sectors) and empty storages, all children of the root."""
    sector = 512
    names = list(streams) + list(storages)
    dir_sectors = (len(names) + 1 + 3) // 4
    data = {name: content.ljust(4096, b"\x00") for name, content in streams.items()}
    fat = [FAT_SECTOR] + [i + 2 for i in range(dir_sectors - 1)] + [END]
    starts, body = {}, b""
    for name, content in data.items():
        count = len(content) // sector
        start = len(fat)
        starts[name] = start
        fat += [start + i + 1 for i in range(count - 1)] + [END]
        body += content
    assert len(fat) <= 128, "one FAT sector is enough for these test files"
    fat += [FREE] * (128 - len(fat))

    def entry(name, kind, child=NONE, right=NONE, start=END, size=0):
        encoded = (name + "\x00").encode("utf-16-le")
        return (encoded.ljust(64, b"\x00") + struct.pack("<HBB", len(encoded), kind, 1)
                + struct.pack("<III", NONE, right, child) + b"\x00" * 16 + struct.pack("<I", 0)
                + b"\x00" * 16 + struct.pack("<IQ", start, size))

    entries = [entry("Root Entry", 5, child=1 if names else NONE)]
    for i, name in enumerate(names, start=1):
        right = i + 1 if i < len(names) else NONE
        if name in data:
            entries.append(entry(name, 2, right=right, start=starts[name], size=len(data[name])))
        else:
            entries.append(entry(name, 1, right=right, start=0))
    directory = b"".join(entries).ljust(dir_sectors * sector, b"\x00")
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\x00" * 6
              + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, END, 0, END, 0)
              + struct.pack("<I", 0) + struct.pack("<I", FREE) * 108)
    assert len(header) == sector
    return header + struct.pack("<128I", *fat) + directory + body


def doc(macro: bool = False) -> bytes:
    return ole({"WordDocument": b"\xec\xa5" + b"word", "1Table": b"table"},
               storages=("Macros",) if macro else ())


def xls() -> bytes:
    return ole({"Workbook": b"\x09\x08" + b"biff8"})


EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 240 + b"PE\x00\x00"

# The accepted kinds: (kind, file name, content maker)
ACCEPTED = [
    ("pdf", "批复文件.pdf", pdf),
    ("jpeg", "走访照片.jpg", lambda: image("JPEG")),
    ("png", "现场.png", lambda: image("PNG")),
    ("docx", "补正通知.docx", lambda: ooxml("docx")),
    ("xlsx", "材料清单.xlsx", xlsx),
    ("pptx", "汇报.pptx", lambda: ooxml("pptx")),
    ("doc", "旧版通知.doc", doc),
    ("xls", "旧版台账.xls", xls),
]
