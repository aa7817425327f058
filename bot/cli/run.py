"""`palbot run`: migrate, then serve the bot until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from sqlalchemy.exc import ArgumentError, DBAPIError
from telegram import Update

from bot.app import build_application
from bot.background import serve_background_only
from bot.cli.common import configure_logging, open_database
from bot.cli.surveys import refuse_bad_surveys
from bot.settings import Settings, SettingsError, load_settings
from bot.startup import check_bot_api, database_error
from bot.webhook import WebhookConfig, parse_listen, run_webhook, webhook_url

log = logging.getLogger("palbot")


def add_commands(sub: Any) -> None:
    """Register `run`."""
    parser = sub.add_parser(
        "run",
        help="migrate the database and serve the bot",
        description="Migrate the database to the latest schema, then serve the bot with "
        "long polling (default) or behind a webhook until SIGINT/SIGTERM.",
    )
    parser.add_argument(
        "--webhook",
        action="store_true",
        help="receive updates over HTTPS instead of long polling; several processes may "
        "serve one bot this way (needs PALBOT_WEBHOOK_SECRET)",
    )
    parser.add_argument(
        "--listen",
        default="127.0.0.1:8080",
        metavar="HOST:PORT",
        help="address the webhook server binds (default 127.0.0.1:8080, behind a reverse proxy)",
    )
    parser.add_argument(
        "--public-url",
        metavar="URL",
        help="the https:// address Telegram sends updates to (the reverse proxy's); "
        "its path is served locally, /telegram if it has none",
    )
    parser.add_argument(
        "--no-set-webhook",
        dest="set_webhook",
        action="store_false",
        help="do not call setWebhook at start (another process or a deploy step does it)",
    )
    # A second process on one database that only sends (no updates): see bot/background.py.
    parser.add_argument(
        "--no-polling", dest="polling", action="store_false", help=argparse.SUPPRESS
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Serve the bot with long polling, or behind a webhook with --webhook."""
    settings = load_settings()
    if settings.token is None:
        raise SettingsError("PALBOT_TOKEN: required to run the bot (get one from @BotFather)")
    configure_logging(settings.log_level)
    # Settings first, then the database, then Telegram: each fault ends with one line.
    config = _webhook_config(args, settings) if args.webhook else None
    try:  # a broken questionnaire stops start-up too
        engine = open_database(settings)
        refused = refuse_bad_surveys(settings, engine)
        engine.dispose()
    except (DBAPIError, ArgumentError) as exc:
        raise database_error(settings, exc) from None
    if refused is not None:
        return refused
    asyncio.run(check_bot_api(settings))
    if not getattr(args, "polling", True):
        application = build_application(settings, with_updater=False)
        log.info("serving background work only (no updates) against %s", settings.api_url)
        serve_background_only(application)
        log.info("stopped")
        return 0
    if config is not None:
        application = build_application(settings, with_updater=False)
        log.info("starting webhook mode against %s", settings.api_url)
        run_webhook(application, config)
        log.info("stopped")
        return 0
    application = build_application(settings)
    log.info("starting long polling against %s", settings.api_url)
    application.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
    log.info("stopped")
    return 0


def _webhook_config(args: argparse.Namespace, settings: Settings) -> WebhookConfig:
    if settings.webhook_secret is None:
        raise SettingsError(
            "PALBOT_WEBHOOK_SECRET: required with --webhook (16-256 characters "
            "of A-Z, a-z, 0-9, _ and -)"
        )
    if not args.public_url:
        raise SettingsError(
            "--public-url: required with --webhook (the reverse proxy's https:// address)"
        )
    try:
        host, port = parse_listen(args.listen)
        url = webhook_url(args.public_url)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    return WebhookConfig(
        host=host,
        port=port,
        public_url=url,
        secret=settings.webhook_secret.get_secret_value(),
        set_webhook=args.set_webhook,
    )
