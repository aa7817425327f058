"""Answers to a reminder, and noticing when a person blocks or unblocks the bot.

Callback data: `rem:y:<registration id>` ("I'm coming") and `rem:n:<registration id>`
("I can't come", which frees the place at once for the reserve list). The registration
must be the presser's own: the person comes from the update, never from the button.
"""

from __future__ import annotations

import logging

from telegram import ChatMemberUpdated, Message, Update
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, ChatMemberHandler, TypeHandler

from bot.context import PalApplication, PalContext
from handlers.common import answer, caller_of
from handlers.resident.activities import not_onboarded
from schedules.reminder_notices import COMING_PREFIX, NOT_COMING_PREFIX
from storage.messaging.outbox import person_blocked_bot, person_is_back
from storage.messaging.reminder_answers import AnswerRefused
from translations import Translator
from usecases.registrations import answer_reminder

log = logging.getLogger(__name__)

# Right after `identify` (group -10): one group per handler, since a group runs only
# its first matching handler and the first one matches every update.
BACK_AGAIN_GROUP = -9
CHAT_MEMBER_GROUP = -8


def _registration_id(data: str | None, prefix: str) -> int | None:
    raw = (data or "").removeprefix(prefix)
    return int(raw) if raw.isdigit() and len(raw) <= 12 else None


def _refusal(t: Translator, reason: AnswerRefused) -> str:
    texts = {
        AnswerRefused.NOT_YOURS: t._("This button is no longer active. Open the menu again."),
        AnswerRefused.NO_PLACE: t._("You are not signed up for this activity."),
        AnswerRefused.CANCELLED: t._("❌ This activity has been called off."),
        AnswerRefused.STARTED: t._("This activity has already started."),
    }
    return texts[reason]


async def _close_reminder(update: Update, line: str) -> None:
    """Take the buttons off the reminder and add what was decided, in one edit."""
    query = update.callback_query
    message = query.message if query is not None else None
    if not isinstance(message, Message) or message.text is None:
        return
    try:
        await message.edit_text(f"{message.text}\n\n{line}", reply_markup=None)
    except BadRequest:
        # Unchanged (a second tap) or too old to edit: the answer toast already said it.
        log.debug("reminder message not edited", exc_info=True)


async def _answer_reminder(update: Update, context: PalContext, *, coming: bool) -> None:
    query = update.callback_query
    assert query is not None
    prefix = COMING_PREFIX if coming else NOT_COMING_PREFIX
    registration_id = _registration_id(query.data, prefix)
    assert registration_id is not None  # the handler's pattern guarantees the digits
    outcome = await context.db.write(
        answer_reminder,
        caller=caller_of(update, context),
        registration_id=registration_id,
        coming=coming,
        now=context.services.clock.now(),
    )
    if await not_onboarded(update, context, outcome.resident):
        return
    t = context.t
    if outcome.refused is not None:
        log.info(
            "reminder answer refused: %s registration_id=%s person_id=%s",
            outcome.refused.value,
            registration_id,
            outcome.resident.person_id,
        )
        await answer(update, context, _refusal(t, outcome.refused), alert=True)
        return
    if coming:
        await answer(update, context, t._("Thank you! See you there."))
        await _close_reminder(update, t._("✅ You are coming. See you there!"))
        return
    log.info(
        "place given up from a reminder: registration_id=%s promoted=%s",
        registration_id,
        outcome.promoted,
    )
    await answer(update, context, t._("Thank you for letting us know."))
    await _close_reminder(
        update,
        t._(
            "🙏 Thank you for letting us know. Your place now goes to the next person on the "
            "reserve list."
        )
        if outcome.promoted
        else t._("🙏 Thank you for letting us know. Your place is now free for someone else."),
    )


async def on_coming(update: Update, context: PalContext) -> None:
    """ "I'm coming": note it and thank the resident."""
    await _answer_reminder(update, context, coming=True)


async def on_not_coming(update: Update, context: PalContext) -> None:
    """ "I can't come": free the place now (the reserve list moves up) and thank them."""
    await _answer_reminder(update, context, coming=False)


async def note_back(update: Update, context: PalContext) -> None:
    """Someone marked unreachable wrote or pressed something: they can be reached again."""
    person = context.viewer.person if context.viewer_ is not None else None
    if person is not None and person.unreachable_at is not None:
        await context.db.write(person_is_back, telegram_id=context.viewer.telegram_id)


async def on_my_chat_member(update: Update, context: PalContext) -> None:
    """The person blocked (or unblocked) the bot: stop (or resume) sending to them."""
    change: ChatMemberUpdated | None = update.my_chat_member
    if change is None:
        return
    telegram_id = change.from_user.id
    status = change.new_chat_member.status
    if status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
        person_id = await context.db.write(
            person_blocked_bot, telegram_id=telegram_id, now=context.services.clock.now()
        )
        log.info("person %s blocked the bot", person_id)
    elif status == ChatMemberStatus.MEMBER:
        await context.db.write(person_is_back, telegram_id=telegram_id)


def register(app: PalApplication) -> None:
    """Add the reminder buttons and the reachability watchers."""
    app.add_handler(TypeHandler(Update, note_back), group=BACK_AGAIN_GROUP)
    app.add_handler(
        ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER),
        group=CHAT_MEMBER_GROUP,
    )
    app.add_handler(CallbackQueryHandler(on_coming, pattern=r"^rem:y:\d{1,12}$"))
    app.add_handler(CallbackQueryHandler(on_not_coming, pattern=r"^rem:n:\d{1,12}$"))
