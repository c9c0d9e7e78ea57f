"""PDF benchmarks (issue 6): build times, request-to-done latency, throughput, worker memory.

    .venv/bin/python benchmarks/pdf_bench.py [--database-url URL] [--redis-url URL] [--docs N]

Builds a fresh database with the demo city (a temporary SQLite file unless --database-url is
given; a PostgreSQL database given here is WIPED), empties the Redis database, and measures:

1. in process: one service order and one city summary (gathering the data, building the PDF);
2. the import-before-fork effect: a one-document build in a fresh interpreter that imports
   ReportLab and loads the font itself, in a child forked before the font was loaded, and in a
   child forked from a warmed parent (what `flask crm worker` does);
3. end to end with real worker processes (`flask --app crm crm worker`): latency from request
   to "done" with an idle worker; then, in interleaved rounds (the machine may be shared),
   in-process build throughput, the job's work in process, and documents per second through
   one worker, with the CPU each took (the workers' own and their reaped work horses'); then
   two workers; and the workers' memory (RSS and PSS of the parent and of its work horses).

Prints a Markdown report for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FLASK = str(Path(sys.executable).parent / "flask")


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


# -- setup ---------------------------------------------------------------------------------------

def make_app(database_url: str, redis_url: str):
    from sqlalchemy import text

    from crm import create_app
    from crm.extensions import db

    app = create_app({"DATABASE_URL": database_url, "REDIS_URL": redis_url,
                      "SECRET_KEY": "bench", "JOBS_INLINE": False})
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        from flask_migrate import upgrade

        from crm.demo.loader import load_demo
        from crm.i18n import today

        upgrade()
        load_demo(today())
        db.session.commit()
    return app


def project_ids(app) -> list[int]:
    from sqlalchemy import func, select

    from crm.extensions import db
    from crm.milestones.models import Milestone

    with app.app_context():
        return list(db.session.scalars(
            select(Milestone.project_id).group_by(Milestone.project_id)
            .order_by(func.count().desc(), Milestone.project_id)))


def queue_orders(app, projects: list[int], send: bool = True) -> list[int]:
    """Queued service orders (a new version each) for the projects, handed to Redis."""
    from sqlalchemy import func, select

    from crm.db import utcnow
    from crm.documents import services
    from crm.documents.models import GeneratedDocument as Doc
    from crm.extensions import db

    with app.app_context():
        versions = dict(db.session.execute(
            select(Doc.project_id, func.max(Doc.doc_version)).group_by(Doc.project_id)).all())
        docs = []
        for pid in projects:
            doc = Doc(kind="service_order", project_id=pid, order_number=f"FW-2026-{pid:06d}",
                      doc_version=(versions.get(pid) or 0) + 1, status="queued",
                      job_id=services.new_job_id(), enqueued_at=utcnow())
            versions[pid] = doc.doc_version
            db.session.add(doc)
            docs.append(doc)
        db.session.commit()
        pairs = [(d.id, d.job_id) for d in docs]
        if send:
            services.send_to_queue(pairs)
            db.session.commit()
        return [doc_id for doc_id, _ in pairs]


class Poller:
    """Reads document statuses on its own autocommit connection (never holds a lock)."""

    def __init__(self, url: str):
        from sqlalchemy import create_engine

        self.engine = create_engine(url, isolation_level="AUTOCOMMIT")

    def done_count(self, ids: list[int]) -> int:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            return conn.execute(text(
                "SELECT count(*) FROM generated_documents WHERE status = 'done' AND id IN "
                f"({','.join(str(i) for i in ids)})")).scalar()

    def wait_done(self, ids: list[int], timeout: float = 600, interval: float = 0.005) -> float:
        """When the last of them is done (polling costs CPU the workers share: not too often)."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.done_count(ids) == len(ids):
                return time.perf_counter()
            time.sleep(interval)
        raise RuntimeError(f"documents not done in {timeout} s: {ids[:5]}...")


# -- 1. in process -------------------------------------------------------------------------------

def in_process(app, projects: list[int]) -> dict:
    """Single documents, in this process, warmed up."""
    import io

    from pypdf import PdfReader

    import reports
    from crm.documents import queries as gather
    from crm.i18n import today
    from crm.milestones.queries import work_calendar

    reports.warm_up()
    results = {}
    with app.app_context():
        day, calendar = today(), work_calendar()
        biggest = projects[0]
        order = gather.service_order(biggest, number="FW-2026-000001", version=1, today=day,
                                     calendar=calendar)
        results["plan_items"] = len(order.plan)
        reports.build_service_order(order)
        results["order_gather"] = timed(lambda: gather.service_order(
            biggest, number="FW-2026-000001", version=1, today=day, calendar=calendar), 20)
        results["order_build"] = timed(lambda: reports.build_service_order(order), 20)
        results["order_bytes"] = len(reports.build_service_order(order))
        start, end = dt.date(day.year, 1, 1), day
        summary = gather.summary(None, start, end, today=day, calendar=calendar)
        results["summary_gather"] = timed(lambda: gather.summary(
            None, start, end, today=day, calendar=calendar), 5)
        results["summary_build"] = timed(lambda: reports.build_summary(summary), 5)
        pdf = reports.build_summary(summary)
        results["summary_bytes"] = len(pdf)
        results["summary_pages"] = len(PdfReader(io.BytesIO(pdf)).pages)
    return results


