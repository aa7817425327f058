"""The composition root: builds the Application and everything it needs."""

from __future__ import annotations

import logging
from typing import Any

from telegram import LinkPreviewOptions
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults
from telegram.request import BaseRequest

from bot.context import PalApplication, PalContext, Services
from bot.settings import Settings
from bot.transport import bot_api_request
from bot.update_order import PerPersonUpdateProcessor
from schedules.clock import Clock, SystemClock
from storage.db import make_engine
from storage.executor import Database

log = logging.getLogger(__name__)


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    with_updater: bool = True,
    clock: Clock | None = None,
    database: Database | None = None,
    rate_limiter: Any = None,
) -> PalApplication:
    """Build the bot: services, handlers, background work, start and stop hooks.

    Every Bot API call is paced (bot/sending.py) unless `settings.rate_limit` is off or
    `rate_limiter=False`; another BaseRateLimiter may be passed instead.
    """
    if settings.token is None:
        raise ValueError("PALBOT_TOKEN is required")
    db = database or Database(make_engine(settings.database_url), settings.db_workers)
    services = Services(settings=settings, db=db, clock=clock or SystemClock())

    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .token(settings.token.get_secret_value())
        .base_url(f"{settings.api_url}/bot")
        .base_file_url(f"{settings.api_url}/file/bot")
        .context_types(ContextTypes(context=PalContext))
        .defaults(Defaults(link_preview_options=LinkPreviewOptions(is_disabled=True),
                           tzinfo=settings.zone))
        # Each person's updates in arrival order, different people in parallel.
        .concurrent_updates(PerPersonUpdateProcessor())
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
    )
    builder = builder.request(request or bot_api_request(settings))
    builder = builder.get_updates_request(
        get_updates_request or bot_api_request(settings, for_updates=True))
    if not with_updater:
        builder = builder.updater(None)
    if rate_limiter is None and settings.rate_limit:
        from bot.sending import PacingRateLimiter, build_pacer

        rate_limiter = PacingRateLimiter(build_pacer(settings))
    if rate_limiter:
        builder = builder.rate_limiter(rate_limiter)
    application: PalApplication = builder.build()
    application.bot_data["services"] = services

    from bot.dispatch import install as install_dispatcher

    install_dispatcher(application)
    # Consultations open and close on their dates (issue 15).
    from bot.consultation_schedule import install as install_consultations

    install_consultations(application)

    from handlers import register

    register(application)
    return application


async def _post_init(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    services: Services = application.bot_data["services"]
    for start in services.on_start:
        await start(application)


async def _post_stop(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    # Background work stops while the bot can still talk to Telegram (sends in flight).
    services: Services = application.bot_data["services"]
    for stop in reversed(services.on_stop):
        try:
            await stop(application)
        except Exception:
            log.exception("error while stopping a background service")


async def _post_shutdown(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    services: Services = application.bot_data["services"]
    services.db.close()


__all__ = ["build_application"]
