"""A resident's own sign-ups: places, reserve-list positions, and cancelling.

Callback data: `my` (the list), `cx:<activity id>` (asks to confirm), `cxy:<activity id>`
(cancels). Only the presser's own registration is ever touched: the person comes from
the update, never from the button.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.context import PalApplication, PalContext
from bot.keyboards import back_to_menu_button, inline, shorten
from handlers.common import answer, caller_of
from handlers.resident.activities import not_onboarded, pressed_id, show_screen
from schedules.offer_notices import TAKE_PREFIX
from storage.activities.my_places import MyPlace
from storage.activities.resident_views import CONFIRMED
from storage.models import ActivityStatus
from translations import Translator
from usecases.registrations import (
    ReleaseRefusal,
    ask_release,
    my_activities,
    release_place,
)

log = logging.getLogger(__name__)


def _entry(t: Translator, item: MyPlace) -> str:
    if item.activity_status == ActivityStatus.CANCELLED:
        status = t._("❌ Called off by the organisers")
    elif item.status == CONFIRMED:
        status = t._("✅ You have a place")
    elif item.offer is not None and item.offer.first_come:
        status = t._("🎁 A place is free: it goes to whoever takes it first")
    elif item.offer is not None:
        status = t._("🎁 A place is kept for you until {deadline}").format(
            deadline=t.date_time(item.offer.deadline)
        )
    else:
        status = t._("⏳ Reserve list, position {position}").format(position=item.position)
    return f"📌 {item.title}\n{t.date_time(item.starts_at)}\n📍 {item.venue}\n{status}"


async def show_my(update: Update, context: PalContext) -> None:
    """Upcoming places and reserve positions, each with a cancel button."""
    mine = await context.db.read(
        my_activities, caller=caller_of(update, context), now=context.services.clock.now()
    )
    if await not_onboarded(update, context, mine.resident):
        return
    t = context.t
    if not mine.places:
        await show_screen(
            update,
            context,
            t._("You have no upcoming activities. Choose “📅 Activities” to find one."),
            inline([[(t._("📅 Browse activities"), "acts:0")], [back_to_menu_button(t)]]),
        )
        return
    text = t._("Your activities:") + "\n\n" + "\n\n".join(_entry(t, item) for item in mine.places)
    rows: list[list[tuple[str, str]]] = []
    for item in mine.places:
        if item.offer is not None:
            # The same button as in the offer message, so /my is enough to answer it.
            rows.append(
                [
                    (
                        t._("✅ Take the place") + f": {shorten(item.title, 30)}",
                        f"{TAKE_PREFIX}{item.offer.offer_id}",
                    )
                ]
            )
        rows.append(
            [
                (
                    t._("Cancel my place: {title}").format(title=shorten(item.title, 40)),
                    f"cx:{item.activity_id}",
                )
            ]
        )
    rows.append([back_to_menu_button(t)])
    await show_screen(update, context, text, inline(rows))


async def my_command(update: Update, context: PalContext) -> None:
    """/my and the menu button."""
    await show_my(update, context)


async def on_my(update: Update, context: PalContext) -> None:
    """`my`: back to the list."""
    await show_my(update, context)


async def on_cancel_ask(update: Update, context: PalContext) -> None:
    """`cx:<id>`: ask before giving up a place (old people press by accident)."""
    activity_id = pressed_id(context)
    question = await context.db.read(
        ask_release,
        caller=caller_of(update, context),
        activity_id=activity_id,
        now=context.services.clock.now(),
    )
    if await not_onboarded(update, context, question.resident):
        return
    t = context.t
    view = question.view
    if view is None:
        await answer(update, context, t._("This activity no longer exists."))
        return
    if view.standing.status is None:
        await answer(update, context, t._("You are not signed up for this activity."))
        return
    a = view.card
    text = t._("Do you want to give up your place in: {title} ({date})?").format(
        title=a.title, date=t.date_time(a.starts_at)
    )
    await show_screen(
        update,
        context,
        text,
        inline(
            [
                [(t._("Yes, cancel"), f"cxy:{activity_id}")],
                [(t._("No, keep it"), "my")],
            ]
        ),
        new_message=update.callback_query is None,
    )


async def on_cancel(update: Update, context: PalContext) -> None:
    """`cxy:<id>`: give up the place; the first person waiting gets it and is told."""
    activity_id = pressed_id(context)
    outcome = await context.db.write(
        release_place,
        caller=caller_of(update, context),
        activity_id=activity_id,
        now=context.services.clock.now(),
    )
    if await not_onboarded(update, context, outcome.resident):
        return
    t = context.t
    if outcome.refused == ReleaseRefusal.NOT_FOUND:
        await answer(update, context, t._("This activity no longer exists."))
        return
    if outcome.refused == ReleaseRefusal.NOT_REGISTERED:
        await answer(update, context, t._("You are not signed up for this activity."))
        return
    if outcome.refused == ReleaseRefusal.STARTED:
        await answer(
            update,
            context,
            t._("This activity has already started, so the place can no longer be cancelled."),
        )
        return
    log.info(
        "cancel person_id=%s activity_id=%s promoted=%s",
        outcome.resident.person_id,
        activity_id,
        outcome.promoted,
    )
    text = (
        t._("Done. You no longer have a place in: {title}")
        if outcome.was_confirmed
        else t._("Done. You are no longer on the reserve list for: {title}")
    ).format(title=outcome.title)
    await show_screen(
        update,
        context,
        text,
        inline(
            [
                [(t._("🎟 My activities"), "my")],
                [(t._("◀ Back to activities"), "acts:0"), back_to_menu_button(t)],
            ]
        ),
        toast=text,
    )


def register(app: PalApplication) -> None:
    """Add /my and the cancel buttons."""
    app.add_handler(CommandHandler("my", my_command))
    app.add_handler(CallbackQueryHandler(on_my, pattern=r"^my$"))
    app.add_handler(CallbackQueryHandler(on_cancel_ask, pattern=r"^cx:(\d{1,12})$"))
    app.add_handler(CallbackQueryHandler(on_cancel, pattern=r"^cxy:(\d{1,12})$"))
