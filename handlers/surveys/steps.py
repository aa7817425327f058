"""The survey form's steps, shared by residents and animators entering paper surveys.

Every step runs in one transaction that re-checks whose response it is and which
question it is at (see storage.surveys.responses), stores the answer and moves the dialog. The
message is edited in place; after typed text a fresh message is sent and the old one
loses its buttons, so only the newest copy of the form is ever live.
"""

from __future__ import annotations

import contextlib
import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler

from bot.context import PalApplication, PalContext
from handlers.common import MAX_TEXT_INPUT, answer, caller_of, speak_as
from handlers.dialogs import on_text
from handlers.surveys.form import change_screen, form_screen, paused_screen, submitted_screen
from storage.dialogs import close_dialog
from storage.models import Dialog, Role
from storage.surveys.responses import (
    AlreadySubmitted,
    NotFinished,
    ResponseNotFound,
    StaleStep,
    SurveyError,
)
from storage.surveys.versions import SurveyUnavailable
from usecases.survey_steps import (
    KIND_PROXY,
    KIND_SELF,
    Actor,
    FormRefused,
    Step,
    keep_dialog,
    press_form_button,
    text_step,
)

log = logging.getLogger(__name__)


def actor_of(context: PalContext) -> Actor:
    """The pressing person as the form's rules need them."""
    person = context.viewer.person
    assert person is not None and person.id is not None
    return Actor(person.id, context.viewer.access)


async def show(
    update: Update,
    context: PalContext,
    text: str,
    markup: InlineKeyboardMarkup | None,
    *,
    toast: str | None = None,
) -> int | None:
    """Edit the pressed message (or send a new one); answer the press; the message id."""
    query = update.callback_query
    if query is not None:
        try:
            await query.answer(toast[:200] if toast else None)
        except BadRequest:
            log.debug("callback query too old to answer")
        if query.message is not None:
            try:
                await query.edit_message_text(text, reply_markup=markup)
                return query.message.message_id
            except BadRequest as exc:
                if "not modified" in str(exc).lower():
                    return query.message.message_id
    chat = update.effective_chat
    if chat is None:
        return None
    sent = await context.bot.send_message(chat.id, text, reply_markup=markup)
    return sent.message_id


def refusal_text(context: PalContext, error: SurveyError) -> str:
    """A short, kind sentence for a refused step."""
    t = context.t
    if isinstance(error, AlreadySubmitted):
        return t._("These answers were already sent on {date}. Thank you!").format(
            date=t.date(error.submitted_at)
        )
    if isinstance(error, StaleStep):
        return t._("This button belongs to an earlier question. Please use the newest message.")
    if isinstance(error, NotFinished):
        return t._("Please answer or skip every question first.")
    if isinstance(error, SurveyUnavailable):
        return t._("The survey is not available right now. Please try again later.")
    return t._("This button is no longer active. Open the menu again.")


async def on_form_button(update: Update, context: PalContext) -> None:
    """Every `sv:<action>:<response>…` press of the form."""
    query = update.callback_query
    assert query is not None and context.matches is not None
    match = context.matches[0]
    action, response_id = match.group(1), int(match.group(2))
    if (action in "akbse" and match.group(3) is None) or (action == "a") != bool(match.group(4)):
        await answer(update, context, refusal_text(context, ResponseNotFound(response_id)))
        return
    index = int(match.group(3)) if match.group(3) else 0
    choice = int(match.group(4)) if match.group(4) else 0
    message_id = query.message.message_id if query.message is not None else None
    try:
        press = await context.db.write(
            press_form_button,
            caller=caller_of(update, context),
            action=action,
            response_id=response_id,
            index=index,
            choice=choice,
            now=context.services.clock.now(),
            message_id=message_id,
        )
    except FormRefused as refused:
        speak_as(context, refused.resident)
        if refused.error is None:
            await answer(update, context, context.t._("First, let's get you set up: send /start."))
            return
        log.info(
            "survey step refused: %s person_id=%s response_id=%s",
            type(refused.error).__name__,
            refused.resident.person_id,
            response_id,
        )
        await answer(update, context, refusal_text(context, refused.error))
        return
    speak_as(context, press.resident)
    step = press.step
    t = context.t
    if action == "w":
        await show(update, context, *submitted_screen(t, step.view, proxy_name=step.proxy_name))
        log.info(
            "survey submitted response_id=%s channel=%s", response_id, step.view.response.channel
        )
        return
    if action == "p":
        await show(update, context, *paused_screen(t, step.view, proxy_name=step.proxy_name))
        return
    screen = (
        change_screen(t, step.view, proxy_name=step.proxy_name)
        if action == "c"
        else form_screen(t, step.view, proxy_name=step.proxy_name)
    )
    shown = await show(update, context, *screen)
    if shown is not None and shown != message_id:
        # The old message could not be edited, so a new one carries the form now.
        await context.db.write(keep_dialog, press.actor, step, shown)


