"""What every kind of import shares: a file's rows under a column mapping, the outcome
(counts and errors with row, column and message), and the run itself — each row in its own
savepoint, so a refused row leaves nothing behind and the rest go on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from crm.errors import DomainError
from crm.extensions import db
from crm.imports.services.values import CellError

NEW, UPDATE, UNCHANGED, ERROR = "new", "update", "unchanged", "error"
PROGRESS_EVERY = 100
MAX_MESSAGE = 300

DUPLICATE_IN_FILE = _l("The same record as row %(row)d of this file.")


@dataclass
class Outcome:
    counts: dict = field(default_factory=lambda: {NEW: 0, UPDATE: 0, UNCHANGED: 0, ERROR: 0})
    errors: list = field(default_factory=list)

    def add(self, result: str) -> None:
        self.counts[result] += 1


class Row:
    """One data row of a sheet, read through the mapping {field: header}."""

    def __init__(self, sheet: str, number: int, values: list, index: dict[str, int],
                 mapping: dict[str, str]):
        self.sheet = sheet
        self.number = number
        self.values = values
        self.index = index
        self.mapping = mapping
        self.problems: list[tuple[str, object]] = []  # (field, message)

    def raw(self, name: str):
        position = self.index.get(name)
        if position is None or position >= len(self.values):
            return None
        return self.values[position]

    def read(self, name: str, convert: Callable):
        """The cell of ``name`` converted; a cell that cannot be read is noted and gives None."""
        try:
            return convert(self.raw(name))
        except CellError as exc:
            self.problems.append((name, exc.message))
            return None

    def refuse(self, name: str | None, message) -> None:
        self.problems.append((name, message))

    def refuse_error(self, error: DomainError, fields: dict[str, str] | None = None) -> None:
        """A service's refusal, its fields named as this row's columns."""
        for name, messages in error.errors.items():
            for message in messages:
                self.refuse((fields or {}).get(name, name), message)

    def header(self, name: str | None) -> str:
        return self.mapping.get(name, "") if name else ""


def index_of(headers: list[str], mapping: dict[str, str]) -> dict[str, int]:
    positions = {header: i for i, header in reversed(list(enumerate(headers)))}
    return {name: positions[header] for name, header in mapping.items() if header in positions}


def apply(row: Row, outcome: Outcome, change: Callable[[Row], str | None],
          fields: dict[str, str] | None = None) -> None:
    """Run ``change(row)`` (it returns NEW, UPDATE or UNCHANGED, or notes problems and returns
    None) in a savepoint: a refused row leaves nothing behind.  A service's refusal is noted
    on the row's columns (``fields`` maps the service's field names to the row's)."""
    result = None
    if not row.problems:
        try:
            with db.session.begin_nested():
                result = change(row)
                if row.problems:
                    raise _Refused()
        except _Refused:
            result = None
        except DomainError as exc:
            row.refuse_error(exc, fields)
            result = None
    record(row, outcome, result)


def record(row: Row, outcome: Outcome, result: str | None) -> None:
    """Count a row done (NEW, UPDATE or UNCHANGED), or note its problems as errors."""
    if row.problems or result is None:
        outcome.add(ERROR)
        for name, message in row.problems or [(None, _l("The row was not imported."))]:
            outcome.errors.append({"sheet": row.sheet, "row": row.number,
                                   "column": row.header(name),
                                   "message": str(message)[:MAX_MESSAGE]})
        return
    outcome.add(result)


class _Refused(Exception):
    """Rolls back a row's savepoint when the change noted problems without raising."""
