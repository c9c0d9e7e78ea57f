"""Every UI string has a Simplified Chinese translation, and only one."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _script():
    spec = importlib.util.spec_from_file_location("translations", ROOT / "scripts" / "translations.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_source_string_is_translated_to_chinese():
    missing = _script().untranslated()
    assert missing == [], "untranslated strings (run scripts/translations.py extract, then fill):\n" + "\n".join(missing)


def test_no_string_is_translated_two_ways():
    """The package catalogs are merged at run time, so a message id with two translations
    shows one of them everywhere (the workload column "Load" once read 导入, the calendar
    import button's word)."""
    clashes = _script().conflicts()
    assert clashes == [], "give each meaning its own English text:\n" + "\n".join(clashes)
