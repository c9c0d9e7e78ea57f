"""`make run`: the web app and an RQ worker (and Redis, when needed), stopped together by Ctrl-C.

Redis: the one at CRM_REDIS_URL when it answers; otherwise a private `redis-server` from PATH
on a free port with its files under instance/; otherwise jobs run inline in the web process
and the user is told so.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import time
from pathlib import Path

from honcho.manager import Manager
from redis import Redis
from redis.exceptions import RedisError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
INSTANCE = ROOT / "instance"
BIN = Path(sys.executable).parent
HOST = os.environ.get("CRM_HOST", "127.0.0.1")
PORT = int(os.environ.get("CRM_PORT", "5000"))


def redis_answers(url: str) -> bool:
    try:
        return bool(Redis.from_url(url, socket_connect_timeout=1).ping())
    except (RedisError, OSError, ValueError):
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    env = dict(os.environ)
    manager = Manager()
    url = env.get("CRM_REDIS_URL", "redis://127.0.0.1:6379/0")
    jobs_note = f"Redis at {url}"
    if not redis_answers(url):
        server = shutil.which("redis-server")
        if server:
            port = free_port()
            data_dir = INSTANCE / "redis"
            data_dir.mkdir(parents=True, exist_ok=True)
            url = f"redis://127.0.0.1:{port}/0"
            manager.add_process(
                "redis",
                f"{server} --bind 127.0.0.1 --port {port} --dir {data_dir} "
                "--save 60 1 --appendonly no --logfile ''",
                env=env,
            )
            jobs_note = f"private redis-server on port {port} (files in instance/redis)"
        else:
            env["CRM_JOBS_INLINE"] = "true"
            url = None
            jobs_note = ("NO REDIS: no Redis answers at CRM_REDIS_URL and there is no redis-server "
                         "on PATH; background jobs (PDFs) run inline in the web process")
    if url:
        env["CRM_REDIS_URL"] = url

    web = (f"{BIN / 'gunicorn'} --bind {HOST}:{PORT} --workers 2 --threads 4 "
           "--access-logfile - 'crm:create_app()'")
    manager.add_process("web", web, env=env, cwd=str(ROOT))
    if url:
        # Give a private Redis a moment to start before the worker connects.
        worker = f"sh -c 'sleep 1; exec {BIN / 'flask'} --app crm crm worker'"
        manager.add_process("worker", worker, env=env, cwd=str(ROOT))

    from crm.demo.loader import DEMO_LOGINS, DEMO_PASSWORD

    print(f"\n  Daiban is starting at http://{HOST}:{PORT}/  ({jobs_note})")
    print(f"  Demo logins, password {DEMO_PASSWORD}:")
    for username, _, role, description in DEMO_LOGINS:
        print(f"    {username:<11} {role.value:<13} {description}")
    print("  Ctrl-C stops everything.\n", flush=True)
    time.sleep(0.2)
    manager.loop()
    return manager.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
