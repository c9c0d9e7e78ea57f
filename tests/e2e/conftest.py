"""Browser tests: the app served by a real WSGI server on a free local port, driven by
Playwright in Debian's Chromium (/usr/bin/chromium; never a downloaded browser).

Fixtures:
- ``live_server``: the app (its own copy of a database with the demo data, built once per
  session) at ``live_server.url``;
- ``browser``: one headless Chromium per test session;
- ``page``: a new page that fails the test on any console error, and saves a screenshot
  under test-artifacts/ at the end.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import ARTIFACTS, _create_app, base_config

CHROMIUM = os.environ.get("CRM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = make_server("127.0.0.1", self.port, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        self._server.shutdown()
        self._thread.join(5)


def _load_demo(application) -> None:
    from crm.demo.loader import load_demo
    from crm.extensions import db
    from crm.i18n import today

    with application.app_context():
        load_demo(today())
        db.session.commit()
        db.engine.dispose()


@pytest.fixture(scope="session")
def demo_database(database_template, tmp_path_factory):
    """SQLite: the migrated template with the demo city loaded, built once per session (the
    demo takes seconds to build); every test's live server starts from its own copy of it.
    None on PostgreSQL, where each test loads the demo itself."""
    kind, location = database_template
    if kind != "sqlite":
        return None
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    shutil.copy(location, path)
    instance = tmp_path_factory.mktemp("demo-instance")
    _load_demo(_create_app(base_config(f"sqlite:///{path}", instance), instance))
    return path


@pytest.fixture
def live_app(app_config, demo_database, tmp_path):
    """The app with CSRF on (as in production) and the demo data loaded."""
    config = dict(app_config, WTF_CSRF_ENABLED=True)
    if demo_database is not None:
        path = tmp_path / "live.sqlite3"
        shutil.copy(demo_database, path)
        config["DATABASE_URL"] = f"sqlite:///{path}"
    application = _create_app(config, tmp_path)
    if demo_database is None:
        _load_demo(application)
    return application


@pytest.fixture
def live_server(live_app):
    server = LiveServer(live_app)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium package "
                    "(scripts/ensure-chromium.sh does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _new_page(browser, request, viewport):
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.console_errors = errors
    return context, page


def _finish(context, page, request):
    ARTIFACTS.mkdir(exist_ok=True)
    name = request.node.name.replace("/", "_").replace("[", "_").replace("]", "")
    try:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    finally:
        context.close()
    assert page.console_errors == [], f"console errors: {page.console_errors}"


@pytest.fixture
def page(browser, request):
    """A desktop-sized page; the test fails on any console error."""
    context, pg = _new_page(browser, request, {"width": 1280, "height": 900})
    yield pg
    _finish(context, pg, request)


@pytest.fixture
def phone_page(browser, request):
    """A phone-sized page (390 x 844)."""
    context, pg = _new_page(browser, request, {"width": 390, "height": 844})
    yield pg
    _finish(context, pg, request)


def log_in(page, base_url: str, username: str, password: str = "daiban-demo-2026") -> None:
    page.goto(f"{base_url}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")
