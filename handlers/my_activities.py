"""A resident's own sign-ups: places, reserve-list positions, and cancelling.

Callback data: `my` (the list), `cx:<activity id>` (asks to confirm), `cxy:<activity id>`
(cancels). Only the presser's own registration is ever touched: the person comes from
the update, never from the button.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session
from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

import schedules.notices  # noqa: F401  (registers the promotion notice's renderer)
from bot.context import PalApplication, PalContext
from bot.i18n import Translator
from bot.keyboards import back_to_menu_button, inline
from handlers.activities import pressed_activity, show_screen
from handlers.common import answer, requires_onboarding
from storage.activities import ActivityNotFound, ActivityView, activity_view
from storage.models import ActivityStatus, RegistrationStatus
from storage.seats import (
    CancelResult,
    MyRegistration,
    NotRegistered,
    RegistrationClosed,
    cancel,
    my_registrations,
)

log = logging.getLogger(__name__)


def _entry(t: Translator, item: MyRegistration) -> str:
    a = item.activity
    if a.status == ActivityStatus.CANCELLED:
        status = t._("❌ Called off by the organisers")
    elif item.registration.status == RegistrationStatus.CONFIRMED:
        status = t._("✅ You have a place")
    else:
        status = t._("⏳ Reserve list, position {position}").format(position=item.position)
    return f"📌 {a.title}\n{t.date_time(a.starts_at)}\n📍 {a.venue}\n{status}"


async def show_my(update: Update, context: PalContext) -> None:
    """Upcoming places and reserve positions, each with a cancel button."""
    t = context.t
    person = context.viewer.person
    assert person is not None and person.id is not None
    items = await context.db.read(my_registrations, person_id=person.id,
                                  now=context.services.clock.now())
    if not items:
        await show_screen(update, context, t._(
            "You have no upcoming activities. Choose “📅 Activities” to find one."),
            inline([[(t._("📅 Browse activities"), "acts:0")], [back_to_menu_button(t)]]))
        return
    text = t._("Your activities:") + "\n\n" + "\n\n".join(_entry(t, item) for item in items)
    rows: list[list[tuple[str, str]]] = []
    for item in items:
        a = item.activity
        rows.append([(t._("Cancel my place: {title}").format(title=a.title[:40]),
                      f"cx:{a.id}")])
    rows.append([back_to_menu_button(t)])
    await show_screen(update, context, text, inline(rows))


@requires_onboarding
async def my_command(update: Update, context: PalContext) -> None:
    """/my and the menu button."""
    await show_my(update, context)


@requires_onboarding
async def on_my(update: Update, context: PalContext) -> None:
    """`my`: back to the list."""
    await show_my(update, context)


@requires_onboarding
async def on_cancel_ask(update: Update, context: PalContext) -> None:
    """`cx:<id>`: ask before giving up a place (old people press by accident)."""
    t = context.t
    person_id, activity_id = pressed_activity(context)
    try:
        view = await context.db.read(activity_view, activity_id=activity_id,
                                     person_id=person_id, now=context.services.clock.now())
    except ActivityNotFound:
        await answer(update, context, t._("This activity no longer exists."))
        return
    if view.registration is None:
        await answer(update, context, t._("You are not signed up for this activity."))
        return
    a = view.activity
    question = t._("Do you want to give up your place in: {title} ({date})?").format(
        title=a.title, date=t.date_time(a.starts_at))
    await show_screen(update, context, question, inline([
        [(t._("Yes, cancel"), f"cxy:{activity_id}")],
        [(t._("No, keep it"), "my")],
    ]), new_message=update.callback_query is None)


def _cancel_and_view(
    session: Session, *, person_id: int, activity_id: int, now: datetime
) -> tuple[CancelResult, ActivityView]:
    result = cancel(session, person_id=person_id, activity_id=activity_id, now=now)
    return result, activity_view(session, activity_id=activity_id, person_id=person_id, now=now)


@requires_onboarding
async def on_cancel(update: Update, context: PalContext) -> None:
    """`cxy:<id>`: give up the place; the first person waiting gets it and is told."""
    t = context.t
    person_id, activity_id = pressed_activity(context)
    try:
        result, view = await context.db.write(
            _cancel_and_view, person_id=person_id, activity_id=activity_id,
            now=context.services.clock.now())
    except ActivityNotFound:
        await answer(update, context, t._("This activity no longer exists."))
        return
    except NotRegistered:
        await answer(update, context, t._("You are not signed up for this activity."))
        return
    except RegistrationClosed:
        await answer(update, context, t._(
            "This activity has already started, so the place can no longer be cancelled."))
        return
    log.info("cancel activity_id=%s promoted_registration=%s", activity_id,
             result.promoted.id if result.promoted else None)
    title = view.activity.title
    text = (t._("Done. You no longer have a place in: {title}") if result.was_confirmed
            else t._("Done. You are no longer on the reserve list for: {title}")).format(
        title=title)
    await show_screen(update, context, text, inline([
        [(t._("🎟 My activities"), "my")],
        [(t._("◀ Back to activities"), "acts:0"), back_to_menu_button(t)],
    ]), toast=text)


def register(app: PalApplication) -> None:
    """Add /my and the cancel buttons."""
    app.add_handler(CommandHandler("my", my_command))
    app.add_handler(CallbackQueryHandler(on_my, pattern=r"^my$"))
    app.add_handler(CallbackQueryHandler(on_cancel_ask, pattern=r"^cx:(\d{1,12})$"))
    app.add_handler(CallbackQueryHandler(on_cancel, pattern=r"^cxy:(\d{1,12})$"))