def build_round(app, projects: list[int]) -> tuple[float, float]:
    """Build the service orders of the projects back to back in this process (data gathered
    beforehand): (documents per second, CPU seconds per document)."""
    import reports
    from crm.documents import queries as gather
    from crm.i18n import today
    from crm.milestones.queries import work_calendar

    with app.app_context():
        day, calendar = today(), work_calendar()
        orders = [gather.service_order(p, number="FW-2026-000001", version=1, today=day,
                                       calendar=calendar) for p in projects]
    wall, cpu = time.perf_counter(), time.process_time()
    for order in orders:
        reports.build_service_order(order)
    return (len(orders) / (time.perf_counter() - wall),
            (time.process_time() - cpu) / len(orders))


def job_round(app, projects: list[int]) -> tuple[float, float]:
    """The job's whole work (claim, gather, build, store, commits) in this process."""
    from crm.documents.jobs import build_document

    ids = queue_orders(app, projects, send=False)
    with app.app_context():
        wall, cpu = time.perf_counter(), time.process_time()
        for doc_id in ids:
            build_document(doc_id)
        return (len(ids) / (time.perf_counter() - wall),
                (time.process_time() - cpu) / len(ids))


# -- 2. import before fork -----------------------------------------------------------------------

_SAMPLE = """
import datetime as dt
from reports import Person, PlanItem, ServiceOrder
ORDER = ServiceOrder(
    order_number="FW-2026-000001", version=1, issued_on=dt.date(2026, 5, 12),
    park_name="南通经济技术开发区", project_name="南通新能源电池项目", project_code=None,
    investor_name="江苏远景动力电池有限公司", investment_wan=356000, stage_label="用地",
    contact_name="周经理", contact_phone="13912345678", project_url="https://example.cn/p/1",
    staff=(Person("首席审批服务咨询师", "张顾问", "13900000001"),),
    plan=tuple(PlanItem("项目备案", "行政审批局", 1, "working", dt.date(2026, 3, 2),
                        dt.date(2026, 3, 3), False, "done", "met", "按时办结") for _ in range(3)))
"""


def fork_effect() -> dict:
    """Time one build in a fresh process vs. in children forked from cold and warm parents."""
    cold_script = (
        "import time\nt = time.perf_counter()\n" + _SAMPLE +
        "from reports import build_service_order\nbuild_service_order(ORDER)\n"
        "print(time.perf_counter() - t)\n")
    cold = []
    for _ in range(5):
        out = subprocess.run([sys.executable, "-c", cold_script], cwd=ROOT, capture_output=True,
                             text=True, check=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
        cold.append(float(out.stdout.strip()))

    def forked(warm: bool) -> list[float]:
        script = (_SAMPLE + "import os, time\nimport reports\n"
                  + ("reports.warm_up()\n" if warm else "")
                  + "for _ in range(5):\n"
                  "    r, w = os.pipe()\n"
                  "    pid = os.fork()\n"
                  "    if pid == 0:\n"
                  "        t = time.perf_counter()\n"
                  "        reports.build_service_order(ORDER)\n"
                  "        os.write(w, str(time.perf_counter() - t).encode()); os._exit(0)\n"
                  "    os.waitpid(pid, 0); os.close(w); print(os.read(r, 64).decode())\n")
        out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                             text=True, check=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
        return [float(x) for x in out.stdout.split()]

    return {"cold_process": cold, "fork_imported_only": forked(False),
            "fork_warmed": forked(True)}


# -- 3. real workers -----------------------------------------------------------------------------

class Workers:
    def __init__(self, database_url: str, redis_url: str):
        self.env = dict(os.environ, CRM_DATABASE_URL=database_url, CRM_REDIS_URL=redis_url,
                        CRM_SECRET_KEY="bench", PYTHONPATH=str(ROOT))
        self.processes: list[subprocess.Popen] = []
        self.log = tempfile.NamedTemporaryFile("w", prefix="pdf-bench-worker-", suffix=".log",
                                               delete=False)

    def start(self, redis_url: str, fork: bool = True) -> None:
        from redis import Redis
        from rq import Worker

        command = [FLASK, "--app", "crm", "crm", "worker"] + ([] if fork else ["--no-fork"])
        self.processes.append(subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True))
        connection = Redis.from_url(redis_url)
        deadline = time.monotonic() + 60
        while Worker.count(connection=connection) < len(self.processes):
            if time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start; see {self.log.name}")
            time.sleep(0.1)
        time.sleep(1)  # let it settle into waiting for jobs

    def stop(self) -> None:
        import signal

        for process in self.processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            process.wait(30)
        self.log.close()
        if all(p.returncode in (0, -signal.SIGTERM) for p in self.processes):
            os.unlink(self.log.name)  # kept when a worker failed

    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]


