"""`palbot run`: migrate, then serve the bot until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from telegram import Update

from bot.cli.common import configure_logging, settings_and_engine
from bot.settings import SettingsError

log = logging.getLogger("palbot")


def add_commands(sub: Any) -> None:
    """Register `run`."""
    parser = sub.add_parser(
        "run",
        help="migrate the database and serve the bot",
        description="Migrate the database to the latest schema, then serve the bot with "
        "long polling until SIGINT/SIGTERM.",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Serve the bot with long polling."""
    settings, engine = settings_and_engine()
    if settings.token is None:
        raise SettingsError("PALBOT_TOKEN: required to run the bot (get one from @BotFather)")
    configure_logging(settings.log_level)
    engine.dispose()

    from bot.app import build_application

    application = build_application(settings)
    log.info("starting long polling against %s", settings.api_url)
    application.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
    log.info("stopped")
    return 0
