"""How far a batch's running job has got (rows done), kept in Redis so the page can show a
progress bar while the job's own transaction is still open.  With jobs run inline there is
nothing to watch: the page shows the batch's status."""

from __future__ import annotations

from crm import queue

KEY = "daiban:imports:{id}:done"
TTL_SECONDS = 24 * 3600


def report(batch_id: int, done: int) -> None:
    if not queue.inline():
        queue.redis_connection().set(KEY.format(id=batch_id), done, ex=TTL_SECONDS)


def rows_done(batch_id: int) -> int | None:
    if queue.inline():
        return None
    value = queue.redis_connection().get(KEY.format(id=batch_id))
    return int(value) if value is not None else None


def clear(batch_id: int) -> None:
    if not queue.inline():
        queue.redis_connection().delete(KEY.format(id=batch_id))
