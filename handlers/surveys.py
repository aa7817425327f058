"""Residents' own surveys: /survey, the offer after a first sign-up, invitation buttons.

The form itself (questions, summary, submit) is handlers/survey_steps.py, shared with
the paper entry of handlers/paper.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select
from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

import schedules.survey_followups  # noqa: F401 — registers the invitation renderers
from bot.context import PalApplication, PalContext
from handlers import survey_steps
from handlers.common import answer, requires_onboarding
from handlers.survey_form import LETTER_PHASE, form_screen, intro_screen
from handlers.survey_steps import (
    actor_of,
    refusal_text,
    send_form,
    show,
    strip_buttons,
)
from schedules.survey_followups import schedule_followups
from storage.dialogs import get_dialog
from storage.models import Activity, ParticipantCode, Person, Programme, Registration
from storage.questionnaires import Questionnaire, SurveyPhase
from storage.survey_versions import SurveyUnavailable, current_questionnaire
from storage.surveys import (
    Channel,
    ResponseNotFound,
    SurveyError,
    find_response,
    phase_due,
    phase_open,
    resident_programme_id,
    start_or_resume,
    view,
)
from usecases.survey_steps import KIND_SELF, Actor, Step, keep_dialog

log = logging.getLogger(__name__)


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
    await strip_buttons(context, chat.id, own.old_message_id)
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


def register(app: PalApplication) -> None:
    """Add /survey, the form's buttons and the survey-opening button."""
    from handlers.menu import add_command

    add_command("survey", lambda t: t._("Answer the survey about how you are doing"))
    app.add_handler(CommandHandler("survey", survey_command))
    app.add_handler(CallbackQueryHandler(on_open_survey, pattern=r"^sv:go:(\d{1,12}):([if])$"))
    survey_steps.register(app)


__all__ = ["register", "survey_command"]