# ---------------------------------------------------------------- typed answers


def _hint(context: PalContext, step: Step) -> str | None:
    t = context.t
    if step.hint == "buttons":
        return t._("👉 Please choose an answer with the buttons below, or press “⏭ Skip”.")
    if step.hint == "summary":
        return t._("👉 Please use the buttons below: “📨 Submit” or “✏️ Change an answer”.")
    if step.hint == "control":
        return t._(
            "👉 Your answer has invisible or special control characters (often from "
            "copying). Please type it again."
        )
    if step.hint == "too_long":
        item = step.view.current
        limit = item.max_length if item is not None and item.max_length else 0
        return t.ngettext(
            "👉 That is too long: at most {n} character. Please write it shorter.",
            "👉 That is too long: at most {n} characters. Please write it shorter.",
            limit,
        ).format(n=limit)
    return None


async def strip_buttons(context: PalContext, chat_id: int, message_id: int | None) -> None:
    """Take the buttons off an older form message, so only the newest one is live."""
    if message_id is None:
        return
    with contextlib.suppress(BadRequest):  # already without buttons, or gone
        await context.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)


async def send_form(
    update: Update,
    context: PalContext,
    step: Step,
    *,
    old_message_id: int | None,
    hint: str | None = None,
) -> None:
    """Send the form's current screen as a new message and make it the live one."""
    chat = update.effective_chat
    assert chat is not None
    await strip_buttons(context, chat.id, old_message_id)
    text, markup = form_screen(context.t, step.view, proxy_name=step.proxy_name, hint=hint)
    sent = await context.bot.send_message(chat.id, text, reply_markup=markup)
    await context.db.write(keep_dialog, actor_of(context), step, sent.message_id)


async def on_form_text(update: Update, context: PalContext, dialog: Dialog) -> None:
    """A typed message while the form is open: a text answer, or a hint to use buttons."""
    message = update.effective_message
    assert message is not None and message.text is not None
    response_id = dialog.data.get("response_id")
    if not isinstance(response_id, int):
        await context.db.write(close_dialog, person_id=dialog.person_id, kind=dialog.kind)
        await answer(
            update, context, context.t._("This button is no longer active. Open the menu again.")
        )
        return
    try:
        step = await context.db.write(
            text_step,
            max_text=MAX_TEXT_INPUT,
            response_id=response_id,
            text=message.text,
            actor=actor_of(context),
            now=context.services.clock.now(),
        )
    except SurveyError as exc:
        if isinstance(exc, ResponseNotFound):
            await context.db.write(close_dialog, person_id=dialog.person_id, kind=dialog.kind)
        await answer(update, context, refusal_text(context, exc))
        return
    await send_form(
        update, context, step, old_message_id=dialog.message_id, hint=_hint(context, step)
    )


on_text(KIND_SELF)(on_form_text)
on_text(KIND_PROXY, role=Role.ANIMATOR)(on_form_text)


def register(app: PalApplication) -> None:
    """Add the form's buttons (`sv:<action>:<response>…`)."""
    app.add_handler(
        CallbackQueryHandler(
            on_form_button, pattern=r"^sv:([abkspcevw]):(\d{1,12})(?::(\d{1,3}))?(?::(\d{1,2}))?$"
        )
    )
