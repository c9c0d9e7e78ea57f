"""A park's ledger (台账): its project rows (the approval progress rows: approvals.py).

Every row is checked by the project form, then goes through the services the pages use —
``create_project`` (its approval plan and staff by the park's rule follow, as for a project
typed in), ``update_project``, ``change_stage`` — so an imported project obeys exactly the
rules of one entered by hand.  New projects, the bulk of a first import, are registered a
chunk at a time by the bulk version of the same service (``create_projects``: plans and staff
in bulk too).

Matching: a row is the project with its national project code, else the one with its
investor's credit code and name, else the one of its park, investor and name.  Blank cells
of a matched project keep its current values.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from crm.agents.models import AssignmentRole, Staff
from crm.agents.services import staffing
from crm.milestones.services import plans
from crm.extensions import db
from crm.imports.columns import normalise
from crm.imports.models import ImportMode
from crm.imports.services import values
from crm.imports.services.rows import DUPLICATE_IN_FILE, NEW, UNCHANGED, UPDATE, Row
from crm.parks.models import Park
from crm.projects.forms import ledger_form
from crm.projects.models import Project, Stage
from crm.projects.services import (
    EDITABLE_FIELDS, change_stage, create_project, create_projects, update_project,
)

FORM_FIELDS = ("name", "investor_name", "investor_credit_code", "code", "industry", "stage",
               "status", "approval_mode", "eia_category", "contact_name", "contact_phone",
               "signed_on", "expected_start_on", "description")
DATE_FIELDS = ("signed_on", "expected_start_on")
CHOICE_GROUPS = {"industry": "industry", "stage": "stage", "status": "project_status",
                 "approval_mode": "approval_mode", "eia_category": "eia_category"}
DEFAULTS = {"status": "active", "stage": Stage.SIGNED.value}

UNKNOWN_PARK = _l("There is no park of this name.")
NOT_YOUR_PARK = _l("This park is not one of yours.")
NO_PARK = _l("Name the park (所属园区), or choose one when uploading the file.")
EXISTS = _l("Already in Daiban (%(name)s); import with \"create and update\" to change it.")
NOT_FOUND = _l("No project in your parks matches this row (by project code, or credit code and "
               "name); import with \"create and update\" to add it.")
OTHER_PARK_PROJECT = _l("This project belongs to a park that is not one of yours.")
MOVE_REFUSED = _l("The project is in %(park)s; move it to another park on its page.")
UNITS_DISAGREE = _l("The amounts in 万元 and 亿元 disagree; keep one.")
WHOLE_WAN = _l("Give the amount in whole 万元 (at most four decimals in 亿元).")
CODE_WARNING_IMPORT = _l("The last digit does not match the check digit: correct the code, or "
                         "enter the project by hand to confirm it as issued.")
STAFF_UNKNOWN = _l("Nobody of this name is on the park's roster as %(role)s.")
STAGE_REASON = _l("Imported ledger, batch %(batch)d")

STAFF_COLUMNS = ("consultant", "lead_agent")
CHUNK = 500  # project rows checked and registered together


class Ledger:
    """One run over a ledger's rows, for one user's parks."""

    def __init__(self, *, batch_id: int, mode: str, default_park_id: int | None,
                 park_ids: set[int], actor_id: int | None, today):
        self.batch_id = batch_id
        self.mode = mode
        self.actor_id = actor_id
        self.today = today
        parks = db.session.scalars(select(Park).order_by(Park.id)).all()
        self.parks = {p.id: p for p in parks if p.id in park_ids}
        self.park_by_name = {normalise(p.name): p for p in parks}
        self.default_park = self.parks.get(default_park_id)
        self.choices = values.Choices([*CHOICE_GROUPS.values(), "pause_reason"])
        self.seen: dict[tuple, int] = {}
        self._staff: dict[int, dict[tuple[str, str], Staff]] = {}
        self._forms: dict[int, object] = {}  # park id -> the form checking its new projects

    # -- projects ---------------------------------------------------------------------------

    def _park(self, row: Row) -> Park | None:
        name = row.read("park", values.text)
        if name is None:
            if self.default_park is None:
                row.refuse("park", NO_PARK)
            return self.default_park
        park = self.park_by_name.get(normalise(name))
        if park is None:
            row.refuse("park", UNKNOWN_PARK)
        elif park.id not in self.parks:
            row.refuse("park", NOT_YOUR_PARK)
            return None
        return park

    def _investment(self, row: Row) -> int | None:
        wan = row.read("investment_wan", values.number)
        yi = row.read("investment_yi", values.number)
        if yi is not None:
            from_yi = yi * 10000
            if from_yi != from_yi.to_integral_value():
                row.refuse("investment_yi", WHOLE_WAN)
                return None
            if wan is not None and wan != from_yi:
                row.refuse("investment_yi", UNITS_DISAGREE)
                return None
            wan = from_yi
        if wan is None:
            return None
        if wan != wan.to_integral_value():
            row.refuse("investment_wan", WHOLE_WAN)
            return None
        return int(wan)

    def _cells(self, row: Row) -> dict[str, str]:
        """The row's non-blank cells as form text."""
        cells = {}
        for name in FORM_FIELDS:
            convert = values.date_text if name in DATE_FIELDS else values.text
            value = row.read(name, convert)
            if value is None:
                continue
            if name in CHOICE_GROUPS:
                value = self.choices.code(CHOICE_GROUPS[name], value)
            cells[name] = value
        return cells

    def _match(self, cells: dict, park: Park | None) -> Project | None:
        """By project code; else by credit code and name; else (a ledger without codes) by
        park, investor and name."""
        if cells.get("code"):
            found = db.session.scalar(select(Project).where(Project.code == cells["code"].upper()))
            if found is not None:
                return found
        credit = (cells.get("investor_credit_code") or "").upper()
        query = select(Project).where(Project.name == cells.get("name")).order_by(Project.id)
        if credit:
            return db.session.scalars(query.where(Project.investor_credit_code == credit)).first()
        if park is not None and cells.get("investor_name"):
            return db.session.scalars(query.where(
                Project.park_id == park.id, Project.investor_name == cells["investor_name"])).first()
        return None

    @staticmethod
    def _key(cells: dict, park: Park | None):
        if cells.get("code"):
            return ("code", cells["code"].upper())
        if cells.get("investor_credit_code"):
            return ("credit", cells["investor_credit_code"].upper(), cells.get("name"))
        return ("name", park.id if park else None, cells.get("investor_name"), cells.get("name"))

    def _read(self, row: Row) -> tuple[dict, Park | None, int | None]:
        """The row's cells, park and investment; a row seen before in the file is refused."""
        cells = self._cells(row)
        park = self._park(row)
        investment = self._investment(row)
        first = self.seen.setdefault(self._key(cells, park), row.number)
        if first != row.number:
            row.refuse("code" if cells.get("code") else "name", DUPLICATE_IN_FILE % {"row": first})
        return cells, park, investment

    def project_row(self, row: Row) -> str | None:
        """One row through the services (in the caller's savepoint)."""
        cells, park, investment = self._read(row)
        if row.problems:
            return None
        return self._project_row(row, cells, park, investment, self._match(cells, park))

    def project_rows(self, rows: list[Row], step, record) -> None:
        """A chunk of project rows, in file order.  New projects (the bulk of a first import)
        are checked by the form one by one, then registered together (``create_projects``,
        their plans and staff in bulk); a row that updates a project, names its staff or
        matches a project registered just before goes through ``project_row``'s path on its
        own, after the new projects before it are written."""
        read = [(row, *self._read(row)) for row in rows]
        found = _Prefetch([(cells, park) for row, cells, park, _ in read if not row.problems])
        pending: list[tuple[Row, tuple]] = []  # (row, (data, park id, stage))
        created: set = set()  # the match keys of the projects this chunk registered
        for row, cells, park, investment in read:
            if row.problems:
                record(row, None)
                continue
            keys = _match_keys(cells, park)
            project = found.match(cells, park) if found.valid else self._match(cells, park)
            if project is None and not keys & created and self.mode != ImportMode.UPDATE \
                    and not any(row.raw(name) is not None for name in STAFF_COLUMNS):
                form = self._form(row, cells, investment, park, None)
                if form is None:
                    record(row, None)
                else:  # its values now: the form is filled again for the next row
                    pending.append((row, (form.project_data(), park.id, form.stage.data)))
                    created |= keys
                continue
            self._create(pending, record)
            found.valid = False  # a write through the services: look the next rows up afresh
            step(row, lambda r, c=cells, p=park, i=investment:
                 self._project_row(r, c, p, i, self._match(c, p)))
        self._create(pending, record)

    def _create(self, pending: list, record) -> None:
        """Register the checked new projects, their plans and staff in bulk."""
        if not pending:
            return
        with plans.deferred(), staffing.deferred(self.today):
            create_projects([item for _row, item in pending], actor_id=self.actor_id)
        for row, _item in pending:
            record(row, NEW)
        pending.clear()

    def _project_row(self, row: Row, cells: dict, park: Park | None, investment,
                     project: Project | None) -> str | None:
        if project is not None and self.mode == ImportMode.CREATE:
            row.refuse("name", EXISTS % {"name": project.name})
            return None
        if project is None and self.mode == ImportMode.UPDATE:
            row.refuse("name", NOT_FOUND)
            return None
        if project is not None and project.park_id not in self.parks:
            row.refuse("name", OTHER_PARK_PROJECT)
            return None
        if project is not None and "park" in row.index and row.raw("park") is not None \
                and park is not None and park.id != project.park_id:
            row.refuse("park", MOVE_REFUSED % {"park": project.park.name})
            return None
        park = project.park if project is not None else park
        form = self._form(row, cells, investment, park, project)
        if form is None:
            return None
        if project is None:
            return self._create_one(row, form, park)
        return self._update(row, form, project)

    def _form(self, row: Row, cells: dict, investment, park: Park, project: Project | None):
        data = MultiDict()
        if project is not None:  # blank cells keep the project's values
            for name in FORM_FIELDS:
                value = getattr(project, name)
                if value is not None:
                    data[name] = value.isoformat() if hasattr(value, "isoformat") else str(value)
            data["investment"] = str(project.investment)
        else:
            data.update(DEFAULTS)
        for name, value in cells.items():  # replace (MultiDict.update would add a second value)
            data[name] = value
        if investment is not None:
            data["investment"] = str(investment)
        data["park"] = str(park.id)
        if project is not None:
            form = ledger_form(data, [park])
            form.saved_code = project.code
        elif park.id in self._forms:  # a new project's form, filled again for each row
            form = self._forms[park.id]
            form.process(formdata=data)
        else:
            form = self._forms[park.id] = ledger_form(data, [park])
        valid = form.validate()
        for name, messages in form.errors.items():
            column = name if name != "investment" else (
                "investment_yi" if row.raw("investment_yi") is not None else "investment_wan")
            for message in messages:
                row.refuse(column, message)
        if form.code_warning is not None:
            row.refuse("code", CODE_WARNING_IMPORT)
        if not valid or row.problems:
            return None
        return form

    def _create_one(self, row: Row, form, park: Park) -> str:
        data = form.project_data()
        project = create_project(data, park_id=park.id, stage=form.stage.data,
                                 actor_id=self.actor_id)
        self._named_staff(row, project)
        return NEW

    def _update(self, row: Row, form, project: Project) -> str:
        data = {k: v for k, v in form.project_data().items()
                if k in EDITABLE_FIELDS and getattr(project, k) != v}
        changed = False
        if data:
            update_project(project, data, expected_version=project.version)
            changed = True
        if form.stage.data != project.stage:
            change_stage(project, form.stage.data, actor_id=self.actor_id,
                         reason=str(STAGE_REASON % {"batch": self.batch_id}))
            changed = True
        changed = self._named_staff(row, project) or changed
        return UPDATE if changed else UNCHANGED

    def _roster(self, park_id: int) -> dict[tuple[str, str], Staff]:
        if park_id not in self._staff:
            staff = db.session.scalars(select(Staff).where(
                Staff.parks.any(Park.id == park_id), Staff.active.is_(True))).all()
            self._staff[park_id] = {(s.kind, normalise(s.name)): s for s in staff}
        return self._staff[park_id]

    def _named_staff(self, row: Row, project: Project) -> bool:
        """The chief consultant and lead agent the file names replace the rule's choice."""
        changed = False
        for name, role, kind in (("consultant", AssignmentRole.CONSULTANT, "consultant"),
                                 ("lead_agent", AssignmentRole.LEAD_AGENT, "agent")):
            person = row.read(name, values.text)
            if person is None:
                continue
            staff = self._roster(project.park_id).get((kind, normalise(person)))
            if staff is None:
                row.refuse(name, STAFF_UNKNOWN % {"role": row.header(name)})
                continue
            current = staffing.active_on_projects([project.id]).get(project.id, [])
            holder = next((a for a in current if a.role == role), None)
            if holder is not None and holder.staff_id == staff.id:
                continue
            note = str(STAGE_REASON % {"batch": self.batch_id})
            staffing.assign(project, role, staff.id, actor_id=self.actor_id, reason=note,
                            handover_note=note if holder is not None else None, force=True,
                            today=self.today)
            changed = True
        return changed


