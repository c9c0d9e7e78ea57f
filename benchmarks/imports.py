"""Import benchmark (issue 15): a city's ledger of N projects and 8 approval-progress rows per
project, checked (dry run) and imported by the real job code, on a fresh database with the
demo city loaded.

    .venv/bin/python benchmarks/imports.py --projects 10000
    .venv/bin/python benchmarks/imports.py --projects 10000 \\
        --database-url postgresql://postgres@127.0.0.1:5432/bench_import

Prints the time of building the workbook, of the dry run and of the commit (wall clock, and
the CPU time of this process: on a busy machine the wall clock also counts the waiting), the
rows per second, the peak memory of the process (ru_maxrss) and the load average.  The
PostgreSQL database is dropped and created again.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ITEMS = ["项目备案", "节能审查", "用地预审与选址意见书", "不动产权证（土地首次登记）", "建设用地规划许可证",
         "环评审批（报告表）", "建设工程规划许可证", "施工图审查"]
HEADERS = ["所属园区", "项目名称", "投资主体", "总投资（万元）", "产业类别", "项目阶段", "审批方式",
           "环评类别", "签约日期"]


def workbook(parks: list[str], projects: int) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("项目")
    sheet.append(HEADERS)
    for i in range(projects):
        sheet.append([parks[i % len(parks)], f"导入基准项目{i:06d}", f"南通基准投资有限公司{i % 997}",
                      20000 + i, "新材料", "签约", "备案", "环境影响报告表", "2024-03-01"])
    steps = book.create_sheet("审批进度")
    steps.append(["项目名称", "审批事项", "受理日期", "办结日期", "批准文号"])
    start = dt.date(2024, 3, 4)
    for i in range(projects):
        for n, item in enumerate(ITEMS):
            accepted = start + dt.timedelta(days=14 * n)
            done = accepted + dt.timedelta(days=6) if n < 6 else None
            steps.append([f"导入基准项目{i:06d}", item, accepted.isoformat(),
                          done.isoformat() if done else None, f"通基准〔2024〕{i}-{n}号" if done else None])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--database-url")
    parser.add_argument("--profile", help="a folder for cProfile output of each step")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="import-bench-"))
    url = args.database_url or f"sqlite:///{work}/bench.sqlite3"
    if url.startswith("postgresql"):
        import sqlalchemy

        base, _, name = url.rpartition("/")
        engine = sqlalchemy.create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        engine.dispose()
    os.environ["CRM_DATABASE_URL"] = url
    os.environ["CRM_JOBS_INLINE"] = "true"
    from flask_migrate import upgrade

    from crm.app import create_app
    from crm.auth.models import User
    from crm.demo.loader import load_demo
    from crm.extensions import db
    from crm.i18n import today
    from crm.imports import jobs
    from crm.imports.services import batches
    from crm.parks.models import Park
    from sqlalchemy import select

    app = create_app()
    with app.app_context():
        upgrade()
        load_demo(today())
        db.session.commit()
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        parks = [p.name for p in db.session.scalars(select(Park).order_by(Park.id))]
        t0 = time.perf_counter()
        data = workbook(parks, args.projects)
        built = time.perf_counter() - t0
        t0 = time.perf_counter()
        batch = batches.create_batch(kind="projects", mode="upsert", park=None, filename="city.xlsx",
                                     data=data, actor_id=admin.id)
        batches.request_check(batch)
        db.session.commit()
        uploaded = time.perf_counter() - t0
        batch_id = batch.id
        db.session.remove()
        results = {}
        for step in ("check", "commit"):
            t0, cpu0, load0 = time.perf_counter(), time.process_time(), os.getloadavg()[0]
            if args.profile:
                import cProfile

                Path(args.profile).mkdir(parents=True, exist_ok=True)
                cProfile.runctx(f"jobs.{step}_batch(batch_id)", globals(),
                                {"jobs": jobs, "batch_id": batch_id},
                                str(Path(args.profile) / f"{step}.prof"))
            else:
                getattr(jobs, f"{step}_batch")(batch_id)
            results[step] = time.perf_counter() - t0
            cpu = time.process_time() - cpu0
            db.session.remove()
            batch = db.session.get(jobs.ImportBatch, batch_id)
            print(f"{step}: {results[step]:.1f} s (CPU {cpu:.1f} s), "
                  f"{batch.rows_total / results[step]:.0f} rows/s, counts {batch.counts}, "
                  f"status {batch.status}, load {load0:.2f} -> {os.getloadavg()[0]:.2f}",
                  flush=True)
            if step == "check":
                batches.request_commit(batch)
                db.session.commit()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.projects} projects + {args.projects * len(ITEMS)} progress rows on "
          f"{url.split(':')[0]}: workbook {len(data) / 1e6:.1f} MB built in {built:.1f} s, "
          f"uploaded in {uploaded:.1f} s; check {results['check']:.1f} s; commit "
          f"{results['commit']:.1f} s; peak RSS {rss:.0f} MB; load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
