"""Surveys in the chat: /survey, the offer after a first sign-up, and the form's steps.

One state machine serves both entry points: a resident answering their own survey, and
an animator entering a paper survey (handlers/paper.py). Every step runs in one
transaction that re-checks whose response it is and which question it is at (see
storage.surveys), stores the answer and moves the dialog. The message is edited in
place; after typed text a fresh message is sent and the old one loses its buttons.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select
from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler

import schedules.survey_followups  # noqa: F401 — registers the invitation renderers
from bot.context import PalApplication, PalContext
from handlers.common import MAX_TEXT_INPUT, answer, requires_onboarding
from handlers.dialogs import on_text
from handlers.survey_form import (
    LETTER_PHASE,
    change_screen,
    form_screen,
    intro_screen,
    paused_screen,
    submitted_screen,
)
from schedules.survey_followups import schedule_followups
from storage.audit import record
from storage.dialogs import close_dialog, get_dialog, save_dialog
from storage.models import (
    Activity,
    Dialog,
    ParticipantCode,
    Person,
    Programme,
    Registration,
    Role,
    SurveyResponse,
)
from storage.questionnaires import ItemType, Questionnaire, SurveyPhase
from storage.roles import animator_programmes
from storage.survey_versions import SurveyUnavailable, current_questionnaire
from storage.surveys import (
    AlreadySubmitted,
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
    find_response,
    go_to,
    phase_due,
    phase_open,
    resident_programme_id,
    response_owner,
    start_or_resume,
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
    """Who is pressing: their person id, and whether they may enter paper surveys."""

    person_id: int
    telegram_id: int
    is_animator: bool
    admin_ids: frozenset[int]


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
    return Actor(person.id, context.viewer.telegram_id, context.viewer.can(Role.ANIMATOR),
                 context.settings.admin_ids)


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
    if not actor.is_animator:
        raise ResponseNotFound(response.id)
    programmes = animator_programmes(session, actor.telegram_id, actor.admin_ids)
    owner = session.get(Person, owner_id) if owner_id is not None else None
    if (owner is None or not owner.is_proxy or owner.erased_at is not None
            or (programmes is not None and response.programme_id not in programmes)):
        raise ResponseNotFound(response.id)
    return owner.display_name or "?"


def keep_dialog(session: Session, actor: Actor, step: Step, message_id: int | None) -> None:
    """Remember which response the actor's chat is on and the message that shows it."""
    assert step.view.response.id is not None
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
        log.info("survey step refused: %s user_id=%s response_id=%s", type(exc).__name__,
                 actor.telegram_id, response_id)
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
    if action == "c":
        await show(update, context, *change_screen(t, step.view, proxy_name=step.proxy_name))
        return
    await show(update, context, *form_screen(t, step.view, proxy_name=step.proxy_name))


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
    except InvalidAnswer:
        return Step(current, proxy_name, hint="buttons")
    return Step(result, proxy_name)


def _hint(context: PalContext, step: Step) -> str | None:
    t = context.t
    if step.hint == "buttons":
        return t._("👉 Please choose an answer with the buttons below, or press “⏭ Skip”.")
    if step.hint == "summary":
        return t._("👉 Please use the buttons below: “📨 Submit” or “✏️ Change an answer”.")
    if step.hint == "too_long":
        item = step.view.current
        limit = item.max_length if item is not None and item.max_length else 0
        return t.ngettext("👉 That is too long: at most {n} character. Please write it shorter.",
                          "👉 That is too long: at most {n} characters. Please write it "
                          "shorter.", limit).format(n=limit)
    return None


async def _strip_buttons(context: PalContext, chat_id: int, message_id: int | None) -> None:
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
    await _strip_buttons(context, chat.id, old_message_id)
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
on_text(KIND_PROXY)(on_form_text)


# ---------------------------------------------------------------- a resident's own survey