def _match_keys(cells: dict, park: Park | None) -> set:
    """Every key under which ``Ledger._match`` could find the project of these cells (for a
    project registered by the import: could find it; more keys than needed is safe)."""
    name, credit = cells.get("name"), (cells.get("investor_credit_code") or "").upper()
    keys = set()
    if cells.get("code"):
        keys.add(("code", cells["code"].upper()))
    if credit:
        keys.add(("credit", credit, name))
    if park is not None and cells.get("investor_name"):
        keys.add(("park", park.id, cells["investor_name"], name))
    return keys


class _Prefetch:
    """``Ledger._match`` for a chunk of rows, from two queries: valid until the import writes
    through the services (an update may change a code or a name)."""

    def __init__(self, rows: list[tuple[dict, Park | None]]):
        self.valid = True
        codes = sorted({c["code"].upper() for c, _ in rows if c.get("code")})
        names = sorted({c["name"] for c, _ in rows if c.get("name")})
        self.by_code = {p.code: p for p in db.session.scalars(
            select(Project).where(Project.code.in_(codes)))} if codes else {}
        self.by_name: dict[str, list[Project]] = {}
        if names:
            for project in db.session.scalars(select(Project).where(Project.name.in_(names))
                                              .order_by(Project.id)):
                self.by_name.setdefault(project.name, []).append(project)

    def match(self, cells: dict, park: Park | None) -> Project | None:
        if cells.get("code"):
            found = self.by_code.get(cells["code"].upper())
            if found is not None:
                return found
        named = self.by_name.get(cells.get("name"), [])
        credit = (cells.get("investor_credit_code") or "").upper()
        if credit:
            return next((p for p in named if p.investor_credit_code == credit), None)
        if park is not None and cells.get("investor_name"):
            return next((p for p in named if p.park_id == park.id
                         and p.investor_name == cells["investor_name"]), None)
        return None


def progress_order(rows: Iterable[Row]) -> list[Row]:
    """Progress rows in the order things happened (by acceptance date, then completion), so
    an item's prerequisites are issued before it starts wherever the ledger says so."""
    def when(row: Row):
        for name in ("accepted_on", "completed_on"):
            try:
                day = values.date(row.raw(name))
            except values.CellError:
                day = None
            if day is not None:
                return (0, day.toordinal(), row.number)
        return (1, 0, row.number)

    return sorted(rows, key=when)
