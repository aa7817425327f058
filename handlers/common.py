"""Cross-cutting handler pieces: who is speaking, role checks, bad input, errors."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import ApplicationHandlerStop

from bot.context import PalContext, Viewer
from bot.keyboards import MenuAction, main_menu, menu_action_for
from storage.db import DatabaseUnavailable
from storage.models import Role
from storage.people.identity import Resident
from translations import normalise_language
from usecases.caller import Caller, sender_of

log = logging.getLogger(__name__)
Handler = Callable[[Update, PalContext], Awaitable[None]]
H = TypeVar("H", bound=Handler)

# Telegram allows 4096 characters; anything near that from a resident is not an answer.
MAX_TEXT_INPUT = 2000


# Residents' most frequent taps: their use case identifies the sender inside the tap's
# own transaction, so identify() leaves the database alone for them (one thread hop
# and one transaction per tap). Their handlers never read context.viewer.
SELF_IDENTIFYING_BUTTONS = re.compile(
    r"^(?:acts:\d{1,4}|act:\d{1,12}|su:\d{1,12}|cx:\d{1,12}|cxy:\d{1,12}|my|rem:[yn]:\d{1,12}"
    r"|sv:[abkspcevw]:\d{1,12}(?::\d{1,3})?(?::\d{1,2})?)$"
)
SELF_IDENTIFYING_COMMANDS = re.compile(
    r"^/(?:activities|my|start)(?:@\w+)?$|^/start(?:@\w+)? act_\d{1,12}$"
)


# The main-menu buttons (they arrive as text) that open those same screens.
SELF_IDENTIFYING_MENU = frozenset({MenuAction.ACTIVITIES, MenuAction.MY})


def identifies_itself(update: Update) -> bool:
    """Whether the update goes to a handler whose use case identifies the sender."""
    query = update.callback_query
    if query is not None:
        return SELF_IDENTIFYING_BUTTONS.match(query.data or "") is not None
    message = update.message
    if message is not None and message.text is not None and not update.edited_message:
        text = message.text.strip()
        return (
            SELF_IDENTIFYING_COMMANDS.match(text) is not None
            or menu_action_for(text) in SELF_IDENTIFYING_MENU
        )
    return False


async def identify(update: Update, context: PalContext) -> None:
    """Load the sender and their roles once per update (handler group -10)."""
    user = update.effective_user
    if user is None or user.is_bot:
        raise ApplicationHandlerStop
    chat = update.effective_chat
    if chat is not None and chat.type != chat.PRIVATE:
        # The bot serves people one-to-one; group chats would leak names and answers.
        raise ApplicationHandlerStop
    fallback = normalise_language(user.language_code, context.settings.default_language)
    if identifies_itself(update):
        context.language_ = fallback
        return
    sender = await context.db.read(
        sender_of, telegram_id=user.id, admin_ids=context.settings.admin_ids
    )
    person = sender.person
    context.viewer_ = Viewer(
        user.id,
        person,
        sender.access.roles,
        person.language if person else fallback,
        sender.access,
        sender.actor,
    )


def caller_of(update: Update, context: PalContext) -> Caller:
    """The sender as a use case takes them."""
    user = update.effective_user
    assert user is not None
    return Caller(
        user.id,
        context.settings.admin_ids,
        normalise_language(user.language_code, context.settings.default_language),
    )


def speak_as(context: PalContext, resident: Resident) -> None:
    """Answer the rest of this update in the resident's own language."""
    context.language_ = resident.language


async def answer(update: Update, context: PalContext, text: str, *, alert: bool = False) -> None:
    """Say something short: as a callback notice for a button, else as a message."""
    query = update.callback_query
    if query is not None:
        try:
            await query.answer(text[:200], show_alert=alert)
        except BadRequest:
            # Too old to answer (over ~15 minutes): say it as a message instead.
            if query.message is not None:
                await context.bot.send_message(query.message.chat.id, text)
        return
    if update.effective_message is not None:
        await update.effective_message.reply_text(text)


def requires_role(role: Role) -> Callable[[H], H]:
    """Let only `role` (or admins) through; everyone else gets a polite refusal."""

    def decorate(handler: H) -> H:
        @functools.wraps(handler)
        async def guarded(update: Update, context: PalContext) -> None:
            if not context.viewer.can(role):
                # No Telegram id in logs: they would outlive the person's erasure.
                log.info("role refused: needed=%s", role.value)
                await answer(update, context, context.t._("This is only for the programme team."))
                return
            await handler(update, context)

        return guarded  # type: ignore[return-value]

    return decorate


def requires_onboarding(handler: H) -> H:
    """Ask people who have not finished the first steps to do that first."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: PalContext) -> None:
        if not context.viewer.is_onboarded:
            await answer(update, context, context.t._("First, let's get you set up: send /start."))
            return
        await handler(update, context)

    return guarded  # type: ignore[return-value]


async def show_main_menu(update: Update, context: PalContext, text: str | None = None) -> None:
    """Send the main menu keyboard with a short line of text."""
    t = context.t
    chat = update.effective_chat
    if chat is None:
        return
    await context.bot.send_message(
        chat.id,
        text or t._("What would you like to do? Choose below."),
        reply_markup=main_menu(t, context.viewer.roles),
    )


async def on_error(update: object, context: PalContext) -> None:
    """The one error handler: log without personal data and tell the user kindly."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    if isinstance(error, Forbidden):
        log.info("user blocked the bot (update_id=%s)", update_id)
        return
    if isinstance(error, DatabaseUnavailable):
        log.warning("database unavailable (update_id=%s): %s", update_id, error)
    else:
        # exc_info carries the traceback; it holds ids, never message texts.
        log.error(
            "error handling update_id=%s: %s", update_id, type(error).__name__, exc_info=error
        )
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            t = context.t
            text = (
                t._("Temporary problem on our side. Please try again in a moment.")
                if isinstance(error, DatabaseUnavailable)
                else t._("Something went wrong on our side. Please try again in a moment.")
            )
            await answer(update, context, text)
        except Exception:  # the error reply must never raise from the error handler
            log.debug("could not tell the user about the error", exc_info=True)
        # Later handler groups must not run on a half-handled update (e.g. without a viewer
        # when identify could not reach the database): one answer, then stop.
        raise ApplicationHandlerStop


def too_long(text: str) -> bool:
    """Whether a message is too long to be a sensible answer."""
    return len(text) > MAX_TEXT_INPUT
