"""The survey form's steps, shared by residents and animators entering paper surveys.

Every step runs in one transaction that re-checks whose response it is and which
question it is at (see storage.surveys), stores the answer and moves the dialog. The
message is edited in place; after typed text a fresh message is sent and the old one
loses its buttons, so only the newest copy of the form is ever live.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session
from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler

from bot.context import PalApplication, PalContext
from handlers.common import MAX_TEXT_INPUT, answer
from handlers.dialogs import on_text
from handlers.survey_form import change_screen, form_screen, paused_screen, submitted_screen
from storage.access import Access, Action, may
from storage.audit import record
from storage.dialogs import close_dialog, save_dialog
from storage.models import Dialog, Person, Role, SurveyResponse
from storage.questionnaires import ItemType
from storage.survey_versions import SurveyUnavailable
from storage.surveys import (
    AlreadySubmitted,
    AnswerNotPlainText,
    AnswerTooLong,
    Channel,
    InvalidAnswer,
    NotFinished,
    ResponseNotFound,
    ResponseView,
    StaleStep,
    SurveyError,
    back,
    choice_value,
    go_to,
    response_owner,
    submit,
    to_summary,
    view,
)
from storage.surveys import answer as store_answer

log = logging.getLogger(__name__)
KIND_SELF = "survey"
KIND_PROXY = "paper_survey"


@dataclass(frozen=True)
class Actor:
    """Who is pressing: their person id, and their grants (for paper surveys)."""

    person_id: int
    access: Access


@dataclass(frozen=True)
class Step:
    """What a form step left: the response as it is now, and whose paper survey it is."""

    view: ResponseView
    proxy_name: str | None
    hint: str | None = None


def actor_of(context: PalContext) -> Actor:
    """The pressing person as the form's rules need them."""
    person = context.viewer.person
    assert person is not None and person.id is not None
    return Actor(person.id, context.viewer.access)


def _kind(proxy_name: str | None) -> str:
    return KIND_SELF if proxy_name is None else KIND_PROXY


def authorise(session: Session, response: SurveyResponse, actor: Actor) -> str | None:
    """Check the actor may work on this response; the paper participant's name, if any.

    Raises ResponseNotFound for someone else's survey, so forged buttons learn nothing.
    """
    owner_id = response_owner(session, response)
    if response.channel == Channel.CHAT.value:
        if owner_id != actor.person_id:
            raise ResponseNotFound(response.id)
        return None
    # Paper surveys: the access rule for acting for this person, in the response's programme.
    owner = session.get(Person, owner_id) if owner_id is not None else None
    if (owner is None or not may(actor.access, Action.ACT_FOR_PERSON, person=owner)
            or not may(actor.access, Action.WORK_IN_PROGRAMME,
                       programme_id=response.programme_id)):
        raise ResponseNotFound(response.id)
    return owner.display_name or "?"


def keep_dialog(session: Session, actor: Actor, step: Step, message_id: int | None) -> None:
    """Remember which response the actor's chat is on and the message that shows it."""
    assert step.view.response.id is not None
    # The person may already have pressed Submit on the message just sent (in another
    # process): under the response's lock, a submitted survey keeps no open form.
    response = session.get(SurveyResponse, step.view.response.id, with_for_update=True)
    if response is None or response.submitted_at is not None:
        return
    save_dialog(session, person_id=actor.person_id, kind=_kind(step.proxy_name), step="form",
                data={"response_id": step.view.response.id}, awaits_text=True,
                message_id=message_id)


def _form_step(
    session: Session, *, action: str, response_id: int, index: int, choice: int,
    actor: Actor, now: datetime, message_id: int | None,
) -> Step:
    response = session.get(SurveyResponse, response_id)
    if response is None:
        raise ResponseNotFound(response_id)
    proxy_name = authorise(session, response, actor)
    if action == "a":
        current = view(session, response)
        if not 0 <= index < current.total:
            raise StaleStep(response.position)
        # Text questions have no choices, so a forged button for one is refused here too.
        value = choice_value(current.items[index], choice)
        result = store_answer(session, response_id=response_id, index=index, value=value,
                              now=now)
    elif action == "k":
        result = store_answer(session, response_id=response_id, index=index, value=None,
                              now=now)
    elif action == "b":
        result = back(session, response_id=response_id, index=index)
    elif action == "s":
        result = to_summary(session, response_id=response_id, index=index)
    elif action == "e":
        result = go_to(session, response_id=response_id, index=index)
    elif action == "w":
        result = submit(session, response_id=response_id, now=now)
        close_dialog(session, person_id=actor.person_id, kind=_kind(proxy_name))
        if proxy_name is not None:
            record(session, actor_id=actor.person_id, action="survey.paper_submitted",
                   subject_type="survey_response", subject_id=response_id,
                   details={"phase": response.phase, "programme_id": response.programme_id})
        return Step(result, proxy_name)
    else:  # p, c, v: nothing changes, but only on a response still open
        if response.submitted_at is not None:
            raise AlreadySubmitted(response.submitted_at)
        result = view(session, response)
    step = Step(result, proxy_name)
    keep_dialog(session, actor, step, message_id)
    if action == "p":
        save_dialog(session, person_id=actor.person_id, kind=_kind(proxy_name), step="paused",
                    awaits_text=False)
    return step


async def show(
    update: Update, context: PalContext, text: str, markup: InlineKeyboardMarkup | None,
    *, toast: str | None = None,
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
            date=t.date(error.submitted_at))
    if isinstance(error, StaleStep):
        return t._("This button belongs to an earlier question. Please use the newest "
                   "message.")
    if isinstance(error, NotFinished):
        return t._("Please answer or skip every question first.")
    if isinstance(error, SurveyUnavailable):
        return t._("The survey is not available right now. Please try again later.")
    return t._("This button is no longer active. Open the menu again.")


