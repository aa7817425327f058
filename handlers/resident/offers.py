"""Answers to the offer of a freed place, and the schedule that expires offers.

Callback data: `of:t:<offer id>` ("Take the place"), `of:p:<offer id>` ("Pass and leave
the reserve list", which asks first), `of:px:<offer id>` (yes, pass) and `of:b:<offer id>`
(no, go back). The offer must be the presser's own: the person comes from the update,
never from the button.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler

from bot.context import PalApplication, PalContext
from handlers.common import answer, requires_onboarding
from schedules.messages import Button
from schedules.offer_notices import (
    BACK_PREFIX,
    PASS_CONFIRMED_PREFIX,
    PASS_PREFIX,
    TAKE_PREFIX,
    offer_buttons,
    pass_question_buttons,
)
from schedules.offers import expire_due_offers
from storage.activities.offers import (
    OfferAnswer,
    OfferRefusal,
    pass_offer,
    take_offer,
)
from storage.db import DatabaseUnavailable
from storage.models import OfferKind
from translations import Translator

log = logging.getLogger(__name__)

SWEEP_JOB = "offers:expire"
SWEEP_SECONDS = 5.0


def _offer_id(data: str | None, prefix: str) -> int | None:
    raw = (data or "").removeprefix(prefix)
    return int(raw) if raw.isdigit() and len(raw) <= 12 else None


def _refusal(t: Translator, reason: OfferRefusal) -> str:
    texts = {
        OfferRefusal.NOT_YOURS: t._("This offer is not active any more. Open the menu again."),
        OfferRefusal.GONE: t._(
            "Sorry, someone else was quicker and the place is already "
            "taken. You are still on the reserve list."
        ),
        OfferRefusal.EXPIRED: t._(
            "Sorry, the time to take this place has run out and it "
            "went to the next person. You are still on the reserve "
            "list."
        ),
        OfferRefusal.PASSED: t._("You passed on this place and left the reserve list."),
        OfferRefusal.VOID: t._(
            "This offer is no longer valid: the activity was changed or "
            "called off, or you left the reserve list."
        ),
        OfferRefusal.STARTED: t._("This activity has already started."),
        OfferRefusal.TAKEN: t._(
            'The place is already yours. To give it up, tap "Cancel" in My activities.'
        ),
    }
    return texts[reason]


async def _close_offer(
    update: Update, line: str, keyboard: InlineKeyboardMarkup | None = None
) -> None:
    """Replace the offer's buttons (by `keyboard`, or none) and add what happened."""
    query = update.callback_query
    message = query.message if query is not None else None
    if not isinstance(message, Message) or message.text is None:
        return
    try:
        await message.edit_text(f"{message.text}\n\n{line}", reply_markup=keyboard)
    except BadRequest:
        # Unchanged (a second tap) or too old to edit: the answer already said it.
        log.debug("offer message not edited", exc_info=True)


async def _answer_offer(update: Update, context: PalContext, *, take: bool) -> None:
    t = context.t
    query = update.callback_query
    assert query is not None
    person = context.viewer.person
    assert person is not None and person.id is not None
    offer_id = _offer_id(query.data, TAKE_PREFIX if take else PASS_CONFIRMED_PREFIX)
    if offer_id is None:
        await answer(update, context, _refusal(t, OfferRefusal.NOT_YOURS), alert=True)
        return
    now = context.services.clock.now()
    use_case = take_offer if take else pass_offer
    result: OfferAnswer = await context.db.write(
        use_case, offer_id=offer_id, person_id=person.id, now=now
    )
    if result.refusal is not None:
        log.info(
            "offer answer refused: %s offer_id=%s person_id=%s",
            result.refusal.value,
            offer_id,
            person.id,
        )
        await answer(update, context, _refusal(t, result.refusal), alert=True)
        if result.refusal != OfferRefusal.NOT_YOURS:
            await _close_offer(update, _refusal(t, result.refusal))
        return
    activity = result.activity
    assert activity is not None
    if take and result.already:
        await answer(update, context, t._("The place is already yours."))
        return
    log.info(
        "offer %s: offer_id=%s person_id=%s", "taken" if take else "passed", offer_id, person.id
    )
    if take:
        await answer(update, context, t._("The place is yours!"))
        # As with every confirmed place: a way out right there, for plans that change.
        cancel = InlineKeyboardMarkup(
            [[InlineKeyboardButton(t._("Cancel my place"), callback_data=f"cx:{activity.id}")]]
        )
        await _close_offer(
            update,
            t._("✅ The place is yours. See you on {date}!").format(
                date=t.date_time(activity.starts_at)
            ),
            cancel,
        )
        return
    await answer(update, context, t._("Thank you for letting us know."))
    await _close_offer(
        update,
        t._("You passed: you are no longer on the reserve list for this activity.")
        if result.kind == OfferKind.FIRST_COME
        else t._(
            "You passed: the place goes to the next person, and you are no longer on the "
            "reserve list for this activity."
        ),
    )


