"""Issue 18: does ``gc.freeze()`` after a worker loads the app (gunicorn.conf.py) shorten the
slow tail of a page?  Starts gunicorn (one worker, one thread) on a database such as the 100x
city, with the repository's gunicorn.conf.py and without it (``-c /dev/null``), alternately,
logs in and requests one page N times per round; prints the median, p95 and max of each round
with the load average.

    .venv/bin/python benchmarks/gunicorn_gc.py \\
        --database-url postgresql://postgres@127.0.0.1:5432/bench100 --path /dashboard/city
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = 5391


def _request(conn, method, path, body=None, cookie=None, headers=None):
    all_headers = dict(headers or {})
    if cookie:
        all_headers["Cookie"] = cookie
    conn.request(method, path, body=body, headers=all_headers)
    response = conn.getresponse()
    data = response.read()
    return response, data


def _login(username: str, password: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
    response, data = _request(conn, "GET", "/login")
    cookie = response.getheader("Set-Cookie").split(";", 1)[0]
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', data).group(1).decode()
    body = urllib.parse.urlencode({"username": username, "password": password,
                                   "csrf_token": token})
    response, _ = _request(conn, "POST", "/login", body, cookie,
                           {"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status == 302, response.status
    return response.getheader("Set-Cookie").split(";", 1)[0]


def _round(config: str, args) -> list[float]:
    env = dict(os.environ, CRM_DATABASE_URL=args.database_url, CRM_RATELIMIT_ENABLED="false")
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-c", config, "-w", "1", "--threads", "1",
         "-b", f"127.0.0.1:{PORT}", "crm:create_app()"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).request("GET", "/login")
                break
            except OSError:
                time.sleep(0.2)
        cookie = _login(args.user, args.password)
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        for _ in range(args.warmup):
            _request(conn, "GET", args.path, cookie=cookie)
        times = []
        for _ in range(args.requests):
            start = time.perf_counter()
            response, _ = _request(conn, "GET", args.path, cookie=cookie)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status == 200, response.status
        return times
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--path", default="/dashboard/city")
    parser.add_argument("--user", default="leader")
    parser.add_argument("--password", default="daiban-demo-2026")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    configs = {"gc.freeze (gunicorn.conf.py)": str(ROOT / "gunicorn.conf.py"),
               "no freeze": "/dev/null"}
    for round_number in range(args.rounds):
        for name, config in configs.items():
            times = sorted(_round(config, args))
            p95 = times[int(len(times) * 0.95) - 1]
            print(f"round {round_number + 1} {name:<28} median {statistics.median(times):6.1f} ms"
                  f"  p95 {p95:6.1f}  max {times[-1]:6.1f}  load {os.getloadavg()[0]:.2f}",
                  flush=True)


if __name__ == "__main__":
    sys.exit(main())
