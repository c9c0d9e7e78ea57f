"""Sections of the project page contributed by other domain packages.

The project page (projects/views.py) renders its own header and then every registered panel in
order.  A package registers a panel from its views module:

    register_panel("timeline", order=20, template="milestones/_timeline.html",
                   context=lambda project, user: {"timeline": ...})

``context`` loads what the template needs with a constant number of queries.  This keeps the
project page free of imports from every package, and each package's section in its own files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Panel:
    name: str
    order: int
    template: str
    context: Callable[..., dict]


_panels: dict[str, Panel] = {}


def register_panel(name: str, order: int, template: str, context: Callable[..., dict]) -> None:
    _panels[name] = Panel(name, order, template, context)


def panels() -> list[Panel]:
    return sorted(_panels.values(), key=lambda p: (p.order, p.name))


def render_context(project, user) -> list[tuple[Panel, dict]]:
    return [(panel, panel.context(project, user)) for panel in panels()]
