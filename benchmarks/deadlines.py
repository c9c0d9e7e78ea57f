"""Deadline benchmarks (issue 3): the pure rules over a million deadlines, and recomputing the
open deadlines in a database after a year's schedule is loaded, at realistic and 100x scale.

    .venv/bin/python benchmarks/deadlines.py              # both parts
    .venv/bin/python benchmarks/deadlines.py --pure-only
    CRM_BENCH_DATABASE_URL=postgresql://... .venv/bin/python benchmarks/deadlines.py --db-only

Deterministic (fixed seed).  The database part builds a scratch SQLite database in a temporary
folder (or uses CRM_BENCH_DATABASE_URL, whose schema it drops and rebuilds: never point it at a
database you need).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crm.milestones import sla  # noqa: E402
from crm.milestones.calendar import WorkCalendar  # noqa: E402

SEED = 2026
LIMITS = [(1, "working"), (5, "working"), (15, "working"), (20, "working"), (30, "working"),
          (7, "calendar"), (30, "calendar"), (60, "calendar")]


def rows(n: int, rng: random.Random, first=dt.date(2020, 1, 1), last=dt.date(2026, 12, 31)):
    span = (last - first).days
    out = []
    for _ in range(n):
        accepted = first + dt.timedelta(days=rng.randrange(span))
        limit, unit = rng.choice(LIMITS)
        pauses = []
        for _ in range(rng.choice((0, 0, 0, 0, 1, 1, 2))):  # about 40% paused at least once
            start = accepted + dt.timedelta(days=rng.randrange(1, 30))
            pauses.append((start, start + dt.timedelta(days=rng.randrange(0, 20))))
        out.append((accepted, limit, unit, pauses))
    return out


def timed(label, fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    seconds = time.perf_counter() - start
    print(f"  {label}: {seconds:.2f} s")
    return result, seconds


def pure(n: int = 1_000_000) -> None:
    print(f"Pure rules, {n:,} deadlines:")
    rng = random.Random(SEED)
    data, _ = timed("generate the rows", rows, n, rng)
    calendar, _ = timed("build the calendar (2000-2100, overrides included)", WorkCalendar,
                        {dt.date(2027, 1, 1): False})
    bulk, seconds = timed("due_dates_bulk", sla.due_dates_bulk, data, calendar)
    print(f"    = {n / seconds:,.0f} deadlines/s")
    one_by_one, _ = timed("due_date one by one", lambda: [sla.due_date(*r, calendar) for r in data])
    assert bulk == one_by_one
    plain = [r for r in data if not r[3] and r[2] == "working"]
    timed(f"due_dates_bulk, {len(plain):,} without pauses (working days)", sla.due_dates_bulk,
          plain, calendar)


SCHEDULE_2027 = "\n".join(f"{d} 休" for d in ("2027-01-01", "2027-02-08", "2027-02-09", "2027-02-10",
                                              "2027-02-11", "2027-02-12")) + "\n2027-02-06 班\n"


def database(open_milestones: int) -> None:
    """Import a 2027 schedule with ``open_milestones`` running or paused milestones."""
    from sqlalchemy import insert, text

    from crm import create_app
    from crm.extensions import db
    from crm.milestones.services.schedules import import_schedule
    from crm.milestones.models import Milestone, MilestonePause
    from crm.parks.models import District, Park
    from crm.projects.models import Project

    url = os.environ.get("CRM_BENCH_DATABASE_URL")
    folder = tempfile.mkdtemp(prefix="daiban-bench-")
    url = url or f"sqlite:///{folder}/bench.sqlite3"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "RATELIMIT_STORAGE_URI": "memory://"})
    app.instance_path = folder
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        from flask_migrate import upgrade

        upgrade()
        rng = random.Random(SEED)
        calendar = WorkCalendar()
        district = District(code="320600", name="南通市")
        park = Park(name="基准园区", short_name="基准", level="national", district=district)
        db.session.add_all([district, park])
        db.session.flush()
        projects = max(open_milestones // 8, 1)
        db.session.execute(insert(Project), [
            {"name": f"基准项目{i}", "investor_name": "基准投资有限公司", "investment": 20000,
             "industry": "new_energy", "park_id": park.id, "stage": "land"} for i in range(projects)])
        project_ids = [pid for (pid,) in db.session.execute(text("SELECT id FROM projects"))]
        today = dt.date(2026, 12, 28)
        values, pauses = [], []
        for i, (accepted, limit, unit, spans) in enumerate(
                rows(open_milestones, rng, dt.date(2026, 9, 1), dt.date(2026, 12, 28))):
            spans = [(p, r if r <= today else None) for p, r in spans if p <= today][-1:]
            facts = sla.schedule(accepted, limit, unit, spans, calendar)
            values.append({"id": i + 1, "project_id": project_ids[i % len(project_ids)],
                           "park_id": park.id, "name": f"节点{i}", "stage": "land",
                           "sequence": i, "required": True, "limit_value": limit,
                           "limit_unit": unit, "status": "running" if facts.due_on else "paused",
                           "accepted_on": accepted, "due_on": facts.due_on,
                           "due_provisional": facts.provisional,
                           "remaining_workdays": facts.remaining_frozen, "version": 1})
            pauses += [{"milestone_id": i + 1, "paused_on": p, "resumed_on": r,
                        "reason_code": "supplement"} for p, r in spans]
        for start in range(0, len(values), 10_000):
            db.session.execute(insert(Milestone), values[start:start + 10_000])
        if pauses:
            db.session.execute(insert(MilestonePause), pauses)
        db.session.commit()
        print(f"Database ({db.engine.dialect.name}), {open_milestones:,} open milestones "
              f"({len(pauses):,} pauses):")
        start = time.perf_counter()
        result = import_schedule(SCHEDULE_2027, 2027)
        db.session.commit()
        seconds = time.perf_counter() - start
        print(f"  import the 2027 schedule and recompute: {seconds:.2f} s "
              f"({result.recompute.changed:,} of {result.recompute.open:,} deadlines changed)")
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pure-only", action="store_true")
    parser.add_argument("--db-only", action="store_true")
    parser.add_argument("--sizes", default="1000,100000",
                        help="open milestones in the database runs (realistic, 100x)")
    args = parser.parse_args()
    if not args.db_only:
        pure()
    if not args.pure_only:
        for size in (int(s) for s in args.sizes.split(",")):
            database(size)


if __name__ == "__main__":
    main()
