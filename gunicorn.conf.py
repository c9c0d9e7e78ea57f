"""Gunicorn settings read from the working directory (`make run`, and the README's command
for several web nodes): after a worker has loaded the app, everything loaded so far (modules,
mappers, compiled statements, the translations) is moved out of the garbage collector's
reach (``gc.freeze``), so a full collection scans only the objects of requests in flight
instead of pausing every few requests to walk the whole app (issue 18)."""

import gc


def post_worker_init(worker):
    gc.collect()
    gc.freeze()
