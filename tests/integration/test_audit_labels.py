"""Every audited action a service writes has a label in the trail, in Chinese and in English."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from flask_babel import force_locale

ROOT = Path(__file__).resolve().parents[2]
ACTION = re.compile(r"^[a-z_]+\.[a-z_]+$")


def _strings(node) -> set[str]:
    return {n.value for n in ast.walk(node)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and ACTION.match(n.value)}


def written_actions() -> dict[str, str]:
    """action -> where it is written: the action argument of audit.tag / audit.record, and
    ``action=`` keywords (assignment helpers pass the action on)."""
    found = {}
    for path in sorted((ROOT / "crm").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            names = set()
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "tag" and len(node.args) >= 2:
                names |= _strings(node.args[1])
            if isinstance(func, ast.Attribute) and func.attr == "record" and len(node.args) >= 2:
                names |= _strings(node.args[1])
            for keyword in node.keywords:
                if keyword.arg == "action":
                    names |= _strings(keyword.value)
            for name in names:
                found.setdefault(name, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_the_scan_finds_the_actions_of_every_package():
    actions = written_actions()
    for expected in ("project.stage", "blocker.close", "milestone.pause", "calendar.import",
                     "assignment.force", "roster.add", "document.download"):
        assert expected in actions


def test_every_written_action_has_a_label_in_both_languages(app):
    labels = app.extensions["audit_actions"]
    missing = {name: where for name, where in written_actions().items() if name not in labels}
    assert missing == {}, f"actions without a label (add them to the package's AUDIT_ACTIONS): {missing}"
    with app.test_request_context():
        for name, label in labels.items():
            with force_locale("en"):
                english = str(label)
            with force_locale("zh_Hans_CN"):
                chinese = str(label)
            assert english and english != name, name
            assert chinese != english and re.search(r"[\u4e00-\u9fff]", chinese), (name, chinese)
