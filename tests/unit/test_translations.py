"""Every UI string has a Simplified Chinese translation."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_source_string_is_translated_to_chinese():
    spec = importlib.util.spec_from_file_location("translations", ROOT / "scripts" / "translations.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    missing = module.untranslated()
    assert missing == [], "untranslated strings (run scripts/translations.py extract, then fill):\n" + "\n".join(missing)
