"""RQ plumbing and job functions.

Job functions take ids, load what they need inside the worker's app context, call services or
``reports/`` and commit once.  Web code enqueues through ``enqueue()``, which runs the job in
process when the app is configured with ``JOBS_INLINE`` (no Redis available).
"""

from __future__ import annotations

import logging

from flask import current_app
from redis import Redis
from rq import Queue

log = logging.getLogger(__name__)

DEFAULT_QUEUE = "default"

# Periodic jobs: (dotted path of a job function taking no arguments, interval in seconds).
# The worker keeps each of them scheduled (see crm/worker.py); packages append their own.
PERIODIC_JOBS: list[tuple[str, int]] = []


def redis_connection() -> Redis:
    return Redis.from_url(current_app.config["REDIS_URL"], socket_connect_timeout=2,
                          socket_timeout=10)


def get_queue(name: str = DEFAULT_QUEUE, connection: Redis | None = None) -> Queue:
    return Queue(name, connection=connection or redis_connection())


def enqueue(func, *args, queue: str = DEFAULT_QUEUE, **options):
    """Put ``func(*args)`` on a queue, or run it now when jobs run inline."""
    if current_app.config["JOBS_INLINE"]:
        return func(*args)
    return get_queue(queue).enqueue(func, *args, **options)


def ping() -> str:
    """A trivial job: proves a worker is running inside the app context."""
    return current_app.name


def sla_sweep() -> dict:
    """Notify owners and park managers of milestones that became due soon or overdue."""
    from crm.extensions import db
    from crm.i18n import today
    from crm.milestones.sweep import sweep

    result = sweep(today())
    db.session.commit()
    return {"milestones": result.milestones, "notifications": result.notifications}


PERIODIC_JOBS.append(("crm.jobs.sla_sweep", 600))
