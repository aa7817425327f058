"""The composition root: builds the Application and everything it needs."""

from __future__ import annotations

import logging
from typing import Any

from telegram import LinkPreviewOptions, Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults, TypeHandler
from telegram.request import BaseRequest

from bot.consultation_schedule import install as install_consultations
from bot.context import PalApplication, PalContext, Services
from bot.dispatch import install as install_dispatcher
from bot.sending import PacingRateLimiter, build_pacer
from bot.settings import Settings
from bot.transport import bot_api_request
from bot.update_order import PerPersonUpdateProcessor
from handlers import common, fallback, menu
from handlers.admin import invitations, new_programme, programmes, questionnaires, records
from handlers.admin import menu as admin_menu
from handlers.animator import (
    acting_for,
    announcements,
    attendance,
    changes,
    outreach,
    participants,
    spreadsheets,
    wizard,
)
from handlers.animator import menu as animator_menu
from handlers.consultations import creating as consultations
from handlers.evaluator import menu as evaluator_menu
from handlers.privacy import by_animator, rights
from handlers.resident import (
    activities,
    my_places,
    my_programmes,
    offers,
    onboarding,
    reminder_answers,
    series,
)
from handlers.surveys import paper, residents
from schedules.clock import Clock, SystemClock
from storage.db import make_engine
from storage.executor import Database
from storage.programmes.defaults import bind_defaults

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
    # The rules' defaults, where a programme sets none of its own, travel with the engine.
    engine = bind_defaults(make_engine(settings.database_url), settings.programme_defaults())
    db = database or Database(engine, settings.db_workers)
    services = Services(settings=settings, db=db, clock=clock or SystemClock())

    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .token(settings.token.get_secret_value())
        .base_url(f"{settings.api_url}/bot")
        .base_file_url(f"{settings.api_url}/file/bot")
        .context_types(ContextTypes(context=PalContext))
        .defaults(
            Defaults(
                link_preview_options=LinkPreviewOptions(is_disabled=True), tzinfo=settings.zone
            )
        )
        # Each person's updates in arrival order, different people in parallel.
        .concurrent_updates(PerPersonUpdateProcessor())
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
    )
    builder = builder.request(request or bot_api_request(settings))
    builder = builder.get_updates_request(
        get_updates_request or bot_api_request(settings, for_updates=True)
    )
    if not with_updater:
        builder = builder.updater(None)
    if rate_limiter is None and settings.rate_limit:
        rate_limiter = PacingRateLimiter(build_pacer(settings))
    if rate_limiter:
        builder = builder.rate_limiter(rate_limiter)
    application: PalApplication = builder.build()
    application.bot_data["services"] = services

    install_dispatcher(application)
    # Consultations open and close on their dates.
    install_consultations(application)
    _add_handlers(application)
    return application


# Group -10 runs first for every update: it loads who is speaking and their roles.
IDENTIFY_GROUP = -10


def _add_handlers(app: PalApplication) -> None:
    """Add every handler, in the order they must be tried."""
    app.add_handler(TypeHandler(Update, common.identify), group=IDENTIFY_GROUP)
    # Feature modules, most specific first. Each adds its commands' handlers, its
    # callback-data prefixes and the dialog kinds whose free text it consumes; the command
    # list for /help is handlers/commands.py.
    # Residents: /start and onboarding (its text reader runs in group -1, ahead of
    # everything, only for people still onboarding), activities, /my, menu and /help.
    onboarding.register(app)
    activities.register(app)
    series.register(app)
    my_programmes.register(app)
    my_places.register(app)
    menu.register(app)
    # Data rights: /privacy, /mydata, /forgetme (for anyone, onboarded or not), retention;
    # erasure by an animator for people without Telegram (from the person's card).
    rights.register(app)
    by_animator.register(app)
    # Animators: /animator and its tools (wizard, changes, attendance and /checkin,
    # participants, announcements, outreach, people without Telegram).
    animator_menu.register(app)
    for tool in (wizard, changes, attendance, participants, announcements, acting_for, outreach):
        tool.register(app)
    # Surveys: /survey and the form residents and animators' paper entry share, /paper.
    residents.register(app)
    paper.register(app)
    # Evaluators: /evaluator — indicators and the before/after comparison as files.
    evaluator_menu.register(app)
    # Reminders: "I'm coming" / "I can't come" (rem:y / rem:n), and noticing when a
    # person blocks or unblocks the bot (groups -9 and -8, after identify).
    reminder_answers.register(app)
    # Staff from the chat: invitation links (opened by /start inv_…, accepted with inv:
    # buttons), /admin (programmes, teams, invitations) and spreadsheets sent as documents.
    invitations.register(app)
    admin_menu.register(app)
    # Programmes from /admin (prg: buttons): dates, settings, archive, editions; the
    # questionnaire (its YAML reader goes before the spreadsheets'), surveys and records.
    new_programme.register(app)
    programmes.register(app)
    questionnaires.register(app)
    records.register(app)
    spreadsheets.register(app)
    # Offers of a freed place: "Take the place" / "Pass" (of:t / of:p), and their expiry.
    offers.register(app)
    # Consultations: staff create and follow them (anc:), residents answer (cr:, /consultations).
    consultations.register(app)
    # Catch-alls: unknown text, commands and buttons. Always last.
    fallback.register(app)
    app.add_error_handler(common.on_error)


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
