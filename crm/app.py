"""The application factory."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

log = logging.getLogger(__name__)


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` in every URL, capped at the largest id a 32-bit column holds: a bigger
    number is 404 like any unknown id, never an overflow in the database driver."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


class ConfigError(RuntimeError):
    """The configuration cannot work; the message says what to set."""


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.url_map.converters["int"] = BoundedIntConverter
    load_config(app, test_config)
    proxies = int(app.config["PROXY_COUNT"])
    if proxies > 0:  # trust exactly that many proxies' forwarding headers
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    register_extensions(app)
    register_domain(app)

    from crm import i18n, security, web
    from crm.admin import init_admin
    from crm.api import init_api
    from crm.auth.views import init_login
    from crm.cli import register_cli

    i18n.init_app(app)
    security.init_app(app)
    init_login(app)
    web.register_blueprints(app)
    web.register_error_handlers(app)
    init_admin(app)
    init_api(app)
    register_cli(app)
    return app


def register_extensions(app: Flask) -> None:
    from crm import extensions as ext
    from crm import models  # noqa: F401  (every table in the metadata)
    from crm.db import configure_sqlite

    ext.db.init_app(app)
    ext.migrate.init_app(app, ext.db, directory=str(Path(app.root_path).parent / "migrations"),
                         render_as_batch=True, compare_type=True)
    ext.csrf.init_app(app)
    ext.login_manager.init_app(app)
    ext.limiter.init_app(app)
    with app.app_context():
        if ext.db.engine.dialect.name == "sqlite":
            configure_sqlite(ext.db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])


# The jobs every worker with the scheduler keeps armed: (dotted path, interval in seconds).
PERIODIC_JOBS = (
    ("crm.milestones.jobs.sla_sweep", 600),
    # Alerts: the outbox is sent every half minute; digests and escalations checked often
    # (each does its work once: a digest a day, a ladder step once).
    ("crm.notifications.jobs.deliver_alerts", 30),
    ("crm.notifications.jobs.send_digests", 300),
    ("crm.notifications.jobs.escalate", 900),
    # Every minute: the leadership dashboard shows figures at most a minute or two old.
    ("crm.dashboard.jobs.refresh_rollups", 60),
    ("crm.documents.jobs.recover_documents", 60),
    # Hourly; does work once a day (forecasts move with the days) and after an upgrade.
    ("crm.milestones.jobs.refresh_forecasts", 3600),
    # Daily; draws last month's callback sample on its first run of a month.
    ("crm.portal.jobs.draw_callback_sample", 86400),
    # Supervision: close rounds past their grace, remind reporters, escalate overdue problems
    # (each once per round or problem and day).
    ("crm.supervision.jobs.supervise", 3600),
)


def register_domain(app: Flask) -> None:
    """The registries the domain packages share, set up here and nowhere else: the session
    hooks (audit trail, after-commit callbacks), the cross-domain reactions, the audit
    trail's action labels and the periodic jobs."""
    from crm import transaction, workflows
    from crm.agents.services import roster, staffing
    from crm.attachments import owners as attachment_owners
    from crm.attachments import services as attachments
    from crm.audit import queries as trail
    from crm.audit import services as audit
    from crm.documents import services as documents
    from crm.imports.services import revert as imports_revert
    from crm.milestones.services import lifecycle, schedules
    from crm.portal import services as portal
    from crm.projects import services as projects
    from crm.supervision.services import enterprise as enterprise_parts
    from crm.supervision.services import investment, problems, rounds

    audit.install()
    transaction.install()
    attachments.install()
    attachment_owners.install(app)
    workflows.connect()
    app.extensions["audit_actions"] = {
        **trail.GENERIC_ACTIONS, **projects.AUDIT_ACTIONS, **lifecycle.AUDIT_ACTIONS,
        **schedules.AUDIT_ACTIONS, **staffing.AUDIT_ACTIONS, **roster.AUDIT_ACTIONS,
        **documents.AUDIT_ACTIONS, **portal.AUDIT_ACTIONS, **imports_revert.AUDIT_ACTIONS,
        **attachments.AUDIT_ACTIONS, **rounds.AUDIT_ACTIONS, **problems.AUDIT_ACTIONS,
        **investment.AUDIT_ACTIONS, **enterprise_parts.AUDIT_ACTIONS,
    }
    app.extensions["periodic_jobs"] = list(PERIODIC_JOBS)


def load_config(app: Flask, test_config: dict | None) -> None:
    """Defaults -> instance/config.py -> CRM_* environment -> test_config."""
    app.config.from_object("crm.config")
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("CRM")
    if test_config:
        app.config.update(test_config)

    production = app.config["ENV"] == "production"
    os.makedirs(app.instance_path, exist_ok=True)

    if not app.config.get("SECRET_KEY"):
        if production:
            raise ConfigError(
                "CRM_ENV=production needs a secret key: set CRM_SECRET_KEY to a long random "
                "string (for example the output of `python -c 'import secrets; "
                "print(secrets.token_hex(32))'`)."
            )
        app.config["SECRET_KEY"] = _local_secret_key(Path(app.instance_path) / "secret_key")

    url = app.config.get("DATABASE_URL") or "sqlite:///" + os.path.join(
        app.instance_path, "daiban.sqlite3"
    )
    if url.startswith("postgres://"):  # the form some hosts hand out
        url = "postgresql://" + url[len("postgres://"):]
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})
    if production and url.startswith("sqlite"):
        log.warning(
            "CRM_ENV=production with a SQLite database: fine for one machine, but set "
            "CRM_DATABASE_URL to PostgreSQL to run several web nodes or workers."
        )

    if app.config["SESSION_COOKIE_SECURE"] is None:
        app.config["SESSION_COOKIE_SECURE"] = production
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]
    app.config["REMEMBER_COOKIE_HTTPONLY"] = True
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"])
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "daiban")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # Flask-Admin forms use Flask-WTF's token like every other form: one token app-wide.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)


def _local_secret_key(path: Path) -> str:
    """A secret key generated once and kept in the instance folder (development only)."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    # Written to a private temporary file, then linked into place: when two processes start
    # together, exactly one link succeeds and both read the same key.
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32))
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text().strip()
