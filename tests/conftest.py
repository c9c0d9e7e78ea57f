"""Test fixtures (after the Flask tutorial): a fresh, migrated database per test.

Databases: SQLite by default; PostgreSQL when ``CRM_TEST_DB=postgresql`` (the URL comes from
``CRM_TEST_DATABASE_URL``; `make test` runs the suite a second time that way).

- SQLite: the schema is built once per session with Alembic into a template file; each test
  gets a copy of it.
- PostgreSQL: the schema is built once per session with Alembic; each test starts from
  truncated tables with the reference data seeded again.

Redis: ``CRM_TEST_REDIS_URL`` (default redis://127.0.0.1:6379/15).

Under pytest-xdist (``-n 2``) each worker has its own PostgreSQL database (the URL's name with
``_gw0``, ``_gw1``... appended, created when missing) and its own Redis database (the URL's
number minus the worker's index), so workers never truncate or flush each other's data.
"""

from __future__ import annotations

import os
import re
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event, text

from tests import factories

ROOT = Path(__file__).resolve().parent.parent
DB_KIND = os.environ.get("CRM_TEST_DB", "sqlite")
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1"... under pytest-xdist
WORKER_INDEX = int(WORKER[2:]) if WORKER.startswith("gw") else 0


def _worker_redis(url: str) -> str:
    base, _, number = url.rpartition("/")
    if not WORKER or not number.isdigit():
        return url
    index = int(number) - WORKER_INDEX
    if index < 0:
        raise RuntimeError(f"{url}: too few Redis databases below it for worker {WORKER}")
    return f"{base}/{index}"


PG_BASE_URL = os.environ.get("CRM_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
PG_URL = f"{PG_BASE_URL}_{WORKER}" if WORKER else PG_BASE_URL
REDIS_URL = _worker_redis(os.environ.get("CRM_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
ARTIFACTS = ROOT / "test-artifacts"


def base_config(database_url: str, instance_path: Path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "RATELIMIT_STORAGE_URI": "memory://",
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": None,
        "JOBS_INLINE": False,
    }


def _create_app(config: dict, instance_path: Path):
    from crm import create_app

    app = create_app(config)
    app.instance_path = str(instance_path)
    return app


def _upgrade(app) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """A migrated database to start every test from; returns (kind, url or template path)."""
    instance = tmp_path_factory.mktemp("instance")
    if DB_KIND == "postgresql":
        if WORKER:
            _create_postgresql_database(PG_URL)
        app = _create_app(base_config(PG_URL, instance), instance)
        from crm.extensions import db

        with app.app_context():
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            db.engine.dispose()
        _upgrade(app)
        with app.app_context():
            db.engine.dispose()
        return ("postgresql", PG_URL)
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    app = _create_app(base_config(f"sqlite:///{path}", instance), instance)
    _upgrade(app)
    from crm.extensions import db

    with app.app_context():
        db.engine.dispose()
    return ("sqlite", str(path))


def _create_postgresql_database(url: str) -> None:
    """Create the database of ``url`` unless it exists (a pytest-xdist worker's own)."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    target = make_url(url)
    engine = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                 {"name": target.database})
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        engine.dispose()


def _reset_postgresql(app) -> None:
    from crm.extensions import db

    with app.app_context():
        tables = [t.name for t in db.metadata.sorted_tables]
        with db.engine.begin() as conn:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables)
                              + " RESTART IDENTITY CASCADE"))


@pytest.fixture
def app_config(database_template, tmp_path):
    kind, location = database_template
    if kind == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copy(location, path)
        url = f"sqlite:///{path}"
    else:
        url = location
    return base_config(url, tmp_path)


@pytest.fixture
def app(app_config, tmp_path):
    application = _create_app(app_config, tmp_path)
    if DB_KIND == "postgresql":
        _reset_postgresql(application)
    from crm.extensions import db
    from crm.milestones.services.plans import seed_catalogue

    with application.app_context():
        seed_catalogue()
        db.session.commit()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db_session(app):
    """The app's session inside an app context (for service tests)."""
    from crm.extensions import db

    with app.app_context():
        yield db.session
        db.session.rollback()


@pytest.fixture
def world(app):
    """A small city: two parks, staff, one user per role, projects in both parks."""
    with app.app_context():
        return factories.build_world()


def login(client, username: str, password: str = factories.PASSWORD):
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, f"login of {username} failed: {response.status_code}"
    return response


@pytest.fixture
def login_as(client):
    def _login(username: str):
        login(client, username)
        return client
    return _login


class QueryCounter:
    def __init__(self):
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if not re.match(r"\s*(SAVEPOINT|RELEASE|ROLLBACK|BEGIN|COMMIT|PRAGMA)", statement, re.I):
            self.statements.append(statement)


@contextmanager
def count_queries(app):
    """Count the SQL statements the app runs inside the block (indico's approach)."""
    from crm.extensions import db

    counter = QueryCounter()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", counter)


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = str(item.fspath)
        if f"{os.sep}unit{os.sep}" in path:
            item.add_marker(pytest.mark.unit)
        elif f"{os.sep}e2e{os.sep}" in path:
            item.add_marker(pytest.mark.e2e)
        else:
            item.add_marker(pytest.mark.integration)