def _belongs(session: Session, person: Person, programme_id: int) -> bool:
    if resident_programme_id(session, person) == programme_id:
        return True
    signed_up = session.exec(
        select(Registration.id)
        .join(Activity, col(Activity.id) == col(Registration.activity_id))
        .where(Registration.person_id == person.id, Activity.programme_id == programme_id)
    ).first()
    has_code = session.exec(select(ParticipantCode.id).where(
        ParticipantCode.person_id == person.id, ParticipantCode.programme_id == programme_id
    )).first()
    return signed_up is not None or has_code is not None


@dataclass(frozen=True)
class OwnSurvey:
    """Where a resident stands with the survey due now in their programme."""

    programme: Programme | None
    phase: SurveyPhase = SurveyPhase.INITIAL
    questionnaire: Questionnaire | None = None
    in_progress: Step | None = None
    submitted_at: datetime | None = None
    old_message_id: int | None = None


def _own_survey(session: Session, *, actor: Actor, surveys_dir: str | None) -> OwnSurvey:
    person = session.get(Person, actor.person_id)
    programme_id = resident_programme_id(session, person) if person is not None else None
    programme = session.get(Programme, programme_id) if programme_id is not None else None
    if programme is None or programme.id is None:
        return OwnSurvey(None)
    phase = phase_due(programme)
    dialog = get_dialog(session, person_id=actor.person_id, kind=KIND_SELF)
    old_message = dialog.message_id if dialog is not None else None
    response = find_response(session, person_id=actor.person_id, programme_id=programme.id,
                             phase=phase)
    if response is not None and response.submitted_at is not None:
        return OwnSurvey(programme, phase, submitted_at=response.submitted_at)
    if response is not None:
        return OwnSurvey(programme, phase, in_progress=Step(view(session, response), None),
                         old_message_id=old_message)
    q = current_questionnaire(session, programme, surveys_dir)
    return OwnSurvey(programme, phase, questionnaire=q, old_message_id=old_message)


@requires_onboarding
async def survey_command(update: Update, context: PalContext) -> None:
    """/survey and the 📝 Survey button: start, resume, or say it is done."""
    t = context.t
    try:
        own = await context.db.read(_own_survey, actor=actor_of(context),
                                    surveys_dir=context.settings.surveys_dir)
    except SurveyUnavailable as exc:
        await answer(update, context, refusal_text(context, exc))
        return
    if own.programme is None or own.programme.id is None:
        await answer(update, context, t._("The survey is for people taking part in a programme. "
                                          "Sign up for an activity first: /activities"))
        return
    if own.submitted_at is not None:
        if own.phase == SurveyPhase.INITIAL:
            text = t._("You answered the initial survey on {date}. Thank you! The final survey "
                       "will open near the end of the programme.")
        else:
            text = t._("You answered the final survey on {date}. Thank you for taking part!")
        await answer(update, context, text.format(date=t.date(own.submitted_at)))
        return
    if own.in_progress is not None:
        await send_form(update, context, own.in_progress, old_message_id=own.old_message_id,
                        hint=t._("Welcome back! Continue where you stopped."))
        return
    assert own.questionnaire is not None
    chat = update.effective_chat
    assert chat is not None
    await _strip_buttons(context, chat.id, own.old_message_id)
    text, markup = intro_screen(t, own.questionnaire, own.phase, own.programme.id)
    await context.bot.send_message(chat.id, text, reply_markup=markup)


def _open_own(
    session: Session, *, actor: Actor, programme_id: int, phase: SurveyPhase, now: datetime,
    message_id: int | None, surveys_dir: str | None,
) -> Step:
    person = session.get(Person, actor.person_id)
    programme = session.get(Programme, programme_id)
    if (person is None or programme is None or not phase_open(programme, phase)
            or not _belongs(session, person, programme_id)):
        raise ResponseNotFound(programme_id)
    response = start_or_resume(session, person_id=actor.person_id, programme=programme,
                               phase=phase, channel=Channel.CHAT, now=now,
                               surveys_dir=surveys_dir)
    # Started here without an invitation: the same gentle reminder if left unfinished.
    schedule_followups(session, person_id=actor.person_id, programme=programme, phase=phase,
                       offered_at=now)
    step = Step(view(session, response), None)
    keep_dialog(session, actor, step, message_id)
    return step


