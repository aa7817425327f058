"""Residents browse their programme's activities, see details and sign up.

Callback data: `acts:<page>` (list page), `act:<id>` (details), `su:<id>` (sign up or
join the reserve list), `ics:<id>` (calendar file). Ids in callback data are only
hints: every press re-reads the activity and the person's standing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session
from telegram import InlineKeyboardMarkup, InputFile, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.calendar import activity_ics
from bot.context import PalApplication, PalContext
from bot.i18n import Translator
from bot.keyboards import back_to_menu_button, inline
from handlers.common import answer, requires_onboarding
from handlers.surveys import offer_initial_survey_if_due
from storage.activities import (
    ActivityNotFound,
    ActivityPage,
    ActivityView,
    ClosedReason,
    activity_view,
    upcoming_activities,
)
from storage.models import Programme, RegistrationStatus
from storage.people import open_programmes
from storage.seats import sign_up_and_view

log = logging.getLogger(__name__)
TITLE_IN_BUTTON = 32


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


async def show_screen(
    update: Update,
    context: PalContext,
    text: str,
    markup: InlineKeyboardMarkup | None,
    *,
    toast: str | None = None,
    new_message: bool = False,
) -> None:
    """Edit the message whose button was pressed, or send a new one; answer the press."""
    query = update.callback_query
    chat = update.effective_chat
    if query is not None:
        try:
            await query.answer(toast[:200] if toast else None)
        except BadRequest:
            log.debug("callback query too old to answer")
    if query is not None and query.message is not None and not new_message:
        try:
            await query.edit_message_text(text, reply_markup=markup)
            return
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return
            # The message is too old or gone: fall through to a fresh one.
    if chat is not None:
        await context.bot.send_message(chat.id, text, reply_markup=markup)


def pressed_activity(context: PalContext) -> tuple[int, int]:
    """(person id, activity id) for a press whose pattern captured an activity id.

    Handlers using it sit behind requires_onboarding, so the person exists.
    """
    assert context.matches is not None
    person = context.viewer.person
    assert person is not None and person.id is not None
    return person.id, int(context.matches[0].group(1))


def places_text(t: Translator, free: int) -> str:
    """`3 wolne miejsca` with the right plural form."""
    return t.ngettext("{n} free place", "{n} free places", free).format(n=free)


# ---------------------------------------------------------------- the list


@dataclass(frozen=True)
class _ListData:
    programme: Programme | None
    page: ActivityPage | None
    open_programmes: list[Programme]


def _read_list(session: Session, *, programme_id: int | None, page: int, now: datetime
               ) -> _ListData:
    if programme_id is None:
        return _ListData(None, None, open_programmes(session, now=now))
    programme = session.get(Programme, programme_id)
    listed = upcoming_activities(session, programme_id=programme_id, now=now, page=page)
    return _ListData(programme, listed, [])


def programme_choice(t: Translator, programmes: list[Programme]) -> InlineKeyboardMarkup:
    """One button per open programme (`prog:<id>`)."""
    return inline([[(_shorten(p.name, 60), f"prog:{p.id}")] for p in programmes])


async def show_activities(update: Update, context: PalContext, page: int = 0) -> None:
    """The list of upcoming activities, 8 per page, as buttons."""
    t = context.t
    person = context.viewer.person
    assert person is not None
    data = await context.db.read(
        _read_list, programme_id=person.programme_id, page=page,
        now=context.services.clock.now(),
    )
    if data.page is None:
        if data.open_programmes:
            await show_screen(update, context, t._("Which programme do you take part in? "
                                                    "Choose one:"),
                              programme_choice(t, data.open_programmes))
        else:
            await show_screen(update, context, t._(
                "No programme is taking sign-ups right now. Please check again later."), None)
        return
    name = data.programme.name if data.programme else ""
    listed = data.page
    if not listed.items:
        await show_screen(update, context, t._(
            "There are no upcoming activities in {programme} right now. "
            "Please check again later.").format(programme=name),
            inline([[back_to_menu_button(t)]]))
        return
    lines = [t._("Activities of {programme}. Choose one to see the details.").format(
        programme=name)]
    if listed.pages > 1:
        lines.append(t._("Page {page} of {pages}").format(page=listed.page + 1,
                                                          pages=listed.pages))
    rows: list[list[tuple[str, str]]] = []
    for item in listed.items:
        a = item.activity
        free = places_text(t, item.free) if item.free else t._("reserve list")
        label = f"{_shorten(a.title, TITLE_IN_BUTTON)} · {t.short_date_time(a.starts_at)} · {free}"
        rows.append([(label, f"act:{a.id}")])
    nav: list[tuple[str, str]] = []
    if listed.page > 0:
        nav.append((t._("◀ Previous"), f"acts:{listed.page - 1}"))
    if listed.page + 1 < listed.pages:
        nav.append((t._("Next ▶"), f"acts:{listed.page + 1}"))
    if nav:
        rows.append(nav)
    rows.append([back_to_menu_button(t)])
    await show_screen(update, context, "\n".join(lines), inline(rows))


@requires_onboarding
async def activities_command(update: Update, context: PalContext) -> None:
    """/activities and the menu button."""
    await show_activities(update, context)


@requires_onboarding
async def on_page(update: Update, context: PalContext) -> None:
    """`acts:<page>`: another page of the list."""
    assert context.matches is not None
    await show_activities(update, context, int(context.matches[0].group(1)))


# ---------------------------------------------------------------- details


def status_line(t: Translator, view: ActivityView) -> str | None:
    """`Masz miejsce na: …` or `Jesteś na liście rezerwowej (miejsce 3).`"""
    registration = view.registration
    if registration is None:
        return None
    if registration.status == RegistrationStatus.CONFIRMED:
        return t._("✅ You have a place in: {title}").format(title=view.activity.title)
    return t._("⏳ You are on the reserve list (position {position}).").format(
        position=view.reserve_position)


def closed_text(t: Translator, view: ActivityView) -> str:
    """Why sign-up is closed, in plain words."""
    reason = view.closed
    if reason == ClosedReason.CANCELLED:
        return t._("❌ This activity has been called off.")
    if reason == ClosedReason.STARTED:
        return t._("This activity has already started, so sign-up is closed.")
    if reason == ClosedReason.DEADLINE and view.activity.registration_deadline is not None:
        return t._("Sign-up closed on {date}.").format(
            date=t.date_time(view.activity.registration_deadline))
    return t._("Sign-up for this programme has closed.")


def details_text(t: Translator, view: ActivityView) -> str:
    """Title, category, date with weekday, time, venue, description, places."""
    a = view.activity
    lines = [f"📌 {a.title}", t._("Category: {category}").format(category=a.category),
             t._("When: {date}, {start}–{end}").format(
                 date=t.date(a.starts_at), start=t.time(a.starts_at), end=t.time(a.ends_at)),
             t._("Where: {venue}").format(venue=a.venue)]
    if a.description:
        lines += ["", a.description]
    lines.append("")
    if view.closed is None or view.registration is not None:
        if view.free:
            lines.append("🪑 " + places_text(t, view.free))
        else:
            lines.append(t._("No free places."))
            if view.reserve_length:
                lines.append(t.ngettext("{n} person is on the reserve list.",
                                        "{n} people are on the reserve list.",
                                        view.reserve_length).format(n=view.reserve_length))
    if view.activity.registration_deadline is not None and view.closed is None:
        lines.append(t._("Sign up by {date}.").format(
            date=t.date_time(view.activity.registration_deadline)))
    status = status_line(t, view)
    if status:
        lines += ["", status]
    elif view.closed is not None:
        lines += ["", closed_text(t, view)]
    return "\n".join(lines)


def details_keyboard(t: Translator, view: ActivityView) -> InlineKeyboardMarkup:
    """Sign up / reserve list / calendar / cancel, then the way back."""
    a_id = view.activity.id
    rows: list[list[tuple[str, str]]] = []
    registration = view.registration
    if registration is None and view.closed is None:
        label = t._("Sign up") if view.free else t._("Join the reserve list")
        rows.append([(label, f"su:{a_id}")])
    if registration is not None:
        if registration.status == RegistrationStatus.CONFIRMED:
            rows.append([(t._("📅 Add to calendar"), f"ics:{a_id}")])
        if view.closed not in (ClosedReason.STARTED,):
            rows.append([(t._("Cancel my place"), f"cx:{a_id}")])
    rows.append([(t._("◀ Back to activities"), "acts:0"), back_to_menu_button(t)])
    return inline(rows)


async def send_details(
    update: Update, context: PalContext, activity_id: int, *, new_message: bool = False
) -> None:
    """Show one activity as the viewer sees it."""
    t = context.t
    person = context.viewer.person
    assert person is not None
    try:
        view = await context.db.read(
            activity_view, activity_id=activity_id, person_id=person.id,
            now=context.services.clock.now(),
        )
    except ActivityNotFound:
        await answer(update, context, t._("This activity no longer exists."))
        return
    await show_screen(update, context, details_text(t, view), details_keyboard(t, view),
                      new_message=new_message)


@requires_onboarding
async def on_details(update: Update, context: PalContext) -> None:
    """`act:<id>`: the details of one activity."""
    assert context.matches is not None
    await send_details(update, context, int(context.matches[0].group(1)))


# ---------------------------------------------------------------- sign up


@requires_onboarding
async def on_sign_up(update: Update, context: PalContext) -> None:
    """`su:<id>`: take a place or join the reserve list (pressing twice changes nothing)."""
    t = context.t
    person_id, activity_id = pressed_activity(context)
    try:
        view, closed = await context.db.write(
            sign_up_and_view, person_id=person_id, activity_id=activity_id,
            now=context.services.clock.now(),
        )
    except ActivityNotFound:
        await answer(update, context, t._("This activity no longer exists."))
        return
    log.info("sign-up activity_id=%s closed=%s", activity_id, closed)
    toast = closed_text(t, view) if closed is not None else status_line(t, view)
    await show_screen(update, context, details_text(t, view), details_keyboard(t, view),
                      toast=toast)
    if closed is None:
        await offer_initial_survey_if_due(update, context, person_id=person_id,
                                          programme_id=view.activity.programme_id)


# ---------------------------------------------------------------- calendar file


@requires_onboarding
async def on_calendar(update: Update, context: PalContext) -> None:
    """`ics:<id>`: an .ics file for an activity the person has a place in."""
    t = context.t
    person_id, activity_id = pressed_activity(context)
    assert update.effective_chat is not None
    try:
        view = await context.db.read(activity_view, activity_id=activity_id,
                                     person_id=person_id, now=context.services.clock.now())
    except ActivityNotFound:
        await answer(update, context, t._("This activity no longer exists."))
        return
    registration = view.registration
    if registration is None or registration.status != RegistrationStatus.CONFIRMED:
        await answer(update, context,
                     t._("A calendar file is available once you have a place."), alert=True)
        return
    data = activity_ics(view.activity, now=context.services.clock.now(),
                        description=view.activity.description)
    if update.callback_query is not None:
        await update.callback_query.answer()
    await context.bot.send_document(
        update.effective_chat.id,
        InputFile(data, filename=f"activity-{activity_id}.ics"),
        caption=t._("Calendar file for: {title}. Open it to add it to your calendar.").format(
            title=view.activity.title),
    )


def register(app: PalApplication) -> None:
    """Add the activity list, details, sign-up and calendar handlers."""
    app.add_handler(CommandHandler("activities", activities_command))
    app.add_handler(CallbackQueryHandler(on_page, pattern=r"^acts:(\d{1,4})$"))
    app.add_handler(CallbackQueryHandler(on_details, pattern=r"^act:(\d{1,12})$"))
    app.add_handler(CallbackQueryHandler(on_sign_up, pattern=r"^su:(\d{1,12})$"))
    app.add_handler(CallbackQueryHandler(on_calendar, pattern=r"^ics:(\d{1,12})$"))
