"""Supervision rounds over the synthetic city (issue 20): open a city-wide round (one
INSERT ... SELECT, and the round_opened alerts through the notifications outbox), fill ~70 %
of its reports and raise a few hundred problems (setup), close it and build its report PDF and
workbook as the worker does (documents.jobs.build_document, in-process), then time the round
page and the problems page through the WSGI app, for the city round and a park round.

    .venv/bin/python benchmarks/supervision.py \\
        --database-url postgresql://postgres@127.0.0.1:5432/bench100 --repeat 10

Every step commits (the documents are built from committed data, the pages read it), so the
script deletes what it added at the end: its rounds, reports, problems, blockers, documents,
investment plans, the reporters' logins it made, and the notifications, deliveries and audit
events written meanwhile (rows above the ids seen at the start: run it on a benchmark
database nobody else writes to).  The users of bench_pages.py (bench-leader, bench-manager)
are created when missing and kept.

With ``--reporter-logins`` (the default) every lead agent without a login gets one first, so
that opening the round writes one alert per reporter (the generated city has logins only for
its park managers).  Redis is pointed at a closed port: the documents stay queued and are
built here, not by a worker that happens to listen.  ``--profile DIR`` writes cProfile output
of the open and of each build.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import case, delete, event, func, insert, literal, select, text, update  # noqa: E402

from benchmarks.bench_pages import Recorder, ensure_users, login, make_app, percentile  # noqa: E402

TITLE = "基准调度"
BLOCKER_TEXT = "基准调度：用地指标未落实，需自然资源部门协调。"
CLOSED_PORT = "redis://127.0.0.1:1/0"


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


@contextmanager
def step(name: str, results: dict, profile_dir: str | None = None):
    """Time a step; prints the load average before and after."""
    before = loadavg()
    profiler = cProfile.Profile() if profile_dir else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    try:
        yield
    finally:
        if profiler:
            profiler.disable()
            profiler.dump_stats(str(Path(profile_dir) / f"{name.replace(' ', '_')}.prof"))
        seconds = time.perf_counter() - started
        results[name] = seconds
        print(f"{name}: {seconds:.2f} s  (load {before} -> {loadavg()})", flush=True)


def watermarks() -> dict:
    from crm.audit.models import AuditEvent
    from crm.auth.models import User
    from crm.extensions import db
    from crm.notifications.models import Delivery, Notification
    from crm.projects.models import ProgressLog
    from crm.supervision.models import InvestmentPlan, Problem

    return {model: db.session.scalar(select(func.coalesce(func.max(model.id), 0)))
            for model in (AuditEvent, User, Notification, Delivery, ProgressLog, InvestmentPlan,
                          Problem)}


def add_reporter_logins() -> int:
    """A login (and an email address) for every lead agent who has none, with bench-leader's
    password hash."""
    from crm.auth.models import User
    from crm.extensions import db

    leader = db.session.scalar(select(User).where(User.username == "bench-leader"))
    result = db.session.execute(text(
        "INSERT INTO users (username, display_name, password_hash, role, staff_id, active, "
        "session_token, created_at, email) "
        "SELECT 'bench-sup-' || s.id, left(s.name, 50), :hash, 'agent', s.id, true, "
        "md5(random()::text), now(), 'bench-sup-' || s.id || '@bench.example.cn' "
        "FROM staff s WHERE s.id IN (SELECT staff_id FROM assignments "
        "WHERE role = 'lead_agent' AND ended_at IS NULL) "
        "AND s.id NOT IN (SELECT staff_id FROM users WHERE staff_id IS NOT NULL)"),
        {"hash": leader.password_hash})
    return result.rowcount


def fill_reports(round_ids: list[int], day: dt.date, due: dt.date) -> int:
    """~70 % of the reports filled (project id mod 10 < 7); one in seven of those late."""
    from crm.extensions import db
    from crm.projects.models import Project
    from crm.supervision.models import RoundReport

    late = due + dt.timedelta(days=2)
    result = db.session.execute(
        update(RoundReport)
        .where(RoundReport.round_id.in_(round_ids), RoundReport.project_id % 10 < 7,
               RoundReport.project_id == Project.id)
        .values(status="filled", progress="本期完成主体结构施工，设备进场调试。",
                next_steps="下期完成竣工验收准备。",
                investment_completed=func.least(Project.investment / 20, 5000),
                stage_reached=RoundReport.stage_at_open,
                submitted_on=case((RoundReport.project_id % 7 == 0, late), else_=day),
                submitted_at=func.now(), version=RoundReport.version + 1)
        .execution_options(synchronize_session=False))
    return result.rowcount


def add_plans(round_id: int, year: int) -> int:
    """An annual investment plan for each of the round's projects that has none."""
    from crm.extensions import db
    from crm.projects.models import Project
    from crm.supervision.models import InvestmentPlan, RoundReport

    has = select(InvestmentPlan.project_id).where(InvestmentPlan.year == year)
    result = db.session.execute(insert(InvestmentPlan).from_select(
        ["project_id", "year", "planned"],
        select(Project.id, literal(year), Project.investment / 4)
        .join(RoundReport, RoundReport.project_id == Project.id)
        .where(RoundReport.round_id == round_id, Project.id.not_in(has))))
    return result.rowcount


