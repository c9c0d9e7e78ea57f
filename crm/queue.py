"""RQ plumbing, below every domain package: a Redis connection, the queues, and ``enqueue``.

Jobs are named by dotted path (``"crm.documents.jobs.build_document"``), so a service hands
work to the queue without importing the job module (the job functions sit in the package they
belong to, above its services).  With ``JOBS_INLINE`` (no Redis) a job runs at once in the
calling process instead.

The periodic jobs (path, interval in seconds) are listed in ``create_app``
(``app.extensions["periodic_jobs"]``); workers keep them scheduled (crm/worker.py).
"""

from __future__ import annotations

import importlib
import logging

from flask import current_app
from redis import Redis
from rq import Queue

log = logging.getLogger(__name__)

DEFAULT_QUEUE = "default"
PDF_QUEUE = "pdf"
# The queues `flask crm worker` listens on by default, in priority order.
WORKER_QUEUES = [DEFAULT_QUEUE, PDF_QUEUE]


def redis_connection() -> Redis:
    return Redis.from_url(current_app.config["REDIS_URL"], socket_connect_timeout=2,
                          socket_timeout=10)


def get_queue(name: str = DEFAULT_QUEUE, connection: Redis | None = None) -> Queue:
    return Queue(name, connection=connection or redis_connection())


def resolve(path: str):
    """The function a dotted path names."""
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def inline() -> bool:
    return bool(current_app.config["JOBS_INLINE"])


def enqueue(path: str, *args, queue: str = DEFAULT_QUEUE, **options):
    """Put the job ``path(*args)`` on a queue, or run it now when jobs run inline."""
    if inline():
        return resolve(path)(*args)
    return get_queue(queue).enqueue(path, *args, **options)


def periodic_jobs() -> list[tuple[str, int]]:
    """(dotted path, interval in seconds) of the jobs the workers keep scheduled."""
    return list(current_app.extensions.get("periodic_jobs", ()))


def ping() -> str:
    """A trivial job: proves a worker is running inside the app context."""
    return current_app.name
