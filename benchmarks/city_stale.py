"""The city dashboard when its rollups are old (issue 18): served as they are while a worker
recomputes them (stale-while-revalidate), against the former behaviour, recomputing them in
the request (what the page still does when no queue answers).

    .venv/bin/python benchmarks/city_stale.py \\
        --database-url postgresql://postgres@127.0.0.1:5432/bench100 --repeat 15

Per round, interleaved: (fresh) rollups just computed; (stale, queued) rollups aged past the
maximum age, a Redis queue to hand the refresh to; (stale, in request) the same with the queue
unreachable.  Prints median and p95 of each, in ms, and the load average.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_pages import ensure_users, login, make_app, percentile  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    app = make_app(args.database_url)
    from sqlalchemy import update

    from crm.dashboard import services
    from crm.dashboard.models import ParkRollup
    from crm.extensions import db
    from crm.i18n import today
    from crm.milestones.queries import work_calendar
    from crm.queue import get_queue, redis_connection

    with app.app_context():
        ensure_users()
        services.refresh(today(), work_calendar())
        db.session.commit()
    client = login(app, "bench-leader")
    redis_url = app.config["REDIS_URL"]
    times: dict[str, list[float]] = {"fresh": [], "stale, queued": [], "stale, in request": []}

    def age():
        with app.app_context():
            old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=10)
            db.session.execute(update(ParkRollup).values(computed_at=old))
            db.session.commit()
            redis_connection().delete(services.QUEUED_KEY)
            get_queue().empty()

    def timed(kind):
        start = time.perf_counter()
        response = client.get("/dashboard/city")
        times[kind].append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
        return response.get_data(as_text=True)

    for _ in range(2):
        timed("fresh")
    times["fresh"].clear()
    for _ in range(args.repeat):
        app.config["REDIS_URL"] = redis_url
        with app.app_context():
            services.refresh(today(), work_calendar())
            db.session.commit()
        timed("fresh")
        age()
        page = timed("stale, queued")
        assert 'data-testid="rollup-refreshing"' in page
        age()
        app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
        page = timed("stale, in request")
        assert 'data-testid="rollup-refreshing"' not in page
    app.config["REDIS_URL"] = redis_url
    with app.app_context():
        get_queue().empty()
        redis_connection().delete(services.QUEUED_KEY)
    print(f"load average {os.getloadavg()[0]:.2f} (1 min), {args.repeat} interleaved rounds")
    print("| city dashboard | median ms | p95 ms |")
    print("|---|---|---|")
    for kind, values in times.items():
        print(f"| {kind} | {statistics.median(values):.1f} | {percentile(values, 0.95):.1f} |")


if __name__ == "__main__":
    main()
