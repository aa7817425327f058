"""Changing one field of an activity: the wizard's question, answered once, then saved.

The position (which activity, which field) is the animator's `Dialog` of kind
`animator_edit`, so a typed answer after a restart still lands here.

Callback data: `ane:<id>` (which field?), `ane:f:<id>:<step>` (ask it),
`ane:a:<step>:<answer>` (a button answer), `ane:cancel`.
"""

from __future__ import annotations

import logging
from datetime import date
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot.context import PalApplication, PalContext
from bot.keyboards import inline
from handlers.animator.activity_questions import (
    answer_buttons,
    current_value,
    field_name,
    problem_hint,
    question_text,
)
from handlers.animator.common import (
    Rows,
    actor_of,
    animator_only,
    match_int,
    match_step,
    refuse_stale,
    screen,
)
from handlers.animator.menu import change_refusal, show_card
from handlers.common import MAX_TEXT_INPUT, answer, too_long
from handlers.dialogs import on_text
from storage.activities.change_notices import InvalidChange
from storage.activities.draft_questions import CHANGEABLE, DraftInvalid, Step
from storage.activities.editing import EditResult, PlacesBelowTaken
from storage.activities.organising import NotYourActivity, managed_activity
from storage.dialogs import close_dialog
from storage.models import Dialog, Role
from translations import Translator
from usecases.activity_changes import KIND, Question, apply_change, ask_change, pending_change

log = logging.getLogger(__name__)


def _question_screen(
    t: Translator, q: Question, *, today: date, zone: ZoneInfo
) -> tuple[str, Rows]:
    lines = [t._("Change “{field}” of {title}").format(field=field_name(t, q.step), title=q.title)]
    now_value = current_value(t, q.step, q.draft, zone)
    if now_value is not None:
        lines.append(t._("Current answer: {value}").format(value=now_value))
    lines += ["", question_text(t, q.step)]
    rows: Rows = [
        [(label, f"ane:a:{q.step.value}:{code}") for label, code in row]
        for row in answer_buttons(t, q.step, today=today, zone=zone, options=q.options)
    ]
    rows.append([(t._("✖ Cancel"), "ane:cancel")])
    return "\n".join(lines), rows


def _saved_note(t: Translator, result: EditResult) -> str:
    lines = [t._("Saved.")]
    if result.notices:
        lines.append(
            t.ngettext(
                "{n} person signed up will be told about the change.",
                "{n} people signed up will be told about the change.",
                result.notices,
            ).format(n=result.notices)
        )
    if result.promoted:
        # Offered with a deadline, or given at once (no Telegram, or a programme that
        # gives places at once): storage.activities.offers.
        lines.append(
            t.ngettext(
                "The free places were offered to {n} person from the reserve list.",
                "The free places were offered to {n} people from the reserve list.",
                result.promoted,
            ).format(n=result.promoted)
        )
    return "\n".join(lines)


@animator_only
async def on_fields(update: Update, context: PalContext) -> None:
    """`ane:<id>`: which field to change."""
    t = context.t
    activity_id = match_int(context)
    try:
        await context.db.read(managed_activity, activity_id=activity_id, actor=actor_of(context))
    except NotYourActivity:
        await refuse_stale(update, context)
        return
    rows: Rows = [
        [(field_name(t, step), f"ane:f:{activity_id}:{step.value}")] for step in CHANGEABLE
    ]
    rows.append([(t._("⬅️ Back"), f"an:a:{activity_id}")])
    await screen(update, context, t._("What would you like to change?"), inline(rows))


async def _show_question(
    update: Update, context: PalContext, q: Question, note: str | None = None
) -> None:
    zone = context.settings.zone
    today = context.services.clock.now().astimezone(zone).date()
    text, rows = _question_screen(context.t, q, today=today, zone=zone)
    if note:
        text = f"{note}\n\n{text}"
    await screen(update, context, text, inline(rows), new_message=note is not None)


