"""Page benchmarks (issue 8): server time and SQL query count of the main pages, measured
through the WSGI app (Flask's test client) against an existing database.

    .venv/bin/python benchmarks/bench_pages.py --database-url sqlite:////work/bench/city100.sqlite \\
        --repeat 20 --label "SQLite 100x"

For each page: 2 warm-up requests, then ``--repeat`` timed ones (median and p95), the number of
SQL statements one request runs, and for GET pages the "raw SQL" time: the statements the page
ran (captured with their parameters during one request) executed again on a bare DBAPI
connection, median of ``--repeat`` runs; the ratio page / raw SQL says how much of the page is
Python (ORM, templates) rather than the database.  Prints one Markdown table row per page;
a page that answers 404 (not built yet) prints "missing".

The script adds what it needs when missing: users ``bench-manager`` (park manager of the park
with most projects), ``bench-leader`` and ``bench-agent`` (linked to the lead agent of an
active project with about 10 milestones and 20 logs).  The log entries the POST benchmark adds
are deleted at the end.
"""

from __future__ import annotations

import argparse
import math
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete, event, func, select  # noqa: E402

PASSWORD = "bench-pages-2026"
BENCH_TEXT = "基准测试：走访企业，了解项目进展。"
SKIPPED = re.compile(r"\s*(SAVEPOINT|RELEASE|ROLLBACK|BEGIN|COMMIT|PRAGMA)", re.I)


class Recorder:
    """Counts the statements the app runs; while ``capture`` is on, keeps them with their
    DBAPI parameters."""

    def __init__(self):
        self.count = 0
        self.capture = False
        self.statements: list[tuple[str, object]] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if SKIPPED.match(statement):
            return
        self.count += 1
        if self.capture and not executemany:
            self.statements.append((statement, parameters))


def make_app(url: str):
    from crm import create_app

    folder = tempfile.mkdtemp(prefix="daiban-bench-pages-")
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "RATELIMIT_STORAGE_URI": "memory://",
                      "JOBS_INLINE": False})
    app.instance_path = folder
    return app


def _project_for_agent(park_id: int):
    """(project id, staff id): an active project of the park with about 10 milestones and 20
    logs whose lead agent has no login yet."""
    from crm.agents.models import Assignment
    from crm.auth.models import User
    from crm.extensions import db
    from crm.milestones.models import Milestone
    from crm.projects.models import ProgressLog, Project

    candidates = db.session.execute(
        select(Assignment.project_id, Assignment.staff_id).join(Project)
        .where(Project.park_id == park_id, Project.status == "active", Assignment.role == "lead_agent",
               Assignment.ended_at.is_(None),
               Assignment.staff_id.not_in(select(User.staff_id).where(User.staff_id.is_not(None))))
        .order_by(Assignment.project_id).limit(300)).all()
    best, best_score = None, None
    for project_id, staff_id in candidates:
        milestones = db.session.scalar(select(func.count()).where(Milestone.project_id == project_id))
        logs = db.session.scalar(select(func.count()).where(ProgressLog.project_id == project_id))
        score = abs(milestones - 10) * 3 + abs(logs - 20)
        if best_score is None or score < best_score:
            best, best_score = (project_id, staff_id), score
        if score == 0:
            break
    if best is None:
        raise SystemExit(f"no active project with a lead agent in park {park_id}")
    return best


def ensure_users() -> dict:
    """The bench users (created when missing) and the ids the pages need."""
    from crm.agents.models import Assignment, Staff
    from crm.auth.models import User
    from crm.auth.services import create_user, find_by_username
    from crm.extensions import db
    from crm.parks.models import Park
    from crm.projects.models import Project

    park_id = db.session.scalar(select(Project.park_id).group_by(Project.park_id)
                                .order_by(func.count().desc(), Project.park_id).limit(1))
    if find_by_username("bench-manager") is None:
        create_user("bench-manager", "基准园区主任", "park_manager", PASSWORD,
                    parks=[db.session.get(Park, park_id)])
    if find_by_username("bench-leader") is None:
        create_user("bench-leader", "基准局长", "leader", PASSWORD)
    agent = find_by_username("bench-agent")
    if agent is None:
        project_id, staff_id = _project_for_agent(park_id)
        staff = db.session.get(Staff, staff_id)
        create_user("bench-agent", staff.name, "agent", PASSWORD, staff=staff)
    else:
        project_id = db.session.scalar(
            select(Assignment.project_id).join(Project)
            .where(Assignment.staff_id == agent.staff_id, Assignment.role == "lead_agent",
                   Assignment.ended_at.is_(None), Project.status == "active")
            .order_by(Assignment.project_id).limit(1))
    db.session.commit()
    manager_park = db.session.scalar(select(User).where(User.username == "bench-manager")).parks[0].id
    return {"park_id": manager_park, "project_id": project_id}


