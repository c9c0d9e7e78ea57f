"""Flask-Babel setup: Simplified Chinese by default, English available; display filters."""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

from crm.extensions import babel

CRM_DIR = Path(__file__).parent


def translation_directories() -> list[str]:
    """The core catalog (crm/translations) and one per domain package (crm/<pkg>/translations)."""
    dirs = [CRM_DIR / "translations"] + sorted(CRM_DIR.glob("*/translations"))
    return [str(d) for d in dirs if d.is_dir()]


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # jobs and commands: the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def yi(wan: int | None) -> str:
    """万元 -> 亿元 with one decimal (12345 -> "1.2")."""
    if wan is None:
        return ""
    value = (decimal.Decimal(wan) / 10000).quantize(decimal.Decimal("0.1"), decimal.ROUND_HALF_UP)
    # Both UI languages group thousands with "," and use "." (Babel's pattern parsing cost
    # ~0.2 ms a number: too much for tables of hundreds of parks).
    return f"{value:,.1f}"


def local_time(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC timestamp shown in the configured zone (Asia/Shanghai)."""
    if value is None:
        return ""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return value.astimezone(zone).strftime(fmt)


def iso_date(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def today() -> dt.date:
    """Today's date in the service's time zone (deadlines are dates in China)."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return dt.datetime.now(zone).date()


def local_date(value: dt.datetime) -> dt.date:
    """The service's local date of a stored UTC timestamp."""
    return value.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def local_day_start(day: dt.date) -> dt.datetime:
    """The first instant of ``day`` in the service's time zone (for filters on timestamps)."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return dt.datetime.combine(day, dt.time(), zone)


def init_app(app: Flask) -> None:
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(translation_directories())
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters.update(yi=yi, local_time=local_time, iso_date=iso_date)
    app.jinja_env.add_extension("jinja2.ext.do")

    from crm import labels

    @app.context_processor
    def _globals():
        return {
            "label": labels.label,
            "current_locale": str(get_locale()),
            "languages": app.config["LANGUAGES"],
            "request_path": request.path,
        }
