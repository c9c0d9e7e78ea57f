"""Forecast benchmarks (issue 17): the pure graph rules over a city's plans, and the bulk refresh
of every stored forecast (each open milestone's expected issue date, slack and critical flag,
each project's forecast and promise) in an existing database, e.g. one made by
``flask --app crm crm generate --projects 100000``.

    .venv/bin/python benchmarks/forecasts.py --pure-only --projects 100000
    .venv/bin/python benchmarks/forecasts.py --database-url postgresql://postgres@127.0.0.1/bench100

The database part runs ``forecasts.refresh_projects(None, ...)`` ``--repeat`` times, each in its
own transaction (the first writes whatever moved since the data was made, the later ones find
nothing to change, as the hourly refresh mostly does) and prints the median and the slowest
run with the load average.  Nothing is left changed but the stored forecasts themselves.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crm.milestones import graph  # noqa: E402
from crm.milestones.calendar import WorkCalendar  # noqa: E402

SEED = 2026
TODAY = dt.date(2026, 12, 4)
STATUSES = ["done"] * 4 + ["running"] * 2 + ["paused"] + ["pending"] * 4 + ["waived"]
LIMITS = [(1, "working"), (5, "working"), (15, "working"), (20, "working"), (7, "calendar"),
          (30, "working")]


def _plan(rng: random.Random):
    """A plan like the seeded catalogue's: 9 items, each needing one to three earlier ones."""
    nodes, needs = [], {}
    for i in range(9):
        status = rng.choice(STATUSES)
        limit, unit = rng.choice(LIMITS)
        due = completed = remaining = None
        if status == "running":
            due = TODAY + dt.timedelta(days=rng.randint(-10, 30))
        elif status == "done":
            completed = TODAY - dt.timedelta(days=rng.randint(1, 200))
        elif status == "paused":
            remaining = rng.randint(0, 15)
        nodes.append(graph.Node(i, status, limit, unit, due, completed, remaining))
        needs[i] = rng.sample(range(i), min(i, rng.randint(1, 3))) if i else []
    return nodes, needs


def pure(projects: int) -> None:
    rng = random.Random(SEED)
    calendar = WorkCalendar()
    plans = [_plan(rng) for _ in range(projects)]
    started = time.perf_counter()
    for nodes, needs in plans:
        graph.forecast(nodes, needs, TODAY, calendar)
    seconds = time.perf_counter() - started
    milestones = projects * 9
    print(f"| pure graph.forecast | {projects:,} plans, {milestones:,} milestones | "
          f"{seconds:.2f} s | {milestones / seconds:,.0f} milestones/s | "
          f"load {os.getloadavg()[0]:.2f} |")


def database(url: str, repeat: int) -> None:
    from sqlalchemy import func, select

    from crm import create_app
    from crm.extensions import db
    from crm.milestones.models import Milestone
    from crm.milestones.queries import work_calendar
    from crm.milestones.services.forecasts import refresh_projects

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "JOBS_INLINE": False,
                      "RATELIMIT_STORAGE_URI": "memory://"})
    app.instance_path = tempfile.mkdtemp(prefix="daiban-bench-forecasts-")
    with app.app_context():
        calendar = work_calendar()
        milestones = db.session.scalar(select(func.count()).select_from(Milestone))
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            projects = refresh_projects(None, TODAY, calendar)
            db.session.commit()
            times.append(time.perf_counter() - started)
            print(f"  run: {times[-1]:.2f} s (load {os.getloadavg()[0]:.2f})", flush=True)
        print(f"| bulk refresh | {projects:,} projects, {milestones:,} milestones | "
              f"median {statistics.median(times):.2f} s | max {max(times):.2f} s | "
              f"{milestones / statistics.median(times):,.0f} milestones/s | "
              f"load {os.getloadavg()[0]:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=100_000)
    parser.add_argument("--database-url")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pure-only", action="store_true")
    args = parser.parse_args()
    pure(args.projects)
    if args.database_url and not args.pure_only:
        database(args.database_url, args.repeat)


if __name__ == "__main__":
    main()
