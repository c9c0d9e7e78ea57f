"""The alert sweeps over the synthetic city (issue 16): the SLA sweep (due soon / overdue)
and the escalation ladder, writing in-app notifications and the outbox in bulk, with every
user given an email address and every park a WeCom robot (the worst case for the outbox).

    .venv/bin/python benchmarks/alert_sweep.py \\
        --database-url postgresql://postgres@127.0.0.1:5432/bench100

Everything runs in one transaction that is rolled back at the end, so the database is left
as it was (and the run can be repeated).  Prints seconds and rows written, and the load.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_pages import make_app  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--date", help="the day swept (default: today)")
    args = parser.parse_args()
    app = make_app(args.database_url)
    app.config.update(MAIL_HOST="mail.invalid")  # deliveries are written, never sent here
    import datetime as dt

    from sqlalchemy import func, insert, select, text

    from crm.extensions import db
    from crm.i18n import today
    from crm.milestones.queries import work_calendar
    from crm.milestones.services.sweep import sweep
    from crm.notifications.escalation import escalate
    from crm.notifications.messages import CHOOSABLE
    from crm.notifications.models import Delivery, Escalation, Notification, ParkRobot
    from crm.parks.models import Park

    with app.app_context():
        day = dt.date.fromisoformat(args.date) if args.date else today()
        calendar = work_calendar()
        counts = {}
        for model in (Notification, Delivery, Escalation):
            counts[model.__tablename__] = db.session.scalar(select(func.count()).select_from(model))
        start = time.perf_counter()
        db.session.execute(text("UPDATE users SET email = username || '@bench.example.cn'"))
        parks = db.session.scalars(select(Park.id)).all()
        db.session.execute(insert(ParkRobot), [dict(park_id=p, robot_key=f"bench-{p:08d}",
                                                    kinds=list(CHOOSABLE)) for p in parks])
        setup = time.perf_counter() - start
        start = time.perf_counter()
        swept = sweep(day)
        sweep_s = time.perf_counter() - start
        start = time.perf_counter()
        escalated = escalate(day, calendar)
        escalate_s = time.perf_counter() - start
        written = {model.__tablename__: db.session.scalar(
            select(func.count()).select_from(model)) - counts[model.__tablename__]
            for model in (Notification, Delivery, Escalation)}
        db.session.rollback()
    print(f"day {day}, load {os.getloadavg()[0]:.2f}, setup {setup:.1f} s")
    print(f"SLA sweep: {swept.milestones} milestones announced, {swept.notifications} "
          f"notifications, {sweep_s:.1f} s")
    print(f"escalation: {escalated.steps} steps, {escalated.notifications} notifications, "
          f"{escalate_s:.1f} s")
    print(f"rows written: {written}")


if __name__ == "__main__":
    main()
