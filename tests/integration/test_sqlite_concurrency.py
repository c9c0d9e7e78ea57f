"""SQLite done right: concurrent read-modify-write transactions neither lose updates nor fail."""

import threading

import pytest
from sqlalchemy import create_engine, text

from crm.db import configure_sqlite
from tests.conftest import DB_KIND

pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="SQLite engine behaviour")


def test_concurrent_increments_are_all_kept(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path}/c.sqlite3")
    configure_sqlite(engine, 20000)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)"))
        conn.execute(text("INSERT INTO counter VALUES (1, 0)"))
    errors = []

    def work():
        try:
            for _ in range(50):
                with engine.begin() as conn:
                    n = conn.execute(text("SELECT n FROM counter WHERE id = 1")).scalar()
                    conn.execute(text("UPDATE counter SET n = :n WHERE id = 1"), {"n": n + 1})
        except Exception as exc:  # noqa: BLE001 - the test reports every failure
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar() == 200
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 20000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
