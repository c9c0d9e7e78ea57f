"""Translation catalogs: one core catalog (crm/translations) and one per domain package that
has a ``translations`` folder (crm/<pkg>/translations), merged by Flask-Babel at run time.

  python scripts/translations.py extract   # scan sources, add new strings to the .po files
  python scripts/translations.py compile   # .po -> .mo (build output, not committed)
  python scripts/translations.py check     # list strings without a Chinese translation, and
                                           # strings translated differently in two catalogs
  python scripts/translations.py fill < F  # F: lines "English<TAB>中文"; fills empty msgstrs
                                           # (a plural by its singular English text)

A package catalog covers crm/<pkg>/ and crm/templates/<pkg>/; the core catalog covers the rest.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
CRM = ROOT / "crm"
LOCALES = ("zh_Hans_CN",)
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
            "pgettext": ((1, "c"), 2), "lazy_ngettext": (1, 2)}
JINJA_OPTIONS = {"extensions": "jinja2.ext.do", "trimmed": "false"}


def catalogs() -> dict[Path, list[Path]]:
    """catalog folder -> source files."""
    packages = sorted(p.parent for p in CRM.glob("*/translations") if p.is_dir())
    owned: set[Path] = set()
    result: dict[Path, list[Path]] = {}
    for pkg in packages:
        files = sorted(pkg.rglob("*.py")) + sorted((CRM / "templates" / pkg.name).rglob("*.html"))
        result[pkg / "translations"] = files
        owned.update(files)
    core = [f for f in sorted(CRM.rglob("*.py")) + sorted((CRM / "templates").rglob("*.html"))
            if f not in owned and "translations" not in f.parts]
    result[CRM / "translations"] = core
    return result


def _extract(files: list[Path]) -> Catalog:
    template = Catalog(project="Daiban", charset="utf-8", fuzzy=False)
    for path in files:
        method = "jinja2.ext:babel_extract" if path.suffix == ".html" else "python"
        options = JINJA_OPTIONS if path.suffix == ".html" else {}
        for lineno, message, comments, context in extract_from_file(
                method, str(path), keywords=KEYWORDS, options=options):
            template.add(message, None, [(str(path.relative_to(ROOT)), lineno)],
                         auto_comments=comments, context=context)
    return template


def _po_path(folder: Path, locale: str) -> Path:
    return folder / locale / "LC_MESSAGES" / "messages.po"


def _existing_catalogs():
    """(locale, path, catalog) of every .po file there is."""
    for folder in catalogs():
        for locale in LOCALES:
            path = _po_path(folder, locale)
            if path.exists():
                with path.open("rb") as fh:
                    yield locale, path, read_po(fh, locale=locale)


def _translated():
    """(locale, catalog path, message) for every translated message of every catalog."""
    for locale, path, catalog in _existing_catalogs():
        for message in catalog:
            if message.id and message.string and (
                    not isinstance(message.string, tuple) or all(message.string)):
                yield locale, path, message


def _known_translations() -> dict:
    """Every translation in any catalog, by message id: a string that moves from one package
    to another keeps its Chinese."""
    known = {}
    for _locale, _path, message in _translated():
        known.setdefault(message.id, message.string)
    return known


def extract() -> None:
    known = _known_translations()
    for folder, files in catalogs().items():
        template = _extract(files)
        for locale in LOCALES:
            path = _po_path(folder, locale)
            if path.exists():
                with path.open("rb") as fh:
                    catalog = read_po(fh, locale=locale)
                catalog.update(template, update_header_comment=False, no_fuzzy_matching=True)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                catalog = Catalog(locale=locale, project="Daiban", charset="utf-8")
                catalog.update(template, no_fuzzy_matching=True)
            catalog.obsolete.clear()
            for message in catalog:
                if message.id and not message.string and message.id in known:
                    message.string = known[message.id]
            with path.open("wb") as fh:
                write_po(fh, catalog, width=100, omit_header=False, sort_output=True)
            print(f"{path.relative_to(ROOT)}: {len(catalog)} strings")


def compile_all() -> None:
    for folder in catalogs():
        for po in folder.glob("*/LC_MESSAGES/messages.po"):
            with po.open("rb") as fh:
                catalog = read_po(fh)
            with po.with_suffix(".mo").open("wb") as fh:
                write_mo(fh, catalog)


def untranslated() -> list[str]:
    """Every source string without a Chinese translation, as "catalog: msgid"."""
    missing = []
    for folder, files in catalogs().items():
        template = _extract(files)
        for locale in LOCALES:
            path = _po_path(folder, locale)
            translated = {}
            if path.exists():
                with path.open("rb") as fh:
                    translated = {m.id if isinstance(m.id, str) else m.id[0]: m.string
                                  for m in read_po(fh) if m.id}
            for message in template:
                if not message.id:
                    continue
                key = message.id if isinstance(message.id, str) else message.id[0]
                value = translated.get(key)
                if not value or (isinstance(value, tuple) and not all(value)):
                    missing.append(f"{path.relative_to(ROOT)}: {key}")
    return missing


def conflicts() -> list[str]:
    """Message ids translated differently in two catalogs.  Flask-Babel merges the catalogs
    into one, so only one of the translations would ever show: give the meanings their own
    English text instead."""
    seen: dict = {}
    for locale, path, message in _translated():
        key = (locale, message.context,
               message.id if isinstance(message.id, str) else message.id[0])
        seen.setdefault(key, {}).setdefault(message.string, []).append(
            str(path.relative_to(ROOT)))
    return [f"{key[2]!r}: " + "; ".join(f"{text!r} in {', '.join(paths)}"
                                        for text, paths in sorted(texts.items(), key=str))
            for key, texts in sorted(seen.items(), key=str) if len(texts) > 1]


def fill(lines) -> int:
    """Set the Chinese text of strings that have none, from "msgid<TAB>msgstr" lines."""
    pairs = {}
    for line in lines:
        line = line.rstrip("\n")
        if "\t" in line and not line.startswith("#"):
            english, chinese = line.split("\t", 1)
            pairs[english.replace("\\n", "\n")] = chinese.replace("\\n", "\n")
    filled = 0
    for _locale, path, catalog in _existing_catalogs():
        changed = False
        for message in catalog:
            if not message.id:
                continue
            if isinstance(message.id, str):
                if not message.string and message.id in pairs:
                    message.string = pairs[message.id]
                    changed = True
                    filled += 1
            elif not all(message.string or ()) and message.id[0] in pairs:
                # A plural (ngettext): Chinese has one form, keyed by the singular.
                message.string = (pairs[message.id[0]],) * catalog.num_plurals
                changed = True
                filled += 1
        if changed:
            with path.open("wb") as fh:
                write_po(fh, catalog, width=100, sort_output=True)
    print(f"{filled} strings filled")
    return filled


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "compile"
    if command == "extract":
        extract()
    elif command == "compile":
        compile_all()
    elif command == "fill":
        fill(sys.stdin)
    elif command == "check":
        missing = untranslated()
        for line in missing:
            print(line)
        print(f"{len(missing)} untranslated")
        clashes = conflicts()
        for line in clashes:
            print("translated differently:", line)
        return 1 if missing or clashes else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
