"""The application with PDF builds that misbehave on purpose, for the fault tests.

    flask --app "tests.integration.pdf_faults:create_app()" crm worker

``PDF_FAULT`` in the environment says how:
- ``fail:N``  the first N builds raise (then builds succeed);
- ``slow:S``  the first build announces its process id in Redis, then sleeps S seconds (so the
  test can kill the worker in the middle of a job).

Builds run in forked work horses that share no memory, so the count lives in Redis.
"""

from __future__ import annotations

import os
import time

from redis import Redis

BUILDS_KEY = "test:pdf-builds"
SLOW_PID_KEY = "test:pdf-slow-pid"


def create_app():
    from crm import create_app as create
    from crm.documents import services

    app = create()
    original = services.render
    mode, _, argument = os.environ.get("PDF_FAULT", "").partition(":")

    def render(prepared):
        connection = Redis.from_url(os.environ["CRM_REDIS_URL"])
        build = connection.incr(BUILDS_KEY)
        if mode == "fail" and build <= int(argument):
            raise RuntimeError(f"injected failure of build {build}")
        if mode == "slow" and build == 1:
            connection.set(SLOW_PID_KEY, os.getpid())
            time.sleep(float(argument))
        return original(prepared)

    services.render = render
    return app
