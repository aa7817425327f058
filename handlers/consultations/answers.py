"""Residents answer consultations: buttons for choices, a message for the open question.

Thin: each tap is one call to storage.consultations.answers (one transaction that stores
the choice and the position together); the screens come from schedules.consultations, the
same ones the opening message used. Callback data: `cr:<id>:<question>:<option>` (choose,
or toggle in multiple choice), `cr:<id>:go:<position>` (Done, Skip, Back, Change my
answers), `cr:<id>:open` (from /consultations). Forged or stale ids get a short answer.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.context import PalApplication, PalContext
from bot.keyboards import inline
from bot.sending import inline_markup
from handlers.common import MAX_TEXT_INPUT, answer, requires_onboarding, too_long
from handlers.dialogs import on_text
from handlers.resident.activities import show_screen
from schedules.consultations import answer_screen, last_minute, results_lines
from storage.consultations.answers import (
    TEXT_DIALOG,
    Answerer,
    AnswerSheet,
    BadAnswer,
    answer_sheet,
    choose,
    move_to,
    open_for,
    write_free_text,
)
from storage.consultations.drafts import ConsultationInvalid, Fault, localized
from storage.consultations.results import results
from storage.consultations.running import ConsultationNotOpen, NotInAudience, NotYourConsultation
from storage.dialogs import close_dialog
from storage.models import ConsultationState, Dialog
from translations import Translator

log = logging.getLogger(__name__)


def _person_id(context: PalContext) -> int:
    person = context.viewer.person
    assert person is not None and person.id is not None
    return person.id


def text_hint(t: Translator, error: ConsultationInvalid) -> str:
    """Why typed text was refused (shared with the staff dialog)."""
    if error.fault == Fault.TOO_LONG:
        return t._(
            "That is too long: {length} characters, at most {limit}. Please shorten it."
        ).format(**error.params)
    if error.fault == Fault.CONTROL:
        return t._("The text has invisible control characters. Please type it again.")
    return t._("Please write a few words.")


async def _show(
    update: Update, context: PalContext, sheet: AnswerSheet, *, new_message: bool = False
) -> None:
    screen = answer_screen(context.t, sheet)
    await show_screen(update, context, screen.text, inline_markup(screen), new_message=new_message)


async def _refused(
    update: Update, context: PalContext, error: Exception, consultation_id: int
) -> None:
    t = context.t
    if isinstance(error, ConsultationNotOpen):
        if error.state == ConsultationState.SCHEDULED:
            await answer(update, context, t._("This consultation is not open yet."), alert=True)
            return
        found = await context.db.read(results, consultation_id=consultation_id)
        closed = t._(
            "This consultation closed on {date}. Answers can no longer be changed."
        ).format(
            date=t.date_time(
                min(
                    last_minute(found.consultation),
                    found.consultation.closed_at or found.consultation.closes_at,
                )
            )
        )
        if found.consultation.show_results:
            c = found.consultation
            title = localized(c.title, c.questions, c.free_question, c.translations, t.language)[0]
            text = "\n".join(
                [
                    closed,
                    "",
                    t._("🗳 Results of the consultation: {title}").format(title=title),
                    *results_lines(t, found, exact=False),
                ]
            )
            await show_screen(update, context, text, None)
            return
        await answer(update, context, closed, alert=True)
        return
    if isinstance(error, NotInAudience):
        await answer(update, context, t._("This consultation is for other residents."), alert=True)
        return
    await answer(update, context, t._("This button is no longer active. Open the menu again."))


def _ints(context: PalContext) -> list[int]:
    assert context.matches is not None
    return [int(g) for g in context.matches[0].groups()]


@requires_onboarding
async def on_choose(update: Update, context: PalContext) -> None:
    """`cr:<id>:<question>:<option>`: choose an answer (or toggle it)."""
    cid, question, option = _ints(context)
    try:
        sheet = await context.db.write(
            choose,
            consultation_id=cid,
            who=Answerer(_person_id(context)),
            question=question,
            option=option,
            now=context.services.clock.now(),
        )
    except (ConsultationNotOpen, NotInAudience, NotYourConsultation, BadAnswer) as exc:
        await _refused(update, context, exc, cid)
        return
    await _show(update, context, sheet)


@requires_onboarding
async def on_move(update: Update, context: PalContext) -> None:
    """`cr:<id>:go:<position>`: Done, Skip, Back or Change my answers."""
    cid, position = _ints(context)
    try:
        sheet = await context.db.write(
            move_to,
            consultation_id=cid,
            who=Answerer(_person_id(context)),
            position=position,
            now=context.services.clock.now(),
        )
    except (ConsultationNotOpen, NotInAudience, NotYourConsultation, BadAnswer) as exc:
        await _refused(update, context, exc, cid)
        return
    await _show(update, context, sheet)


@requires_onboarding
async def on_open(update: Update, context: PalContext) -> None:
    """`cr:<id>:open`: show where the person is in a consultation."""
    (cid,) = _ints(context)
    try:
        sheet = await context.db.write(
            answer_sheet,
            consultation_id=cid,
            who=Answerer(_person_id(context)),
            now=context.services.clock.now(),
        )
    except (ConsultationNotOpen, NotInAudience, NotYourConsultation) as exc:
        await _refused(update, context, exc, cid)
        return
    await _show(update, context, sheet, new_message=True)


@requires_onboarding
async def consultations_command(update: Update, context: PalContext) -> None:
    """/consultations: the open consultations that ask this person."""
    t = context.t
    found = await context.db.read(
        open_for, person_id=_person_id(context), now=context.services.clock.now()
    )
    if not found:
        await answer(update, context, t._("No consultation is open for you now."))
        return
    rows = [
        [
            (
                f"🗳 {localized(c.title, c.questions, None, c.translations, t.language)[0][:50]}",
                f"cr:{c.id}:open",
            )
        ]
        for c in found
    ]
    await show_screen(
        update,
        context,
        t._("Open consultations. Choose one to answer or to change your answers:"),
        inline(rows),
        new_message=True,
    )


@on_text(TEXT_DIALOG)
async def on_free_text(update: Update, context: PalContext, dialog: Dialog) -> None:
    """The answer to a consultation's open question, typed as a message."""
    message = update.effective_message
    assert message is not None and message.text is not None
    t = context.t
    cid = int(dialog.data.get("consultation_id", 0))
    if too_long(message.text):
        await answer(
            update,
            context,
            t._(
                "That is too long: {length} characters, at most {limit}. Please shorten it."
            ).format(length=len(message.text), limit=MAX_TEXT_INPUT),
        )
        return
    try:
        sheet = await context.db.write(
            write_free_text,
            consultation_id=cid,
            who=Answerer(_person_id(context)),
            text=message.text,
            now=context.services.clock.now(),
        )
    except ConsultationInvalid as exc:
        await answer(update, context, text_hint(t, exc))
        return
    except (ConsultationNotOpen, NotInAudience, NotYourConsultation, BadAnswer) as exc:
        # Nothing more to write there: the person's next messages go elsewhere again.
        await context.db.write(close_dialog, person_id=_person_id(context), kind=TEXT_DIALOG)
        await _refused(update, context, exc, cid)
        return
    await _show(update, context, sheet, new_message=True)


def register(app: PalApplication) -> None:
    """Add /consultations and the answer buttons (typed answers arrive via @on_text)."""
    app.add_handler(CommandHandler("consultations", consultations_command))
    app.add_handler(CallbackQueryHandler(on_choose, pattern=r"^cr:(\d{1,9}):(\d{1,2}):(\d{1,2})$"))
    app.add_handler(CallbackQueryHandler(on_move, pattern=r"^cr:(\d{1,9}):go:(\d{1,2})$"))
    app.add_handler(CallbackQueryHandler(on_open, pattern=r"^cr:(\d{1,9}):open$"))