async def on_open_survey(update: Update, context: PalContext) -> None:
    """`sv:go:<programme>:<i|f>`: the intro's Continue, or an invitation's button."""
    assert context.matches is not None and update.callback_query is not None
    if context.viewer.person is None or not context.viewer.is_onboarded:
        await answer(update, context, context.t._("First, let's get you set up: send /start."))
        return
    programme_id = int(context.matches[0].group(1))
    phase = LETTER_PHASE[context.matches[0].group(2)]
    message = update.callback_query.message
    try:
        step = await context.db.write(
            _open_own, actor=actor_of(context), programme_id=programme_id, phase=phase,
            now=context.services.clock.now(),
            message_id=message.message_id if message is not None else None,
            surveys_dir=context.settings.surveys_dir)
    except SurveyError as exc:
        if isinstance(exc, ResponseNotFound):
            exc_text = context.t._("This survey is closed now. Send /survey to see what is "
                                   "open for you.")
            await answer(update, context, exc_text, alert=True)
        else:
            await answer(update, context, refusal_text(context, exc), alert=True)
        return
    await show(update, context, *form_screen(context.t, step.view))


# ---------------------------------------------------------------- offer after sign-up


def _offer_due(
    session: Session, *, person_id: int, programme_id: int, now: datetime,
    surveys_dir: str | None,
) -> Questionnaire | None:
    person = session.get(Person, person_id)
    programme = session.get(Programme, programme_id)
    if (person is None or person.telegram_id is None or person.erased_at is not None
            or programme is None or not phase_open(programme, SurveyPhase.INITIAL)):
        return None
    if find_response(session, person_id=person_id, programme_id=programme_id,
                     phase=SurveyPhase.INITIAL) is not None:
        return None
    sign_ups = session.exec(
        select(func.count(col(Registration.id)))
        .join(Activity, col(Activity.id) == col(Registration.activity_id))
        .where(Registration.person_id == person_id, Activity.programme_id == programme_id)
    ).one()
    if sign_ups != 1:
        return None  # offered at the first sign-up only; /survey is always there
    try:
        q = current_questionnaire(session, programme, surveys_dir)
    except SurveyUnavailable:
        return None
    schedule_followups(session, person_id=person_id, programme=programme,
                       phase=SurveyPhase.INITIAL, offered_at=now)
    return q


async def offer_initial_survey_if_due(
    update: Update, context: PalContext, *, person_id: int, programme_id: int
) -> None:
    """After a sign-up: offer the initial survey if it is this person's first one here."""
    try:
        q = await context.db.write(_offer_due, person_id=person_id, programme_id=programme_id,
                                   now=context.services.clock.now(),
                                   surveys_dir=context.settings.surveys_dir)
    except Exception:  # the offer must never spoil the sign-up that just succeeded
        log.exception("could not offer the initial survey (person_id=%s)", person_id)
        return
    chat = update.effective_chat
    if q is None or chat is None:
        return
    t = context.t
    text, markup = intro_screen(
        t, q, SurveyPhase.INITIAL, programme_id,
        lead=t._("One more thing, if you have a few minutes: a short survey about how you are "
                 "doing. It helps the programme see what works."))
    await context.bot.send_message(chat.id, text, reply_markup=markup)


def register(app: PalApplication) -> None:
    """Add /survey, the form's buttons and the survey-opening button."""
    from handlers.menu import add_command

    add_command("survey", lambda t: t._("Answer the survey about how you are doing"))
    app.add_handler(CommandHandler("survey", survey_command))
    app.add_handler(CallbackQueryHandler(on_open_survey, pattern=r"^sv:go:(\d{1,12}):([if])$"))
    app.add_handler(CallbackQueryHandler(
        on_form_button, pattern=r"^sv:([abkspcevw]):(\d{1,12})(?::(\d{1,3}))?(?::(\d{1,2}))?$"))


__all__ = ["offer_initial_survey_if_due", "register", "survey_command"]
