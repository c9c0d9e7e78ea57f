"""Alerts sent by a real RQ worker process: kill it in the middle of a delivery and start
another; every alert reaches the receiver, and none is shown twice (the retried one carries
the same idempotency key)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections import Counter

from rq import Queue
from sqlalchemy import select, update

from tests.conftest import ROOT
from tests.integration.alert_receivers import RobotReceiver
from tests.integration.pdf_support import (  # noqa: F401  (redis_db: fixture)
    FLASK, redis_db, run_burst_worker, wait_for, worker_env)

ROBOT_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=0a1b2c3d-worker-test"
JOB = "crm.notifications.jobs.deliver_alerts"


def test_a_worker_killed_mid_delivery_loses_nothing_and_repeats_nothing(app, world, redis_db):  # noqa: F811
    import datetime as dt

    from crm.extensions import db
    from crm.notifications import settings
    from crm.notifications.models import Delivery
    from crm.notifications.services import notify

    with RobotReceiver() as robot:
        with app.app_context():
            settings.save_robot(world.park_a.id, ROBOT_URL, ["blocker_opened"], actor_id=None)
            for n in range(4):
                notify([], "blocker_opened", {"project": f"项目{n}", "summary": f"卡点{n}"},
                       park_id=world.park_a.id)
            db.session.execute(update(Delivery).values(
                next_attempt_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC)))
            db.session.commit()
            keys = set(db.session.scalars(select(Delivery.key)))
            db.engine.dispose()
        env = dict(WECOM_API_BASE=robot.base, ALERT_CLAIM_SECONDS=1, WECOM_TIMEOUT=30)
        robot.delay = 30  # the first post hangs: the worker is killed while it waits
        Queue("default", connection=redis_db).enqueue(JOB)
        worker = subprocess.Popen([FLASK, "--app", "crm", "crm", "worker", "--burst"], cwd=ROOT,
                                  env=worker_env(app, **env), stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_for(lambda: robot.posts, timeout=90, what="the first post")
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
        with app.app_context():
            statuses = Counter(db.session.scalars(select(Delivery.status)))
            assert statuses["sent"] == 0 and statuses["sending"] >= 1  # claimed, then killed
            db.engine.dispose()
        robot.delay = 0
        time.sleep(1.5)  # the dead worker's claim expires
        Queue("default", connection=redis_db).enqueue(JOB)
        run_burst_worker(app, **env)
        with app.app_context():
            assert Counter(db.session.scalars(select(Delivery.status))) == {"sent": 4}
            assert {d.attempts for d in db.session.scalars(select(Delivery))} <= {1, 2}
        received = Counter(robot.received_keys())
        assert set(received) == keys  # every alert arrived
        # The post in flight when the worker died came again, with its key: a receiver that
        # honours the key shows it once; every other alert was posted exactly once.
        assert sorted(received.values()) in ([1, 1, 1, 1], [1, 1, 1, 2])