def memory_of(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of a process in KiB; PSS shares copy-on-write pages between forks fairly."""
    rss = pss = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return rss, pss


def children_of(pid: int) -> list[int]:
    kids = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids += [int(c) for c in (task / "children").read_text().split()]
        except FileNotFoundError:
            pass
    return kids


class MemorySampler(threading.Thread):
    def __init__(self, parents: list[int]):
        super().__init__(daemon=True)
        self.parents = parents
        self.stop_event = threading.Event()
        self.parent_peak = (0, 0)
        self.horse_peak = (0, 0)

    def run(self):
        while not self.stop_event.is_set():
            for pid in self.parents:
                self.parent_peak = max(self.parent_peak, memory_of(pid))
                for child in children_of(pid):
                    self.horse_peak = max(self.horse_peak, memory_of(child))
            time.sleep(0.02)


def cpu_seconds(pids: list[int]) -> float:
    """CPU time of the workers and of their reaped children (the work horses)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


def e2e_round(app, poller: Poller, workers: Workers, projects: list[int]) -> tuple[float, float]:
    """Request the projects' service orders at once and wait until the workers are done:
    (documents per second, worker CPU seconds per document)."""
    cpu = cpu_seconds(workers.pids())
    start = time.perf_counter()
    ids = queue_orders(app, projects)
    end = poller.wait_done(ids, interval=0.1)
    return len(ids) / (end - start), (cpu_seconds(workers.pids()) - cpu) / len(ids)


def compare(app, database_url: str, redis_url: str, projects: list[int], rounds: int) -> dict:
    """Interleaved rounds (the machine is shared: alternate what is compared), then two
    workers; the idle-worker latency first."""
    poller = Poller(database_url)
    workers = Workers(database_url, redis_url)
    results = {"build": [], "job": [], "one": [], "two": [], "load": []}
    try:
        workers.start(redis_url)
        results["idle_parent_memory"] = memory_of(workers.pids()[0])
        latencies = []
        for pid in projects[:15]:
            start = time.perf_counter()
            ids = queue_orders(app, [pid])
            latencies.append(poller.wait_done(ids) - start)
        results["latency"] = latencies
        sampler = MemorySampler(workers.pids())
        sampler.start()
        for _ in range(rounds):
            results["load"].append(os.getloadavg()[0])
            results["build"].append(build_round(app, projects))
            results["job"].append(job_round(app, projects))
            results["one"].append(e2e_round(app, poller, workers, projects))
        sampler.stop_event.set()
        sampler.join()
        results["memory_1"] = (sampler.parent_peak, sampler.horse_peak)
        workers.start(redis_url)
        for _ in range(rounds):
            results["two"].append(e2e_round(app, poller, workers, projects))
    finally:
        workers.stop()
    no_fork = Workers(database_url, redis_url)
    try:
        no_fork.start(redis_url, fork=False)
        results["no_fork"] = [e2e_round(app, poller, no_fork, projects) for _ in range(rounds)]
    finally:
        no_fork.stop()
    return results


# -- report --------------------------------------------------------------------------------------

def machine(database_url: str) -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor())
    mem = next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
               if line.startswith("MemTotal"))
    import reportlab
    import rq

    db = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite (WAL)"
    return (f"{cpu}, {os.cpu_count()} cores (shared with other work), {int(mem) // 1024} MiB RAM; "
            f"Python {platform.python_version()}, ReportLab {reportlab.Version}, RQ "
            f"{rq.__version__}, {db}")


def med(pairs: list[tuple[float, float]], index: int) -> float:
    return statistics.median(p[index] for p in pairs)