async def on_form_button(update: Update, context: PalContext) -> None:
    """Every `sv:<action>:<response>…` press of the form."""
    query = update.callback_query
    assert query is not None and context.matches is not None
    if context.viewer.person is None or context.viewer.person.id is None:
        await answer(update, context, context.t._("First, let's get you set up: send /start."))
        return
    match = context.matches[0]
    action, response_id = match.group(1), int(match.group(2))
    if (action in "akbse" and match.group(3) is None) or (action == "a") != bool(match.group(4)):
        await answer(update, context, refusal_text(context, ResponseNotFound(response_id)))
        return
    index = int(match.group(3)) if match.group(3) else 0
    choice = int(match.group(4)) if match.group(4) else 0
    actor = actor_of(context)
    message_id = query.message.message_id if query.message is not None else None
    try:
        step = await context.db.write(
            _form_step, action=action, response_id=response_id, index=index, choice=choice,
            actor=actor, now=context.services.clock.now(), message_id=message_id)
    except SurveyError as exc:
        log.info("survey step refused: %s person_id=%s response_id=%s", type(exc).__name__,
                 actor.person_id, response_id)
        await answer(update, context, refusal_text(context, exc))
        return
    t = context.t
    if action == "w":
        await show(update, context, *submitted_screen(t, step.view, proxy_name=step.proxy_name))
        log.info("survey submitted response_id=%s channel=%s", response_id,
                 step.view.response.channel)
        return
    if action == "p":
        await show(update, context, *paused_screen(t, step.view, proxy_name=step.proxy_name))
        return
    screen = (change_screen(t, step.view, proxy_name=step.proxy_name) if action == "c"
              else form_screen(t, step.view, proxy_name=step.proxy_name))
    shown = await show(update, context, *screen)
    if shown is not None and shown != message_id:
        # The old message could not be edited, so a new one carries the form now.
        await context.db.write(keep_dialog, actor, step, shown)


# ---------------------------------------------------------------- typed answers


def _text_step(
    session: Session, *, response_id: int, text: str, actor: Actor, now: datetime
) -> Step:
    response = session.get(SurveyResponse, response_id)
    if response is None:
        raise ResponseNotFound(response_id)
    proxy_name = authorise(session, response, actor)
    if response.submitted_at is not None:
        close_dialog(session, person_id=actor.person_id, kind=_kind(proxy_name))
        raise AlreadySubmitted(response.submitted_at)
    current = view(session, response)
    item = current.current
    if item is None:
        return Step(current, proxy_name, hint="summary")
    if item.type != ItemType.TEXT:
        return Step(current, proxy_name, hint="buttons")
    if len(text) > MAX_TEXT_INPUT:
        return Step(current, proxy_name, hint="too_long")
    try:
        result = store_answer(session, response_id=response_id, index=response.position,
                              value=text, now=now)
    except AnswerTooLong:
        return Step(current, proxy_name, hint="too_long")
    except AnswerNotPlainText:
        return Step(current, proxy_name, hint="control")
    except InvalidAnswer:
        return Step(current, proxy_name, hint="buttons")
    return Step(result, proxy_name)


def _hint(context: PalContext, step: Step) -> str | None:
    t = context.t
    if step.hint == "buttons":
        return t._("👉 Please choose an answer with the buttons below, or press “⏭ Skip”.")
    if step.hint == "summary":
        return t._("👉 Please use the buttons below: “📨 Submit” or “✏️ Change an answer”.")
    if step.hint == "control":
        return t._("👉 Your answer has invisible or special control characters (often from "
                   "copying). Please type it again.")
    if step.hint == "too_long":
        item = step.view.current
        limit = item.max_length if item is not None and item.max_length else 0
        return t.ngettext("👉 That is too long: at most {n} character. Please write it shorter.",
                          "👉 That is too long: at most {n} characters. Please write it "
                          "shorter.", limit).format(n=limit)
    return None


async def strip_buttons(context: PalContext, chat_id: int, message_id: int | None) -> None:
    """Take the buttons off an older form message, so only the newest one is live."""
    if message_id is None:
        return
    with contextlib.suppress(BadRequest):  # already without buttons, or gone
        await context.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)


async def send_form(
    update: Update, context: PalContext, step: Step, *, old_message_id: int | None,
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
        await answer(update, context, context.t._("This button is no longer active. Open the "
                                                  "menu again."))
        return
    try:
        step = await context.db.write(_text_step, response_id=response_id, text=message.text,
                                      actor=actor_of(context), now=context.services.clock.now())
    except SurveyError as exc:
        if isinstance(exc, ResponseNotFound):
            await context.db.write(close_dialog, person_id=dialog.person_id, kind=dialog.kind)
        await answer(update, context, refusal_text(context, exc))
        return
    await send_form(update, context, step, old_message_id=dialog.message_id,
                    hint=_hint(context, step))


on_text(KIND_SELF)(on_form_text)
on_text(KIND_PROXY, role=Role.ANIMATOR)(on_form_text)


def register(app: PalApplication) -> None:
    """Add the form's buttons (`sv:<action>:<response>…`)."""
    app.add_handler(CallbackQueryHandler(
        on_form_button, pattern=r"^sv:([abkspcevw]):(\d{1,12})(?::(\d{1,3}))?(?::(\d{1,2}))?$"))
