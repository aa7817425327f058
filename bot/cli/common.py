"""Helpers shared by subcommands: settings, engine, migrated database."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.engine import Engine

from bot.settings import Settings, load_settings
from storage.db import make_engine
from storage.migrate import upgrade_to_latest
from storage.programmes.defaults import bind_defaults


def settings_and_engine(*, migrate: bool = True) -> tuple[Settings, Engine]:
    """Load settings and open the database at the latest schema."""
    settings = load_settings()
    return settings, open_database(settings, migrate=migrate)


def open_database(settings: Settings, *, migrate: bool = True) -> Engine:
    """Open the database in the settings, migrated to the latest schema unless told not to."""
    # The rules' defaults, bound as the bot binds them: a command that frees a place or
    # moves an activity must offer and remind exactly as the bot would.
    engine = bind_defaults(make_engine(settings.database_url), settings.programme_defaults())
    if migrate:
        upgrade_to_latest(engine)
    return engine


def _cancelled_at_stop(record: logging.LogRecord) -> bool:
    """Drop apscheduler's "Error running job" for a job cancelled because the bot stops.

    Stopping the job queue cancels a periodic tick that happens to be running; that is
    the stop doing its work, not an error, and its traceback would hide real ones.
    """
    error = record.exc_info[1] if record.exc_info else None
    return not isinstance(error, asyncio.CancelledError)


def configure_logging(level: str) -> None:
    """Log ids and events to stderr; never message texts or names (see handlers)."""
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs every request URL, which contains the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("apscheduler.executors.default").addFilter(_cancelled_at_stop)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # At DEBUG, python-telegram-bot logs whole updates and request parameters (message
    # texts, names, answers); ours never do, so only its INFO and above are let through.
    logging.getLogger("telegram").setLevel(max(logging.INFO, logging.getLogger().level))
