"""Spreadsheet exports (.xlsx): the filtered project list and a project's progress log.

openpyxl's write-only mode streams rows to a temporary file as they come from the database
(fetched in batches), so memory stays flat however long the list.  Text that a spreadsheet
would read as a formula (starting with = + - @, a tab or a carriage return) is prefixed with
an apostrophe, and characters XML cannot hold are dropped.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterable, Sequence

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from crm.auth.models import User
from crm.extensions import db
from crm.labels import label
from crm.milestones.models import Milestone
from crm.parks.models import Park
from crm.projects import listing
from crm.projects.models import LogKind, ProgressLog, Project

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BATCH = 500


def safe_cell(value):
    """A value fit for a cell: text never starts a formula and holds no illegal characters."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if value.startswith(FORMULA_STARTS):
            return "'" + value
    return value


def write_xlsx(title: str, headers: Sequence[str], rows: Iterable[Sequence],
               widths: Sequence[int] = ()):
    """An .xlsx workbook of one sheet, in a temporary file positioned at its start."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.append([safe_cell(h) for h in headers])
    for row in rows:
        sheet.append([safe_cell(v) for v in row])
    out = tempfile.TemporaryFile(suffix=".xlsx")
    workbook.save(out)
    out.seek(0)
    return out


def local_naive(value: dt.datetime | None, zone) -> dt.datetime | None:
    """Spreadsheets have no time zones: the local wall-clock time."""
    return value.astimezone(zone).replace(tzinfo=None) if value else None


def _labels(group: str):
    """``label`` for one group, looked up once per code (exports call it for every row)."""
    cache: dict = {}

    def lookup(code):
        if code not in cache:
            cache[code] = label(group, code)
        return cache[code]

    return lookup


def _batched(statement):
    """Rows of a statement fetched BATCH at a time (a server-side cursor on PostgreSQL)."""
    return db.session.execute(statement.execution_options(yield_per=BATCH))


def project_sheet(user, f: listing.ProjectFilters, today: dt.date, soon_before: dt.date):
    """Headers, rows (a generator) and column widths of the filtered project list, in the
    list's order."""
    headers = [_("Project name"), _("Project code"), _("Investor"),
               _("Investor's unified social credit code"), _("Park"), _("Industry"), _("Stage"),
               _("Status"), _("Total investment (10,000 yuan)"), _("Lead agent"),
               _("Next deadline"), _("Open blockers"), _("Enterprise contact"), _("Contact phone"),
               _("Signed on"), _("Expected start of construction")]
    widths = [36, 28, 30, 22, 18, 16, 12, 8, 14, 10, 12, 10, 12, 16, 12, 12]
    next_due = listing.next_due_column()
    blockers = listing.open_blockers_column()
    statement = listing.ordered(
        listing.filtered(user, f, today, soon_before).with_only_columns(
            Project.name, Project.code, Project.investor_name, Project.investor_credit_code,
            Park.name, Project.industry, Project.stage, Project.status, Project.investment,
            listing.lead_agent_column(), next_due, blockers, Project.contact_name,
            Project.contact_phone, Project.signed_on, Project.expected_start_on),
        f, next_due, blockers)

    industry_label, stage_label = _labels("industry"), _labels("stage")
    status_label = _labels("project_status")

    def rows():
        for (name, code, investor, credit, park, industry, stage, status, investment, lead,
             due, open_blockers, contact, phone, signed, start) in _batched(statement):
            yield (name, code, investor, credit, park, industry_label(industry),
                   stage_label(stage), status_label(status), investment, lead,
                   due, open_blockers, contact, phone, signed, start)

    return headers, rows(), widths


def log_sheet(project: Project, zone):
    """Headers, rows and widths of a project's progress log, oldest first."""
    headers = [_("Date"), _("Kind"), _("Approval item"), _("Hours"), _("What was done"),
               _("Author"), _("Logged at"), _("Blocker status"), _("Resolution")]
    widths = [12, 8, 24, 8, 60, 10, 18, 10, 40]
    statement = (
        select(ProgressLog.happened_on, ProgressLog.kind, Milestone.name, ProgressLog.hours,
               ProgressLog.text, User.display_name, ProgressLog.created_at,
               ProgressLog.resolved_at, ProgressLog.resolution_note)
        .outerjoin(Milestone, Milestone.id == ProgressLog.milestone_id)
        .outerjoin(User, User.id == ProgressLog.author_id)
        .where(ProgressLog.project_id == project.id)
        .order_by(ProgressLog.happened_on, ProgressLog.created_at, ProgressLog.id))
    open_text, resolved_text = _("Open"), _("Resolved")
    kind_label = _labels("log_kind")

    def rows():
        for happened, kind, milestone, hours, text, author, created, resolved, note in _batched(statement):
            state = None
            if kind == LogKind.BLOCKER:
                state = resolved_text if resolved else open_text
            yield (happened, kind_label(kind), milestone,
                   float(hours) if hours is not None else None, text, author,
                   local_naive(created, zone), state, note)

    return headers, rows(), widths