@animator_only
async def on_field(update: Update, context: PalContext) -> None:
    """`ane:f:<id>:<step>`: ask the field's question."""
    assert context.matches is not None
    activity_id = int(context.matches[0].group(1))
    step = match_step(context, 2)
    try:
        if step is None:
            raise NotYourActivity(activity_id)
        q = await context.db.write(
            ask_change,
            activity_id=activity_id,
            step=step,
            actor=actor_of(context),
            zone=context.settings.zone,
        )
    except NotYourActivity:
        await refuse_stale(update, context)
        return
    await _show_question(update, context, q)


async def _take(update: Update, context: PalContext, step: Step, text: str) -> None:
    t = context.t
    zone = context.settings.zone
    actor = actor_of(context)
    try:
        result = await context.db.write(
            apply_change,
            step=step,
            text=text,
            actor=actor,
            now=context.services.clock.now(),
            zone=zone,
        )
    except LookupError:
        await answer(update, context, t._("This button is no longer active. Open the menu again."))
        return
    except NotYourActivity:
        await refuse_stale(update, context)
        return
    except InvalidChange as exc:
        await context.db.write(close_dialog, person_id=actor.person_id, kind=KIND)
        await answer(update, context, change_refusal(t, exc), alert=True)
        return
    except (DraftInvalid, PlacesBelowTaken) as exc:
        if isinstance(exc, PlacesBelowTaken):
            hint = t.ngettext(
                "{taken} place is already taken, so there cannot be fewer than {taken} (you "
                "typed {requested}).",
                "{taken} places are already taken, so there cannot be fewer than {taken} (you "
                "typed {requested}).",
                exc.taken,
            ).format(taken=exc.taken, requested=exc.requested)
        else:
            hint = problem_hint(t, exc, zone)
        dialog = await context.db.read(pending_change, person_id=actor.person_id)
        if dialog is None:
            return
        q = await context.db.write(
            ask_change,
            activity_id=int(dialog.data["activity_id"]),
            step=step,
            actor=actor,
            zone=zone,
        )
        await _show_question(update, context, q, note="⚠️ " + hint)
        return
    log.info(
        "activity changed activity_id=%s fields=%s by person_id=%s",
        result.activity.id,
        result.fields,
        actor.person_id,
    )
    await show_card(
        update,
        context,
        result.activity.id or 0,
        note=_saved_note(t, result),
        new_message=update.callback_query is None,
    )


@animator_only
async def on_button_answer(update: Update, context: PalContext) -> None:
    """`ane:a:<step>:<answer>`: a typical answer chosen with a button."""
    assert context.matches is not None
    step = match_step(context)
    if step is None:
        await refuse_stale(update, context)
        return
    await _take(update, context, step, context.matches[0].group(2))


@on_text(KIND, role=Role.ANIMATOR)
async def on_typed(update: Update, context: PalContext, dialog: Dialog) -> None:
    """A typed answer to the open change question."""
    message = update.effective_message
    assert message is not None and message.text is not None
    t = context.t
    if too_long(message.text):
        await answer(
            update,
            context,
            t._(
                "That is too long: {length} characters, at most {limit}. Please shorten it."
            ).format(length=len(message.text), limit=MAX_TEXT_INPUT),
        )
        return
    await _take(update, context, Step(dialog.step), message.text)


@animator_only
async def on_cancel(update: Update, context: PalContext) -> None:
    """`ane:cancel`: stop changing; nothing is saved."""
    actor = actor_of(context)
    dialog = await context.db.read(pending_change, person_id=actor.person_id)
    await context.db.write(close_dialog, person_id=actor.person_id, kind=KIND)
    if dialog is not None:
        await show_card(
            update,
            context,
            int(dialog.data["activity_id"]),
            note=context.t._("Nothing was changed."),
        )
    else:
        await answer(update, context, context.t._("Nothing was changed."))


def register(app: PalApplication) -> None:
    """Add the change buttons (typed answers arrive through @on_text)."""
    app.add_handler(CallbackQueryHandler(on_fields, pattern=r"^ane:(\d{1,12})$"))
    app.add_handler(CallbackQueryHandler(on_field, pattern=r"^ane:f:(\d{1,12}):([a-z]{1,2})$"))
    app.add_handler(
        CallbackQueryHandler(on_button_answer, pattern=r"^ane:a:([a-z]{1,2}):(.{0,40})$")
    )
    app.add_handler(CallbackQueryHandler(on_cancel, pattern=r"^ane:cancel$"))