def raise_problems(round_id: int, count: int, user_id: int, day: dt.date, calendar) -> int:
    """``count`` blockers (bulk) on filled reports' projects, each raised to a department by
    the service (with its alerts)."""
    from crm.extensions import db
    from crm.projects.models import ProgressLog, Project
    from crm.supervision import queries
    from crm.supervision.models import RoundReport
    from crm.supervision.services.problems import raise_problem

    projects = db.session.execute(
        select(Project.id, Project.park_id).join(RoundReport, RoundReport.project_id == Project.id)
        .where(RoundReport.round_id == round_id, RoundReport.status == "filled")
        .order_by(func.md5(func.cast(Project.id, db.String))).limit(count)).all()
    now = dt.datetime.now(dt.timezone.utc)
    db.session.execute(insert(ProgressLog), [
        dict(project_id=pid, park_id=park, author_id=user_id, kind="blocker", happened_on=day,
             text=BLOCKER_TEXT, created_at=now) for pid, park in projects])
    departments = queries.departments()
    blockers = db.session.scalars(select(ProgressLog).where(ProgressLog.text == BLOCKER_TEXT,
                                                            ProgressLog.resolved_at.is_(None)))
    raised = 0
    for n, blocker in enumerate(blockers):
        raise_problem(blocker, department=departments[n % len(departments)],
                      level=("park", "district", "city")[n % 3], actor_id=user_id,
                      round_id=round_id, today=day, calendar=calendar)
        raised += 1
    return raised


def pdf_pages(data: bytes) -> int | str:
    try:
        from pypdf import PdfReader
    except ImportError:
        return "?"
    return len(PdfReader(io.BytesIO(data)).pages)


def time_page(client, recorder: Recorder, path: str, repeat: int) -> tuple[float, float, int]:
    for _ in range(2):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
    timings, counts = [], set()
    for _ in range(repeat):
        recorder.count = 0
        started = time.perf_counter()
        response = client.get(path)
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code)
        counts.add(recorder.count)
    assert len(counts) == 1, (path, counts)
    return statistics.median(timings), percentile(timings, 0.95), counts.pop()


def cleanup(marks: dict, round_ids: list[int]) -> None:
    from crm.audit.models import AuditEvent
    from crm.auth.models import User
    from crm.documents.models import GeneratedDocument
    from crm.extensions import db
    from crm.notifications.models import Delivery, Notification
    from crm.projects.models import ProgressLog
    from crm.supervision.models import InvestmentPlan, Problem, Round, RoundReport

    db.session.rollback()
    db.session.execute(delete(Problem).where(Problem.id > marks[Problem]))
    db.session.execute(delete(ProgressLog).where(ProgressLog.id > marks[ProgressLog],
                                                 ProgressLog.text == BLOCKER_TEXT))
    if round_ids:
        db.session.execute(delete(GeneratedDocument).where(GeneratedDocument.round_id.in_(round_ids)))
        db.session.execute(delete(RoundReport).where(RoundReport.round_id.in_(round_ids)))
        db.session.execute(delete(Round).where(Round.id.in_(round_ids)))
    for model in (InvestmentPlan, Delivery, Notification, AuditEvent):
        db.session.execute(delete(model).where(model.id > marks[model]))
    db.session.commit()
    # The reporters' logins: nothing refers to them any more (their notifications, deliveries
    # and audit events are gone), so the foreign-key triggers are skipped for this one
    # statement; with them each user costs a scan of every table referring to users (several
    # minutes for 14,000 logins at 100x).
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
    db.session.execute(delete(User).where(User.id > marks[User],
                                          User.username.like("bench-sup-%")))
    db.session.commit()


