"""Pure rules of the project list and the exports: the "due soon" date bound agrees with the
SLA state rule; filters never fail on any input; spreadsheet cells never start a formula."""

import datetime as dt
from types import SimpleNamespace

from hypothesis import given, strategies as st
from werkzeug.datastructures import MultiDict

from crm.milestones import sla
from crm.milestones.calendar import WorkCalendar
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from crm.spreadsheets import FORMULA_STARTS, write_xlsx
from crm.milestones.queries import due_soon_before
from crm.projects.queries import SORTS, ProjectFilters, parse_filters

CALENDAR = WorkCalendar()
D = dt.date


@given(st.dates(D(2010, 1, 1), D(2030, 12, 31)), st.integers(-20, 40), st.integers(0, 6))
def test_the_sql_bound_matches_the_sla_state(today, offset, warning):
    due = today + dt.timedelta(days=offset)
    state = sla.state(sla.MilestoneFacts("running", due), today, CALENDAR, warning)
    bound = due_soon_before(today, CALENDAR, warning)
    assert (today <= due < bound) == (state == "due_soon")
    assert (due < today) == (state == "overdue")


def test_due_soon_across_the_national_day_holiday():
    # 2025-09-30 (Tue): the next working days are 10-09 (Thu) and 10-10 (Fri).
    bound = due_soon_before(D(2025, 9, 30), CALENDAR, 2)
    assert bound == D(2025, 10, 11)  # 10-11 (Sat) is an adjusted working day (调休上班)


STAFF_USER = SimpleNamespace(staff_id=7)
MANAGER = SimpleNamespace(staff_id=None)
PARAMS = ("view", "park", "stage", "status", "industry", "sla", "staff", "q", "sort", "dir", "page")


def _parse(args, user=MANAGER):
    return parse_filters(MultiDict(args), user=user, park_ids={1, 2}, staff_ids=lambda park: {5, 6})


@given(st.dictionaries(st.sampled_from(PARAMS), st.text(max_size=30)), st.booleans())
def test_any_query_string_gives_valid_filters(args, staff_user):
    f = _parse(args, STAFF_USER if staff_user else MANAGER)
    assert set(f.cleared) <= set(PARAMS)
    assert f.park in (None, 1, 2) and f.staff in (None, 5, 6)
    assert f.sort in SORTS and f.page >= 1 and len(f.q) <= 100
    assert f.mine is False or staff_user
    # The arguments it writes back read as the same filters.
    again = _parse(f.args(page=f.page if f.page > 1 else None), STAFF_USER if staff_user else MANAGER)
    again.cleared = f.cleared
    assert again == f


def test_defaults_and_clearing():
    assert _parse({}, STAFF_USER).mine and not _parse({}, MANAGER).mine
    assert _parse({"view": "all"}, STAFF_USER).mine is False
    f = _parse({"view": "mine", "park": "3", "stage": "zzz", "sort": "name"})
    assert (f.mine, f.park, f.stage, f.sort, f.desc) == (False, None, None, "name", False)
    assert f.cleared == ["view", "park", "stage"]
    assert _parse({"sort": "investment"}).desc and not _parse({"sort": "investment", "dir": "asc"}).desc
    assert ProjectFilters(park=1, q="x").args() == {"view": "all", "park": 1, "q": "x",
                                                    "sort": "created", "dir": "desc"}


def _written(values):
    """The cells of one row written by write_xlsx and read back."""
    import openpyxl

    out = write_xlsx("t", ["h"], [values])
    return list(openpyxl.load_workbook(out).active.iter_rows(min_row=2, max_row=2))[0]


@given(st.one_of(st.text(), st.integers(), st.floats(allow_nan=False), st.none(), st.dates()))
def test_cells_never_start_a_formula(value):
    cell = _written([value])[0]
    assert cell.data_type != "f"
    if not isinstance(value, str):
        return
    assert cell.data_type in ("s", "inlineStr")  # text, never a formula
    assert all(ord(ch) >= 32 or ch in "\t\n\r" for ch in cell.value or "")
    if value and value.isprintable():
        assert cell.value == value  # as typed: no apostrophe added
    cleaned = ILLEGAL_CHARACTERS_RE.sub("", value)
    assert bool(cell.quotePrefix) == cleaned.startswith(FORMULA_STARTS)


def test_each_formula_start_is_neutralised_and_phone_numbers_stay_readable():
    texts = ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "=HYPERLINK(\"http://x\")",
             "+86 513 8500 1234"]
    for text, cell in zip(texts, _written(texts)):
        # (lxml writes a carriage return as a character reference: it reads back as typed)
        assert (cell.value, cell.data_type, cell.quotePrefix) == (text, "s", True)