@requires_onboarding
async def on_take(update: Update, context: PalContext) -> None:
    """ "Take the place": the place becomes theirs unless somebody was quicker."""
    await _answer_offer(update, context, take=True)


def _markup(rows: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.text, callback_data=b.callback_data) for b in row] for row in rows]
    )


async def _swap_buttons(update: Update, rows: tuple[tuple[Button, ...], ...]) -> None:
    query = update.callback_query
    message = query.message if query is not None else None
    if not isinstance(message, Message):
        return
    try:
        await message.edit_reply_markup(reply_markup=_markup(rows))
    except BadRequest:
        log.debug("offer buttons not swapped", exc_info=True)


@requires_onboarding
async def on_pass(update: Update, context: PalContext) -> None:
    """ "Pass": ask first, since it also takes them off the reserve list."""
    t = context.t
    query = update.callback_query
    assert query is not None
    offer_id = _offer_id(query.data, PASS_PREFIX)
    if offer_id is None:
        await answer(update, context, _refusal(t, OfferRefusal.NOT_YOURS), alert=True)
        return
    await answer(
        update,
        context,
        t._(
            "If you pass, the place goes to the next person and you leave the reserve list for "
            "this activity. Are you sure?"
        ),
        alert=True,
    )
    await _swap_buttons(update, pass_question_buttons(t, offer_id))


@requires_onboarding
async def on_pass_confirmed(update: Update, context: PalContext) -> None:
    """ "Yes, pass": they leave the reserve list and the place goes to the next person."""
    await _answer_offer(update, context, take=False)


@requires_onboarding
async def on_back(update: Update, context: PalContext) -> None:
    """ "No, go back": the offer's own buttons again; nothing changed."""
    query = update.callback_query
    assert query is not None
    offer_id = _offer_id(query.data, BACK_PREFIX)
    await answer(update, context, context.t._("Nothing changed: the offer still stands."))
    if offer_id is not None:
        await _swap_buttons(update, offer_buttons(context.t, offer_id))


async def expiry_job(context: PalContext) -> None:
    """The JobQueue's run of the expiry schedule."""
    try:
        await expire_due_offers(context.db, now=context.services.clock.now())
    except DatabaseUnavailable:
        log.warning("offers: database unavailable; the next run will catch up")


async def schedule_expiry(app: PalApplication) -> None:
    """Rebuild the expiry job on start: once at once (offers due while down), then often."""
    jobs = app.job_queue
    if jobs is None:
        log.warning("no job queue: offers will expire only when someone taps them")
        return
    jobs.run_repeating(expiry_job, interval=SWEEP_SECONDS, first=0, name=SWEEP_JOB)


def register(app: PalApplication) -> None:
    """Add the offer buttons and schedule the expiry of offers."""
    app.bot_data["services"].on_start.append(schedule_expiry)
    app.add_handler(CallbackQueryHandler(on_take, pattern=r"^of:t:\d{1,12}$"))
    app.add_handler(CallbackQueryHandler(on_pass, pattern=r"^of:p:\d{1,12}$"))
    app.add_handler(CallbackQueryHandler(on_pass_confirmed, pattern=r"^of:px:\d{1,12}$"))
    app.add_handler(CallbackQueryHandler(on_back, pattern=r"^of:b:\d{1,12}$"))
