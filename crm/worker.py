"""The RQ worker entry point: jobs run inside the application context."""

from __future__ import annotations

from flask import Flask
from rq import Worker

from crm.extensions import db
from crm.jobs import WORKER_QUEUES, prepare_worker, redis_connection


class AppWorker(Worker):
    """A forking worker whose work horses run with the Flask app context pushed.

    The app (and the libraries it imports) is loaded once in the parent before any fork, so
    each job pays only for its own work.  Each work horse drops the connections inherited from
    the parent, so no database socket is shared between processes.
    """

    app: Flask | None = None

    def main_work_horse(self, *args, **kwargs):
        db.engine.dispose(close=False)
        with self.app.app_context():
            return super().main_work_horse(*args, **kwargs)


def run_worker(app: Flask, queues: list[str] | None = None, burst: bool = False,
               with_scheduler: bool = True) -> bool:
    with app.app_context():
        connection = redis_connection()
        AppWorker.app = app
        prepare_worker()  # warm ReportLab before forking; send lost PDF requests again
        worker = AppWorker(queues or WORKER_QUEUES, connection=connection)
        return worker.work(burst=burst, with_scheduler=with_scheduler)
