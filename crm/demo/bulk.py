"""`flask crm generate`: a synthetic city in bulk, for benchmarks at 100x the real size.

Adds to whatever the database holds (empty, or with the demo loaded): new parks in the existing
districts (the demo's districts are created when missing), their staff, one park manager each,
and projects at every stage and status spread over the last five years, with milestone plans
from the approval-item catalogue (deadlines from the real working-day calendar), clock pauses,
stage history, assignments (and their history) and about twenty progress logs per project,
blockers included.  The rows of each project come from crm/demo/bulk_rows.py.

Rows go in with SQLAlchemy Core inserts (``executemany``) and, on PostgreSQL, with COPY: no
ORM object per row.  That also means the session's audit hooks (crm/audit/services.py) never
see these rows, on purpose: synthetic bulk data has no author and no history to audit.

Explicit ids are used for the tables whose rows point at each other; on PostgreSQL their
sequences are moved past the new ids at the end.  Like every service, this flushes but never
commits: the command commits, then calls ``analyze`` so the planner knows the new sizes.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

from sqlalchemy import insert, select, text

from crm.agents.models import Assignment, Staff, staff_parks
from crm.auth.models import Role, User, new_session_token, user_parks
from crm.db import utcnow
from crm.demo import data
from crm.demo.bulk_rows import APPROVED, ProjectRows, at, person, phone, timeline
from crm.extensions import db
from crm.milestones.services.plans import catalogue_for, seed_catalogue
from crm.milestones.models import Milestone, MilestoneDependency, MilestonePause
from crm.milestones.services import forecasts
from crm.milestones.queries import work_calendar
from crm.parks.models import District, Park
from crm.projects.models import ProgressLog, Project, ProjectStatus, StageChange

CHUNK_PROJECTS = 2000  # projects whose rows are built and written together
INSERT_ROWS = 10_000  # rows per executemany
PROJECTS_PER_PARK = 500
PROJECTS_PER_CONSULTANT = 15
PROJECTS_PER_AGENT = 3
TABLES = {"projects": Project.__table__, "stage_changes": StageChange.__table__,
          "milestones": Milestone.__table__, "milestone_pauses": MilestonePause.__table__,
          "milestone_dependencies": MilestoneDependency.__table__,
          "progress_logs": ProgressLog.__table__, "assignments": Assignment.__table__}
EXPLICIT_IDS = ("parks", "staff", "users", "projects", "milestones", "progress_logs")


@dataclass(slots=True)
class ParkInfo:
    id: int
    district_id: int
    division: str
    weight: int
    consultants: list[int]
    agents: list[int]


class BulkWriter:
    """Inserts lists of row dicts (every row of a list has the same keys, every column the
    table needs: COPY applies no Python-side defaults): COPY on PostgreSQL, executemany in
    chunks elsewhere."""

    def __init__(self):
        self.copy = db.session.connection().dialect.name == "postgresql"
        self.counts: dict[str, int] = {}

    def write(self, table, rows: list[dict]) -> None:
        if not rows:
            return
        self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)
        if self.copy:
            columns = list(rows[0])
            raw = db.session.connection().connection.driver_connection
            names = ", ".join(f'"{c}"' for c in columns)
            with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row([row[c] for c in columns])
            return
        for start in range(0, len(rows), INSERT_ROWS):
            db.session.execute(insert(table), rows[start:start + INSERT_ROWS])


def generate(projects: int, today: dt.date, seed: int = 1,
             echo: Callable[[str], None] = lambda _: None) -> dict[str, int]:
    """Add a synthetic city of ``projects`` projects; returns the rows added per table."""
    started = time.perf_counter()
    rng = random.Random(seed)
    seed_catalogue()
    calendar = work_calendar()
    writer = BulkWriter()
    next_ids = {t: (db.session.scalar(text(f'SELECT max(id) FROM "{t}"')) or 0) + 1 for t in EXPLICIT_IDS}

    parks = _parks(rng, max(2, round(projects / PROJECTS_PER_PARK)), next_ids, writer)
    homes = rng.choices(parks, [p.weight for p in parks], k=projects)
    timelines = [timeline(rng, today, calendar) for _ in range(projects)]
    staff_rows, links = _staff(rng, today, parks, homes, timelines, next_ids)
    first_project = next_ids["projects"]
    capacity = {row["id"]: row["capacity"] for row in staff_rows}
    assignments, last_assigned = _assignments(rng, homes, timelines, first_project, capacity)
    for row in staff_rows:
        row["last_assigned_at"] = last_assigned.get(row["id"])
    writer.write(Staff.__table__, staff_rows)
    writer.write(staff_parks, links)
    _managers(rng, parks, next_ids, writer)
    echo(f"{len(parks)} parks, {len(staff_rows)} staff ({time.perf_counter() - started:.1f} s)")

    catalogues = {p.district_id: catalogue_for(SimpleNamespace(park=p)) for p in parks}
    codes = set(db.session.scalars(select(Project.code).where(Project.code.is_not(None))))
    maker = ProjectRows(rng, today, calendar, catalogues, next_ids, codes)
    for start in range(0, projects, CHUNK_PROJECTS):
        stop = min(start + CHUNK_PROJECTS, projects)
        for n in range(start, stop):
            maker.add(first_project + n, homes[n], timelines[n])
        rows = maker.finish()
        rows["assignments"] = [a for n in range(start, stop) for a in assignments.get(n, ())]
        for name, table in TABLES.items():
            writer.write(table, rows[name])
        echo(f"  {stop:>8,} / {projects:,} projects  ({time.perf_counter() - started:.1f} s)")
    if writer.copy:
        for table in EXPLICIT_IDS:
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                    f'(SELECT max(id) FROM "{table}"))'))
    db.session.flush()
    forecasts.refresh_projects(range(first_project, first_project + projects), today, calendar)
    echo(f"forecasts ({time.perf_counter() - started:.1f} s)")
    return writer.counts


def analyze() -> None:
    """Refresh the planner's statistics after a load (after the commit): VACUUM ANALYZE on
    PostgreSQL (outside a transaction), ANALYZE on SQLite."""
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))


# -- the city's frame: parks, staff, managers --------------------------------------------------


def _districts() -> list[District]:
    existing = {d.code: d for d in db.session.scalars(select(District))}
    for code, name in (data.CITY, *data.DISTRICTS):
        if code not in existing:
            existing[code] = District(code=code, name=name)
            db.session.add(existing[code])
    db.session.flush()
    return [existing[code] for code, _ in data.DISTRICTS]


def _parks(rng, count: int, next_ids: dict, writer: BulkWriter) -> list[ParkInfo]:
    districts = _districts()
    taken = set(db.session.scalars(select(Park.name)))
    rows, parks, number = [], [], 0
    while len(rows) < count:
        number += 1
        district = districts[number % len(districts)]
        name = f"{district.name}第{number}产业园"
        if name in taken:
            continue
        park_id = next_ids["parks"]
        next_ids["parks"] += 1
        rows.append({"id": park_id, "name": name, "short_name": f"{district.name[:2]}{number}园",
                     "level": "national" if rng.random() < 0.2 else "provincial",
                     "district_id": district.id, "address": f"{district.name}产业大道{number}号",
                     "phone": f"0513-{rng.randrange(10**8):08d}"})
        parks.append(ParkInfo(park_id, district.id, district.code, rng.choice((1, 1, 2, 2, 3, 4, 6)),
                              [], []))
    writer.write(Park.__table__, rows)
    return parks


def _staff(rng, today, parks, homes, timelines, next_ids) -> tuple[list[dict], list[dict]]:
    """About one consultant per 15 and one agent per 3 projects under way, each in their park;
    capacities leave some room.  A few consultants also serve the next park; a few people are
    on leave or inactive (new assignments skip them).  Returns the staff and park-link rows."""
    served = {p.id: 0 for p in parks}
    for park, tl in zip(homes, timelines):
        served[park.id] += tl.served
    now = utcnow()
    rows, links = [], []
    for index, park in enumerate(parks):
        for kind, per, capacities, titles, available in (
                ("consultant", PROJECTS_PER_CONSULTANT, (15, 18, 20, 20, 25), data.TITLES_CONSULTANT,
                 park.consultants),
                ("agent", PROJECTS_PER_AGENT, (3, 4, 4, 5), data.TITLES_AGENT, park.agents)):
            for _ in range(max(2, math.ceil(served[park.id] / per))):
                staff_id = next_ids["staff"]
                next_ids["staff"] += 1
                roll = rng.random()
                on_leave = today + dt.timedelta(days=rng.randint(1, 20)) if roll < 0.02 else None
                rows.append({"id": staff_id, "name": person(rng), "kind": kind, "phone": phone(rng),
                             "title": rng.choice(titles), "capacity": rng.choice(capacities),
                             "on_leave_until": on_leave, "active": not 0.02 <= roll < 0.03,
                             "last_assigned_at": None, "created_at": now})
                links.append({"staff_id": staff_id, "park_id": park.id})
                if kind == "consultant" and rng.random() < 0.1:
                    links.append({"staff_id": staff_id, "park_id": parks[(index + 1) % len(parks)].id})
                if roll >= 0.03:
                    available.append(staff_id)
    return rows, links


def _assignments(rng, homes, timelines, first_project, capacity) -> tuple[dict, dict]:
    """Assignment rows by project index, and each person's last assignment time.

    Projects under way get a consultant and a lead agent of their park, the lowest load ratio
    first and the least recently assigned on ties (the assignment rule's order), never past
    capacity; about 3% of active ones wait in the unassigned queue; about 5% had their lead
    agent replaced.  Finished and dropped projects keep their ended assignments as history.
    """
    heaps = {}
    for park in {p.id: p for p in homes}.values():
        heaps[park.id, "consultant"] = [(0.0, 0, s, 0) for s in sorted(park.consultants)]
        heaps[park.id, "agent"] = [(0.0, 0, s, 0) for s in sorted(park.agents)]
    ticket = itertools.count(1)
    result, last = {}, {}
    for n in sorted(range(len(timelines)), key=lambda n: timelines[n].entries[0]):
        tl, park = timelines[n], homes[n]
        begun = at(tl.entries[0], rng)
        base = {"project_id": first_project + n, "assigned_by_id": None, "forced": False,
                "ended_by_id": None, "started_at": begun, "ended_at": None, "end_reason": None,
                "handover_note": None, "automatic": True, "reason": "按分配规则自动分配"}
        rows = []
        if not tl.served:
            ended = at(tl.entries[APPROVED] if tl.stage == APPROVED else tl.until, rng)
            why = "审批完成，代办服务结束" if tl.stage == APPROVED else "项目终止"
            for role, pool in (("consultant", park.consultants), ("lead_agent", park.agents)):
                rows.append({**base, "staff_id": rng.choice(pool), "role": role, "ended_at": ended,
                             "end_reason": why})
        elif tl.status != ProjectStatus.ACTIVE or rng.random() >= 0.03:
            for role, kind in (("consultant", "consultant"), ("lead_agent", "agent")):
                staff_id = _take(heaps[park.id, kind], capacity, next(ticket))
                if staff_id is not None:
                    rows.append({**base, "staff_id": staff_id, "role": role})
            if len(rows) == 2 and rng.random() < 0.05:
                handover = begun + (at(tl.until, rng) - begun) / 2
                rows.append({**base, "staff_id": rng.choice(park.agents), "role": "lead_agent",
                             "ended_at": handover, "end_reason": "园区人员调整",
                             "handover_note": "已移交全部材料和部门联系人。"})
                rows[1].update(started_at=handover, automatic=False, reason="园区人员调整")
        for row in rows:
            last[row["staff_id"]] = max(last.get(row["staff_id"], row["started_at"]), row["started_at"])
        result[n] = rows
    return result, last


def _take(heap: list, capacity: dict[int, int], ticket: int) -> int | None:
    """The person with the lowest load ratio, then the least recently assigned; None when
    everyone is full."""
    if not heap:
        return None
    _, _, staff_id, load = heapq.heappop(heap)
    load += 1
    if load < capacity[staff_id]:
        heapq.heappush(heap, (load / capacity[staff_id], ticket, staff_id, load))
    return staff_id


def _managers(rng, parks, next_ids, writer) -> None:
    """A park manager per new park (``pm<park id>``, the demo password, one hash for all)."""
    from crm.demo.loader import DEMO_PASSWORD
    from crm.security import hash_password

    taken = set(db.session.scalars(select(User.username)))
    password, now = hash_password(DEMO_PASSWORD), utcnow()
    rows, links = [], []
    for park in parks:
        if f"pm{park.id}" in taken:
            continue
        user_id = next_ids["users"]
        next_ids["users"] += 1
        rows.append({"id": user_id, "username": f"pm{park.id}", "display_name": person(rng),
                     "password_hash": password, "role": Role.PARK_MANAGER.value, "staff_id": None,
                     "active": True, "session_token": new_session_token(), "locale": None,
                     "created_at": now, "last_login_at": None, "password_changed_at": now})
        links.append({"user_id": user_id, "park_id": park.id})
    writer.write(User.__table__, rows)
    writer.write(user_parks, links)
