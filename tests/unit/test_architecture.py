"""The package order of crm/ARCHITECTURE.md, kept by walking every import (module level and
inside functions) with ``ast``.

Layers, bottom up:

- foundation modules (extensions, db, errors, transaction, queue, signals, i18n, ...) import
  only each other;
- pure rule modules (calendar, sla, graph, assignment, codes) import no Flask and nothing from crm
  but each other;
- models (``crm/<package>/models.py``) may refer to each other;
- domain packages in a fixed order; a module imports its own package, earlier packages, the
  models, the pure rules and the foundation;
- crm/workflows.py (the cross-domain reactions) may import every domain package;
- the top: views, jobs, the API, the back office, the CLI, the worker, the demo data and the
  app factory may import anything.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CRM = ROOT / "crm"

FOUNDATION = {"crm.config", "crm.extensions", "crm.db", "crm.errors", "crm.transaction", "crm.formfields",
              "crm.queue", "crm.signals", "crm.i18n", "crm.labels", "crm.security",
              "crm.spreadsheets"}
PURE = {"crm.milestones.calendar", "crm.milestones.sla", "crm.milestones.graph", "crm.agents.assignment",
        "crm.projects.codes", "crm.portal.sampling"}
# The domain packages, in the order they may depend on each other.
ORDER = ("audit", "parks", "auth", "projects", "milestones", "agents", "portal", "supervision",
         "dashboard", "documents", "imports", "notifications", "attachments")
WORKFLOWS = "crm.workflows"
TOP_MODULES = {"crm", "crm.app", "crm.web", "crm.admin", "crm.cli", "crm.worker"}
TOP_PACKAGES = {"api", "demo", "main"}
TOP_KINDS = {"views", "jobs"}  # crm/<package>/views.py, views/..., jobs.py


@dataclass(frozen=True)
class Layer:
    rank: int  # 0 foundation, 1 pure, 2 models, 3 + i domain package i, then workflows, top
    package: str | None  # the domain package, for own-package imports

    @property
    def name(self) -> str:
        names = {0: "foundation", 1: "pure rules", 2: "models", WORKFLOW_RANK: "workflows",
                 TOP_RANK: "top"}
        return names.get(self.rank) or f"package {self.package}"


DOMAIN_RANK = 3
WORKFLOW_RANK = DOMAIN_RANK + len(ORDER)
TOP_RANK = WORKFLOW_RANK + 1


def layer_of(module: str) -> Layer:
    parts = module.split(".")
    if module in FOUNDATION:
        return Layer(0, None)
    if module in PURE:
        return Layer(1, None)
    if module == "crm.models" or (len(parts) >= 3 and parts[2] == "models"):
        return Layer(2, None)
    if module == WORKFLOWS:
        return Layer(WORKFLOW_RANK, None)
    if module in TOP_MODULES or (len(parts) >= 2 and parts[1] in TOP_PACKAGES):
        return Layer(TOP_RANK, None)
    if len(parts) >= 3 and parts[2] in TOP_KINDS:
        return Layer(TOP_RANK, parts[1])
    if len(parts) >= 2 and parts[1] in ORDER:
        return Layer(DOMAIN_RANK + ORDER.index(parts[1]), parts[1])
    raise AssertionError(f"{module} has no place in the package order: add it to "
                         "crm/ARCHITECTURE.md and to this test")


def allowed(source: str, target: str) -> bool:
    """Whether module ``source`` may import module ``target``."""
    if target == "crm":  # only the app factory lives there
        return layer_of(source).rank == TOP_RANK
    src, dst = layer_of(source), layer_of(target)
    if src.rank == 1:
        return dst.rank == 1
    if src.rank == 0:
        return dst.rank == 0
    if src.rank == 2:
        return dst.rank in (0, 1, 2)
    if dst.rank in (0, 1, 2):
        return True
    if src.rank == TOP_RANK:
        return True
    if src.package is not None and dst.package == src.package and dst.rank < TOP_RANK:
        return True  # a module of the same package (but never its views or jobs)
    return dst.rank < src.rank and dst.rank < WORKFLOW_RANK


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, imported crm module) for every import in the file, functions included."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            if name != "crm" or any(alias.name == "create_app" for alias in node.names):
                found.append((node.lineno, name))
            # "from crm.x import y" may name a module y of package crm.x
            for alias in node.names:
                found.append((node.lineno, f"{name}.{alias.name}"))
    return [(line, name) for line, name in found if name == "crm" or name.startswith("crm.")]


def known_modules(root: Path) -> set[str]:
    return {module_name(p, root) for p in (root / "crm").rglob("*.py")}


def violations(root: Path) -> list[str]:
    modules = known_modules(root)
    problems = []
    for path in sorted((root / "crm").rglob("*.py")):
        source = module_name(path, root)
        for line, target in imports(path, source):
            if target not in modules:
                continue  # "from crm.x import name": the name is not a module
            if not allowed(source, target):
                problems.append(f"{path.relative_to(root)}:{line}: {source} ({layer_of(source).name}) "
                                f"imports {target} ({layer_of(target).name})")
    return problems


def test_every_import_follows_the_package_order():
    problems = violations(ROOT)
    assert problems == [], "imports against the order of crm/ARCHITECTURE.md:\n" + "\n".join(problems)


def test_every_module_has_a_place_in_the_order():
    for module in known_modules(ROOT):
        layer_of(module)


def _fake_tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for folder in {p.parent for p in tmp_path.rglob("*.py")}:
        (folder / "__init__.py").touch()
    return tmp_path


@pytest.mark.parametrize("source,line,expected", [
    ("crm/projects/services.py", "from crm.agents.services import staffing", False),
    ("crm/projects/services.py", "def f():\n    from crm.milestones import queries", False),
    ("crm/milestones/queries.py", "from crm.projects import queries", True),
    ("crm/milestones/queries.py", "from crm.projects.views import pages", False),
    ("crm/projects/services.py", "from crm.agents.models import Staff", True),
    ("crm/milestones/sla.py", "from crm.extensions import db", False),
    ("crm/db.py", "from crm.projects import queries", False),
    ("crm/projects/models.py", "from crm.projects import queries", False),
    ("crm/projects/views/pages.py", "from crm.notifications import services", True),
    ("crm/notifications/services.py", "from crm.workflows import connect", False),
])
def test_the_check_catches_a_single_import_against_the_order(tmp_path, source, line, expected):
    targets = ["crm/agents/services/staffing.py", "crm/agents/models.py", "crm/milestones/queries.py",
               "crm/projects/queries.py", "crm/projects/views/pages.py", "crm/extensions.py",
               "crm/notifications/services.py", "crm/workflows.py", "crm/projects/models.py",
               "crm/milestones/sla.py", "crm/db.py", "crm/projects/services.py"]
    files = {name: "" for name in targets}
    files[source] = line + "\n"
    root = _fake_tree(tmp_path, files)
    assert (violations(root) == []) == expected, violations(root)


def test_pure_rules_load_without_flask_or_the_database():
    code = ("import sys\n"
            "import crm.milestones.calendar, crm.milestones.sla, crm.agents.assignment, "
            "crm.projects.codes\n"
            "loaded = sorted(m for m in ('flask', 'sqlalchemy', 'flask_babel') if m in sys.modules)\n"
            "assert not loaded, loaded\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_only_the_unit_of_work_the_cli_and_the_jobs_commit():
    committers = sorted(
        str(path.relative_to(ROOT)) for path in CRM.rglob("*.py")
        if "session.commit()" in path.read_text(encoding="utf-8"))
    assert committers == ["crm/cli.py", "crm/dashboard/jobs.py", "crm/documents/jobs.py",
                          "crm/imports/jobs.py",
                          "crm/milestones/jobs.py", "crm/notifications/jobs.py",
                          "crm/portal/jobs.py", "crm/supervision/jobs.py",
                          "crm/transaction.py"]


def _cycles(root: Path) -> list[set[str]]:
    """Strongly connected groups (more than one module) of the import graph of crm, without
    the models and the pure rules."""
    modules = known_modules(root)
    graph = {m: set() for m in modules if layer_of(m).rank > 2}
    for path in (root / "crm").rglob("*.py"):
        source = module_name(path, root)
        if source in graph:
            graph[source] |= {t for _, t in imports(path, source) if t in graph and t != source}
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(node):  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_no_import_cycle_but_blueprint_registration():
    """A views package's __init__ owns the blueprint and imports its route modules, which
    import the blueprint back: the one cycle allowed."""
    for group in _cycles(ROOT):
        packages = {m.rpartition(".")[0] if not m.endswith(".views") else m for m in group}
        assert len(packages) == 1 and next(iter(packages)).endswith(".views"), group