def report(database_url: str, inproc: dict, fork: dict, cmp: dict, docs: int) -> str:
    lat = sorted(cmp["latency"])
    build_rate, build_cpu = med(cmp["build"], 0), med(cmp["build"], 1)
    job_rate, job_cpu = med(cmp["job"], 0), med(cmp["job"], 1)
    one_rate, one_cpu = med(cmp["one"], 0), med(cmp["one"], 1)
    two_rate = med(cmp["two"], 0)
    idle = cmp["idle_parent_memory"]
    parent, horse = cmp["memory_1"]
    rounds = len(cmp["one"])
    load = ", ".join(f"{x:.1f}" for x in cmp["load"])
    lines = [
        f"Machine: {machine(database_url)}. Demo city; the service order of the project with "
        f"the most milestones ({inproc['plan_items']} items, 2 pages, "
        f"{inproc['order_bytes'] // 1024} KB); the city summary of this year "
        f"({inproc['summary_pages']} pages, {inproc['summary_bytes'] // 1024} KB). "
        f"Throughput: {docs} service orders (different projects) per round, {rounds} "
        f"interleaved rounds, medians; 1-minute load average at the rounds: {load}.",
        "",
        "| measure | result |",
        "| --- | --- |",
        f"| service order: gather data (3 queries + calendar) | {median_ms(inproc['order_gather']):.1f} ms |",
        f"| service order: build the PDF | {median_ms(inproc['order_build']):.0f} ms |",
        f"| city summary: gather data | {median_ms(inproc['summary_gather']):.1f} ms |",
        f"| city summary: build the PDF (charts, tables) | {median_ms(inproc['summary_build']):.0f} ms |",
        f"| one build in a fresh interpreter (import ReportLab, load font, build) | "
        f"{median_ms(fork['cold_process']):.0f} ms |",
        f"| one build in a child forked after importing ReportLab, font not loaded | "
        f"{median_ms(fork['fork_imported_only']):.0f} ms |",
        f"| one build in a child forked from a warmed parent (our worker) | "
        f"{median_ms(fork['fork_warmed']):.0f} ms |",
        f"| request to done, idle worker (15 requests) | median {median_ms(lat):.0f} ms, "
        f"max {lat[-1] * 1000:.0f} ms |",
        f"| in-process build throughput (builder only) | {build_rate:.1f} documents/s, "
        f"{build_cpu * 1000:.0f} ms CPU each |",
        f"| in-process job throughput (claim, gather, build, store) | {job_rate:.1f} "
        f"documents/s, {job_cpu * 1000:.0f} ms CPU each |",
        f"| end to end, one worker | {one_rate:.1f} documents/s, {one_cpu * 1000:.0f} ms "
        f"worker CPU each (parent + work horse) |",
        f"| end to end, two workers | {two_rate:.1f} documents/s |",
        f"| for comparison: one RQ SimpleWorker (no fork per job, no isolation) | "
        f"{med(cmp['no_fork'], 0):.1f} documents/s, {med(cmp['no_fork'], 1) * 1000:.0f} ms CPU "
        f"each ({100 * build_cpu / med(cmp['no_fork'], 1):.0f} % of the builder's) |",
        f"| one worker / in-process build, throughput (wall clock) | "
        f"{100 * one_rate / build_rate:.0f} % |",
        f"| one worker / in-process build, CPU per document | {100 * build_cpu / one_cpu:.0f} % |",
        f"| one worker / the same job in process, CPU per document | "
        f"{100 * job_cpu / one_cpu:.0f} % |",
        f"| worker memory, idle parent after warm-up (RSS / PSS) | "
        f"{idle[0] // 1024} / {idle[1] // 1024} MiB |",
        f"| worker memory under load, peak (RSS / PSS) | parent {parent[0] // 1024} / "
        f"{parent[1] // 1024} MiB, work horse {horse[0] // 1024} / {horse[1] // 1024} MiB |",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (WIPED); default: temp SQLite")
    parser.add_argument("--redis-url", default=os.environ.get("CRM_BENCH_REDIS_URL",
                                                              "redis://127.0.0.1:6379/6"),
                        help="Redis database to use (EMPTIED)")
    parser.add_argument("--docs", type=int, default=30, help="documents per throughput round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="pdf-bench-")
    database_url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"

    from redis import Redis

    Redis.from_url(args.redis_url).flushdb()
    print(f"setting up {database_url} ...", file=sys.stderr)
    app = make_app(database_url, args.redis_url)
    projects = project_ids(app)
    docs = min(args.docs, len(projects))
    print("in process ...", file=sys.stderr)
    inproc = in_process(app, projects)
    print("fork effect ...", file=sys.stderr)
    fork = fork_effect()
    print("end to end ...", file=sys.stderr)
    cmp = compare(app, app.config["SQLALCHEMY_DATABASE_URI"], args.redis_url, projects[:docs],
                  args.rounds)
    Redis.from_url(args.redis_url).flushdb()
    shutil.rmtree(tmp, ignore_errors=True)
    print(report(database_url, inproc, fork, cmp, docs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