def run(args) -> None:
    from crm.auth.models import User
    from crm.documents.jobs import build_document
    from crm.documents.models import GeneratedDocument
    from crm.extensions import db
    from crm.i18n import today
    from crm.milestones.queries import work_calendar
    from crm.notifications.models import Delivery, Notification
    from crm.projects.models import Project
    from crm.supervision.jobs import prepare_round
    from crm.supervision.models import InvestmentPlan, Round
    from crm.supervision.services import rounds

    app = make_app(args.database_url)
    app.config.update(REDIS_URL=CLOSED_PORT, MAIL_HOST="mail.invalid")
    results: dict[str, float] = {}
    round_ids: list[int] = []
    recorder = Recorder()
    print(f"load at start: {loadavg()}")
    with app.app_context():
        ids = ensure_users()
        marks = watermarks()
        try:
            day = dt.date.fromisoformat(args.date) if args.date else today()
            calendar = work_calendar()
            leader = db.session.scalar(select(User).where(User.username == "bench-leader"))
            manager = db.session.scalar(select(User).where(User.username == "bench-manager"))
            if args.reporter_logins:
                added = add_reporter_logins()
                db.session.commit()
                print(f"reporter logins added: {added}")
            period = dict(cadence="monthly", period_start=day.replace(day=1), period_end=day,
                          due_on=calendar.add_workdays(day, 5), today=day, calendar=calendar)
            counts = {m: db.session.scalar(select(func.count()).select_from(m))
                      for m in (Notification, Delivery)}
            with step("open city round (request)", results, args.profile):
                city = rounds.open_round(user=leader, title=f"{TITLE}（全市）", park_id=None,
                                         **period)
                db.session.commit()
            round_ids.append(city.id)
            city_id = city.id
            if not city.reports_ready:  # above ROUND_OPEN_INLINE_MAX: what the worker runs
                with step("write city round reports (worker job)", results, args.profile):
                    prepare_round(city_id)
                city = db.session.get(Round, city_id)
            alerts = {m.__tablename__: db.session.scalar(select(func.count()).select_from(m))
                      - counts[m] for m in (Notification, Delivery)}
            print(f"  city round {city.id}: {city.project_count} reports, alerts {alerts}")
            with step("open park round", results):
                park = rounds.open_round(user=manager, title=f"{TITLE}（园区）",
                                         park_id=ids["park_id"], **period)
                db.session.commit()
            round_ids.append(park.id)
            park_id = park.id
            print(f"  park round {park.id}: {park.project_count} reports")

            started = time.perf_counter()
            filled = fill_reports(round_ids, day, city.due_on)
            add_plans(city.id, day.year)
            db.session.commit()
            plans = db.session.scalar(select(func.count(InvestmentPlan.id))
                                      .where(InvestmentPlan.year == day.year))
            print(f"setup: {filled} reports filled, {plans} investment plans for {day.year} "
                  f"({time.perf_counter() - started:.1f} s)")
            with step(f"raise {args.problems} problems", results):
                raised = raise_problems(city.id, args.problems, leader.id, day, calendar)
                db.session.commit()
            print(f"  {raised} problems raised")

            docs = {}
            for round_ in (city, park):
                with step(f"close {'city' if round_ is city else 'park'} round", results):
                    rounds.close_round(db.session.get(Round, round_.id), user=leader)
                    db.session.commit()
                docs[round_.id] = db.session.execute(
                    select(GeneratedDocument.id, GeneratedDocument.kind)
                    .where(GeneratedDocument.round_id == round_.id)
                    .order_by(GeneratedDocument.id)).all()
            for round_ in (city, park):
                scope = "city" if round_ is city else "park"
                for doc_id, kind in docs[round_.id]:
                    name = f"build {kind} {scope}"
                    with step(name, results, args.profile if scope == "city" else None):
                        outcome = build_document(doc_id)
                    content = db.session.scalar(
                        select(GeneratedDocument.content).where(GeneratedDocument.id == doc_id))
                    pages = pdf_pages(content) if kind == "round_report" else "-"
                    print(f"  {kind}: {outcome.get('stored')}, {len(content or b''):,} bytes, "
                          f"pages {pages}")
            db.session.commit()
            event.listen(db.engine, "before_cursor_execute", recorder)
        except BaseException:
            cleanup(marks, round_ids)
            raise
    try:
        clients = {"leader": login(app, "bench-leader"), "manager": login(app, "bench-manager")}
        pages = [
            ("round page, city round", "leader", f"/rounds/{city_id}"),
            ("round page, park round", "leader", f"/rounds/{park_id}"),
            ("round page, city round", "manager", f"/rounds/{city_id}"),
            ("round page, park round", "manager", f"/rounds/{park_id}"),
            ("round page, city round, missing only", "leader", f"/rounds/{city_id}?state=missing"),
            ("round list", "leader", "/rounds"),
            ("problems page", "leader", "/problems"),
            ("problems page", "manager", "/problems"),
        ]
        print(f"\npages: median of {args.repeat} after 2 warm-up requests "
              f"(load {loadavg()})")
        print("| page | user | median ms | p95 ms | statements |")
        print("|---|---|---:|---:|---:|")
        for name, user, path in pages:
            median, p95, statements = time_page(clients[user], recorder, path, args.repeat)
            print(f"| {name} | {user} | {median * 1000:.1f} | {p95 * 1000:.1f} | {statements} |",
                  flush=True)
        print(f"load after pages: {loadavg()}")
    finally:
        with app.app_context():
            event.remove(db.engine, "before_cursor_execute", recorder)
            if args.keep:
                print(f"kept rounds {round_ids}")
            else:
                cleanup(marks, round_ids)
                print("cleaned up")
            projects = db.session.scalar(select(func.count(Project.id)))
            db.engine.dispose()
    print(f"projects in the database: {projects:,}; load at end: {loadavg()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--problems", type=int, default=300)
    parser.add_argument("--date", help="the day the round opens (default: today)")
    parser.add_argument("--reporter-logins", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--profile", help="a folder for cProfile output of the slow steps")
    parser.add_argument("--keep", action="store_true", help="leave the rounds in the database")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