def login(app, username: str):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    if response.status_code != 302:
        raise SystemExit(f"login of {username} failed: {response.status_code}")
    return client


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def raw_sql_median(app, statements, repeat: int) -> float:
    """Median seconds to run the captured statements again on a bare DBAPI connection."""
    from crm.extensions import db

    with app.app_context():
        connection = db.engine.raw_connection()
    try:
        timings = []
        for _ in range(repeat + 1):  # the first run warms up
            started = time.perf_counter()
            cursor = connection.cursor()
            for statement, parameters in statements:
                cursor.execute(statement, parameters)
                if cursor.description is not None:
                    cursor.fetchall()
            cursor.close()
            timings.append(time.perf_counter() - started)
        connection.rollback()
        return statistics.median(timings[1:])
    finally:
        connection.close()


def measure(app, recorder: Recorder, client, method: str, path: str, repeat: int, data=None):
    """(median s, p95 s, queries, statements of one request) or None when the page is missing."""
    send = client.post if method == "POST" else client.get
    # A saved log redirects to the project page; 200 would be the form back with errors.
    success = 302 if method == "POST" else 200
    for _ in range(2):
        response = send(path, data=data() if data else None)
        if response.status_code == 404:
            return None
        if response.status_code != success:
            raise SystemExit(f"{method} {path}: {response.status_code}")
    timings = []
    for _ in range(repeat):
        recorder.count = 0
        started = time.perf_counter()
        response = send(path, data=data() if data else None)
        timings.append(time.perf_counter() - started)
        assert response.status_code == success, (path, response.status_code)
    queries = recorder.count
    recorder.statements = []
    if method == "GET":  # one more request, its statements kept for the raw SQL timing
        recorder.capture = True
        send(path)
        recorder.capture = False
    return statistics.median(timings), percentile(timings, 0.95), queries, recorder.statements


def run(url: str, repeat: int, label: str) -> None:
    from crm.audit.models import AuditEvent
    from crm.extensions import db
    from crm.i18n import today
    from crm.projects.models import ProgressLog

    app = make_app(url)
    recorder = Recorder()
    with app.app_context():
        ids = ensure_users()
        event.listen(db.engine, "before_cursor_execute", recorder)
        day = today().isoformat()
    clients = {name: login(app, f"bench-{name}") for name in ("manager", "leader", "agent")}
    log_form = lambda: {"kind": "visit", "happened_on": day, "hours": "1.5", "text": BENCH_TEXT}  # noqa: E731
    pages = (
        ("park dashboard", "manager", "GET", f"/dashboard/parks/{ids['park_id']}", None),
        ("city dashboard", "leader", "GET", "/dashboard/city", None),
        ("agent home", "agent", "GET", "/", None),
        ("project list (leader)", "leader", "GET", "/projects/", None),
        ("project list (agent)", "agent", "GET", "/projects/", None),
        ("project page", "agent", "GET", f"/projects/{ids['project_id']}", None),
        ("log POST", "agent", "POST", f"/projects/{ids['project_id']}/logs", log_form),
    )
    print("| label | page | median ms | p95 ms | queries | raw SQL ms | ratio |")
    print("|---|---|---:|---:|---:|---:|---:|")
    try:
        for name, user, method, path, data in pages:
            result = measure(app, recorder, clients[user], method, path, repeat, data)
            if result is None:
                print(f"| {label} | {name} | missing | | | | |", flush=True)
                continue
            median, p95, queries, statements = result
            raw = ratio = ""
            if statements:
                seconds = raw_sql_median(app, statements, repeat)
                raw, ratio = f"{seconds * 1000:.1f}", f"{median / seconds:.1f}" if seconds else ""
            print(f"| {label} | {name} | {median * 1000:.1f} | {p95 * 1000:.1f} | {queries} | {raw} "
                  f"| {ratio} |", flush=True)
    finally:
        with app.app_context():
            event.remove(db.engine, "before_cursor_execute", recorder)
            added = select(ProgressLog.id).where(ProgressLog.text == BENCH_TEXT)
            db.session.execute(delete(AuditEvent).where(AuditEvent.entity_type == "progress_logs",
                                                        AuditEvent.entity_id.in_(added)))
            db.session.execute(delete(ProgressLog).where(ProgressLog.text == BENCH_TEXT))
            db.session.commit()
            db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    run(args.database_url, args.repeat, args.label or args.database_url.split("/")[-1])


if __name__ == "__main__":
    main()
