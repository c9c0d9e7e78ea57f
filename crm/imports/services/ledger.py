"""A park's ledger (台账): project rows and their approval progress.

Every row goes through the services the pages use — ``create_project`` (its approval plan and
staff by the park's rule follow, as for a project typed in), ``update_project``,
``change_stage``, and the milestone lifecycle (start, pause, resume, complete, with deadlines
from the working-day calendar) — after the project form has checked it.  So an imported
project obeys exactly the rules of one entered by hand.

Matching: a row is the project with its national project code, else the one with its
investor's credit code and name, else (progress rows) the one of that name in the user's
parks.  Blank cells of a matched project keep its current values.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from crm.agents.models import AssignmentRole, Staff
from crm.agents.services import staffing
from crm.extensions import db
from crm.imports.columns import normalise
from crm.imports.models import ImportMode
from crm.imports.services import values
from crm.imports.services.rows import DUPLICATE_IN_FILE, NEW, UNCHANGED, UPDATE, Row
from crm.milestones.models import Milestone, MilestoneStatus
from crm.milestones.services import lifecycle
from crm.parks.models import Park
from crm.projects.forms import ledger_form
from crm.projects.models import Project, Stage
from crm.projects.services import EDITABLE_FIELDS, change_stage, create_project, update_project

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

# Progress rows
NO_PROJECT = _l("No project in your parks has this code or name (projects on the first sheet "
                "count once imported).")
AMBIGUOUS = _l("Several projects in your parks have this name; give the project code.")
NO_ITEM = _l("This approval item is not in the project's plan, which has: %(items)s.")
NEED_ACCEPTED = _l("Give the acceptance date (受理日期) too.")
NEED_REASON = _l("Give the reason for the pause.")
ACCEPTED_DIFFERS = _l("Already accepted on %(date)s in Daiban; correct it on the milestone's page.")
COMPLETED_DIFFERS = _l("Already completed on %(date)s in Daiban; reopen it on the milestone's page.")
PARALLEL_REASON = _l("Accepted before its prerequisites were issued, as recorded in the "
                     "imported ledger.")
SERVICE_FIELDS = {"reason_code": "pause_reason"}  # service field -> progress column


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
        self._found: dict[tuple, int] = {}  # progress rows: project found by (code, name, credit)

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

    def project_row(self, row: Row) -> str | None:
        cells = self._cells(row)
        park = self._park(row)
        investment = self._investment(row)
        first = self.seen.setdefault(self._key(cells, park), row.number)
        if first != row.number:
            row.refuse("code" if cells.get("code") else "name", DUPLICATE_IN_FILE % {"row": first})
        if row.problems:
            return None
        project = self._match(cells, park)
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
            return self._create(row, form, park)
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
        data.update(cells)
        if investment is not None:
            data["investment"] = str(investment)
        data["park"] = str(park.id)
        form = ledger_form(data, [park])
        if project is not None:
            form.saved_code = project.code
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

    def _create(self, row: Row, form, park: Park) -> str:
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

    # -- approval progress --------------------------------------------------------------------

    def _project_for(self, row: Row) -> Project | None:
        code = row.read("project_code", values.text)
        name = row.read("project_name", values.text)
        credit = row.read("investor_credit_code", values.text)
        key = (code, name, credit)
        if key in self._found:  # the ledger's rows of one project follow each other
            return db.session.get(Project, self._found[key])
        found = self._find_project(row, code, name, credit)
        if found is not None:
            self._found[key] = found.id
        return found

    def _find_project(self, row: Row, code, name, credit) -> Project | None:
        query = select(Project).where(Project.park_id.in_(list(self.parks))).options(
            selectinload(Project.milestones).joinedload(Milestone.approval_item))
        if code:
            found = db.session.scalar(query.where(Project.code == code.upper()))
        elif name:
            if credit:
                query = query.where(Project.investor_credit_code == credit.upper())
            matches = db.session.scalars(query.where(Project.name == name).limit(2)).all()
            if len(matches) > 1:
                row.refuse("project_name", AMBIGUOUS)
                return None
            found = matches[0] if matches else None
        else:
            found = None
        if found is None:
            row.refuse("project_code" if code or not name else "project_name", NO_PROJECT)
        return found

    @staticmethod
    def _milestone(project: Project, item: str):
        wanted = normalise(item)
        for milestone in project.milestones:
            code = milestone.approval_item.code if milestone.approval_item else None
            if normalise(milestone.name) == wanted or (code and normalise(code) == wanted):
                return milestone
        return None

    def progress_row(self, row: Row) -> str | None:
        item = row.read("item", values.text)
        dates = {name: row.read(name, values.date)
                 for name in ("accepted_on", "paused_on", "resumed_on", "completed_on")}
        reason = self.choices.code("pause_reason", row.read("pause_reason", values.text))
        document = row.read("approval_doc_no", values.text)
        project = self._project_for(row) if not row.problems else None
        if row.problems:
            return None
        milestone = self._milestone(project, item or "")
        if milestone is None:
            row.refuse("item", NO_ITEM % {"items": "、".join(m.name for m in project.milestones) or "—"})
            return None
        was_pending = milestone.status == MilestoneStatus.PENDING
        if was_pending and dates["accepted_on"] is None and any(dates.values()):
            row.refuse("accepted_on", NEED_ACCEPTED)
            return None
        if dates["paused_on"] and not reason:
            row.refuse("pause_reason", NEED_REASON)
            return None
        changed = self._advance(row, milestone, dates, reason, document)
        if row.problems:
            return None
        if not changed:
            return UNCHANGED
        return NEW if was_pending else UPDATE

    def _advance(self, row: Row, milestone, dates: dict, reason, document) -> bool:
        """Move the milestone forward to what the row records; False when it already is."""
        changed = False
        accepted, paused, resumed, completed = (dates[k] for k in (
            "accepted_on", "paused_on", "resumed_on", "completed_on"))
        if accepted is not None:
            if milestone.status == MilestoneStatus.PENDING:
                waiting = lifecycle.waiting_for(milestone)
                lifecycle.start(milestone, accepted_on=accepted, today=self.today,
                                parallel_reason=str(PARALLEL_REASON) if waiting else None)
                changed = True
            elif milestone.accepted_on != accepted:
                row.refuse("accepted_on", ACCEPTED_DIFFERS % {
                    "date": milestone.accepted_on.isoformat() if milestone.accepted_on else "—"})
                return False
        if paused is not None and all(p.paused_on != paused for p in milestone.pauses) \
                and milestone.status == MilestoneStatus.RUNNING:
            lifecycle.pause(milestone, paused_on=paused, reason_code=reason, today=self.today,
                            actor_id=self.actor_id)
            changed = True
        if resumed is not None and milestone.status == MilestoneStatus.PAUSED:
            lifecycle.resume(milestone, resumed_on=resumed, today=self.today)
            changed = True
        if completed is not None:
            if milestone.status != MilestoneStatus.DONE:
                lifecycle.complete(milestone, completed_on=completed, today=self.today,
                                   approval_doc_no=document, actor_id=self.actor_id)
                changed = True
            elif milestone.completed_on != completed:
                row.refuse("completed_on", COMPLETED_DIFFERS % {
                    "date": milestone.completed_on.isoformat()})
        return changed


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
