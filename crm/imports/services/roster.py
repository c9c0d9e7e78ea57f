"""A park's roster (人员名册): staff rows checked with the roster page's form and written with
its services (``create_staff``, ``update_staff``, ``add_to_park``).

A row is the person of that name (and phone, when given) already serving the park; a matched
person's capacity, phone and title are updated, their leave and active flag kept.  The parks
served column adds the person to more of the importer's parks.
"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from crm.agents.forms import StaffForm
from crm.agents.models import Staff
from crm.agents.services import roster as roster_services
from crm.extensions import db
from crm.projects.forms import job_meta
from crm.imports.columns import normalise
from crm.imports.models import ImportMode
from crm.imports.services import values
from crm.imports.services.ledger import NOT_YOUR_PARK, UNKNOWN_PARK
from crm.imports.services.rows import DUPLICATE_IN_FILE, NEW, UNCHANGED, UPDATE, Row
from crm.parks.models import Park

DEFAULT_CAPACITY = 8
STAFF_EXISTS = _l("%(name)s is already on this park's roster; import with \"create and update\" "
                  "to change their details.")
STAFF_NOT_FOUND = _l("Nobody of this name is on this park's roster.")


class Roster:
    def __init__(self, *, mode: str, park: Park, park_ids: set[int], actor_id: int | None, today):
        self.mode = mode
        self.park = park
        self.actor_id = actor_id
        self.today = today
        parks = db.session.scalars(select(Park)).all()
        self.park_ids = park_ids
        self.park_by_name = {normalise(p.name): p for p in parks}
        self.choices = values.Choices(["staff_kind"])
        self.seen: dict[tuple, int] = {}

    def _match(self, name: str, phone: str | None) -> Staff | None:
        query = select(Staff).where(Staff.parks.any(Park.id == self.park.id), Staff.name == name)
        if phone:
            query = query.where(Staff.phone == phone)
        return db.session.scalars(query.order_by(Staff.id)).first()

    def _parks(self, row: Row) -> list[Park]:
        listed = row.read("parks", values.text)
        found = []
        for part in re.split(r"[、,，;；/]+", listed or ""):
            if not part.strip():
                continue
            park = self.park_by_name.get(normalise(part))
            if park is None:
                row.refuse("parks", UNKNOWN_PARK)
            elif park.id not in self.park_ids:
                row.refuse("parks", NOT_YOUR_PARK)
            elif park.id != self.park.id:
                found.append(park)
        return found

    def row(self, row: Row) -> str | None:
        data = MultiDict()
        for name in ("name", "phone", "title", "capacity"):
            value = row.read(name, values.text)
            if value is not None:
                data[name] = value
        kind = self.choices.code("staff_kind", row.read("kind", values.text))
        more_parks = self._parks(row)
        key = (normalise(data.get("name", "")), data.get("phone"))
        first = self.seen.setdefault(key, row.number)
        if first != row.number:
            row.refuse("name", DUPLICATE_IN_FILE % {"row": first})
        if row.problems:
            return None
        staff = self._match(data.get("name", ""), data.get("phone"))
        if staff is not None and self.mode == ImportMode.CREATE:
            row.refuse("name", STAFF_EXISTS % {"name": staff.name})
            return None
        if staff is None and self.mode == ImportMode.UPDATE:
            row.refuse("name", STAFF_NOT_FOUND)
            return None
        if staff is not None:
            data.setdefault("capacity", str(staff.capacity))
            data.setdefault("phone", staff.phone or "")
            data.setdefault("title", staff.title or "")
            kind = kind or staff.kind
        data.setdefault("capacity", str(DEFAULT_CAPACITY))
        if kind:
            data["kind"] = kind
        form = StaffForm(formdata=data, meta=job_meta())
        if not form.validate():
            for name, messages in form.errors.items():
                for message in messages:
                    row.refuse(name, message)
            return None
        if staff is None:
            staff = roster_services.create_staff(
                self.park, name=form.name.data, kind=form.kind.data, phone=form.phone.data,
                title=form.title.data, capacity=form.capacity.data)
            result = NEW
        else:
            before = (staff.capacity, staff.phone, staff.title)
            roster_services.update_staff(
                staff, capacity=form.capacity.data, on_leave_until=staff.on_leave_until,
                active=staff.active, phone=form.phone.data, title=form.title.data,
                today=self.today, actor_id=self.actor_id)
            result = UPDATE if before != (staff.capacity, staff.phone, staff.title) else UNCHANGED
        for park in more_parks:
            if park not in staff.parks:
                roster_services.add_to_park(park, staff.id, anyone=True)
                result = UPDATE if result == UNCHANGED else result
        return result
