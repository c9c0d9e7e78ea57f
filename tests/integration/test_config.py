"""Configuration precedence and production safety."""

import logging

import pytest

from crm.app import ConfigError, create_app


def test_production_without_secret_key_refuses_to_start(monkeypatch, tmp_path):
    monkeypatch.setenv("CRM_ENV", "production")
    monkeypatch.delenv("CRM_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="CRM_SECRET_KEY"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3"})


def test_production_on_sqlite_warns_and_uses_secure_cookies(monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("CRM_ENV", "production")
    monkeypatch.setenv("CRM_SECRET_KEY", "s" * 64)
    with caplog.at_level(logging.WARNING):
        app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3"})
    assert "PostgreSQL" in caplog.text
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_environment_overrides_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("CRM_REDIS_URL", "redis://example.invalid:6380/3")
    monkeypatch.setenv("CRM_DATABASE_URL", f"sqlite:///{tmp_path}/env.sqlite3")
    monkeypatch.setenv("CRM_SECRET_KEY", "from-env")
    app = create_app()
    assert app.config["REDIS_URL"] == "redis://example.invalid:6380/3"
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("env.sqlite3")
    assert app.config["SECRET_KEY"] == "from-env"


def test_local_secret_key_is_generated_once(monkeypatch, tmp_path):
    from crm.app import _local_secret_key

    path = tmp_path / "secret_key"
    first = _local_secret_key(path)
    assert len(first) == 64 and _local_secret_key(path) == first
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_nothing_connects_at_import_or_creation(monkeypatch, tmp_path):
    """create_app with unreachable database and Redis URLs still succeeds."""
    app = create_app({"SECRET_KEY": "x", "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
                      "REDIS_URL": "redis://127.0.0.1:1/0"})
    assert app.name == "crm.app"
