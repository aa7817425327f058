"""Residents' own surveys: /survey, the offer after a first sign-up, invitation buttons.

The form itself (questions, summary, submit) is handlers/surveys/steps.py, shared with
the paper entry of handlers/surveys/paper.py.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.context import PalApplication, PalContext
from handlers.common import answer, requires_onboarding
from handlers.surveys import steps as survey_steps
from handlers.surveys.form import LETTER_PHASE, form_screen, intro_screen
from handlers.surveys.steps import (
    actor_of,
    refusal_text,
    send_form,
    show,
    strip_buttons,
)
from storage.surveys.questionnaires import SurveyPhase
from storage.surveys.responses import (
    ResponseNotFound,
    SurveyError,
)
from storage.surveys.versions import SurveyUnavailable
from usecases.surveys import open_own, own_survey

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- a resident's own survey


@requires_onboarding
async def survey_command(update: Update, context: PalContext) -> None:
    """/survey and the 📝 Survey button: start, resume, or say it is done."""
    t = context.t
    try:
        own = await context.db.read(
            own_survey, actor=actor_of(context), surveys_dir=context.settings.surveys_dir
        )
    except SurveyUnavailable as exc:
        await answer(update, context, refusal_text(context, exc))
        return
    if own.programme is None or own.programme.id is None:
        await answer(
            update,
            context,
            t._(
                "The survey is for people taking part in a programme. "
                "Sign up for an activity first: /activities"
            ),
        )
        return
    if own.submitted_at is not None:
        if own.phase == SurveyPhase.INITIAL:
            text = t._(
                "You answered the initial survey on {date}. Thank you! The final survey "
                "will open near the end of the programme."
            )
        else:
            text = t._("You answered the final survey on {date}. Thank you for taking part!")
        await answer(update, context, text.format(date=t.date(own.submitted_at)))
        return
    if own.in_progress is not None:
        await send_form(
            update,
            context,
            own.in_progress,
            old_message_id=own.old_message_id,
            hint=t._("Welcome back! Continue where you stopped."),
        )
        return
    assert own.questionnaire is not None
    chat = update.effective_chat
    assert chat is not None
    await strip_buttons(context, chat.id, own.old_message_id)
    text, markup = intro_screen(t, own.questionnaire, own.phase, own.programme.id)
    await context.bot.send_message(chat.id, text, reply_markup=markup)


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
            open_own,
            actor=actor_of(context),
            programme_id=programme_id,
            phase=phase,
            now=context.services.clock.now(),
            message_id=message.message_id if message is not None else None,
            surveys_dir=context.settings.surveys_dir,
        )
    except SurveyError as exc:
        if isinstance(exc, ResponseNotFound):
            exc_text = context.t._(
                "This survey is closed now. Send /survey to see what is open for you."
            )
            await answer(update, context, exc_text, alert=True)
        else:
            await answer(update, context, refusal_text(context, exc), alert=True)
        return
    await show(update, context, *form_screen(context.t, step.view))


def register(app: PalApplication) -> None:
    """Add /survey, the form's buttons and the survey-opening button."""
    app.add_handler(CommandHandler("survey", survey_command))
    app.add_handler(CallbackQueryHandler(on_open_survey, pattern=r"^sv:go:(\d{1,12}):([if])$"))
    survey_steps.register(app)


__all__ = ["register", "survey_command"]
