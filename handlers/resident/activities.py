"""Residents browse their programme's activities, see details and sign up.

Callback data: `acts:<page>` (list page), `act:<id>` (details), `su:<id>` (sign up or
join the reserve list), `ics:<id>` (calendar file). Ids in callback data are only
hints: every press re-reads the activity and the person's standing.
"""

from __future__ import annotations

import logging
from datetime import datetime

from telegram import InlineKeyboardMarkup, InputFile, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.calendar import activity_ics
from bot.context import PalApplication, PalContext
from bot.keyboards import back_to_menu_button, inline, shorten
from handlers.common import answer, caller_of, requires_onboarding, speak_as
from handlers.surveys.form import intro_screen
from storage.activities.listing import ActivityNotFound, ClosedReason, activity_view
from storage.activities.resident_views import CONFIRMED, CardView, ProgrammeChoice
from storage.models import RegistrationStatus
from storage.people.identity import Resident
from storage.surveys.questionnaires import Questionnaire, SurveyPhase
from translations import Translator
from usecases.activities import (
    ActivityDetails,
    SignUpRefusal,
    activity_details,
    list_activities,
    sign_up,
)

log = logging.getLogger(__name__)
TITLE_IN_LIST = 32  # leaves room for the date and the places after the title


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


def pressed_id(context: PalContext) -> int:
    """The id a button's pattern captured (an activity, a page, a registration)."""
    assert context.matches is not None
    return int(context.matches[0].group(1))


async def not_onboarded(update: Update, context: PalContext, resident: Resident) -> bool:
    """Ask someone who has not finished the first steps to do that; True if asked."""
    speak_as(context, resident)
    if resident.is_onboarded:
        return False
    await answer(update, context, context.t._("First, let's get you set up: send /start."))
    return True


def places_text(t: Translator, free: int) -> str:
    """`3 wolne miejsca` with the right plural form."""
    return t.ngettext("{n} free place", "{n} free places", free).format(n=free)


# ---------------------------------------------------------------- the list


def programmes_button(t: Translator) -> tuple[str, str]:
    """To the resident's programmes: join another, show or leave one."""
    return (t._("🏘 Programmes"), "pr:list")


def programme_choice(t: Translator, programmes: list[ProgrammeChoice]) -> InlineKeyboardMarkup:
    """One button per open programme (`prog:<id>`)."""
    return inline([[(shorten(p.name, 60), f"prog:{p.id}")] for p in programmes])


async def show_activities(
    update: Update, context: PalContext, page: int = 0, *, new_message: bool = False
) -> None:
    """The list of upcoming activities, 8 per page, as buttons (in a new message if asked)."""
    data = await context.db.read(
        list_activities,
        caller=caller_of(update, context),
        page=page,
        now=context.services.clock.now(),
    )
    if await not_onboarded(update, context, data.resident):
        return
    t = context.t
    if data.page is None:
        if data.programmes:
            await show_screen(
                update,
                context,
                t._("Which programme do you take part in? Choose one:"),
                programme_choice(t, list(data.programmes)),
                new_message=new_message,
            )
        else:
            await show_screen(
                update,
                context,
                t._("No programme is taking sign-ups right now. Please check again later."),
                None,
                new_message=new_message,
            )
        return
    name = data.resident.programme_name or ""
    listed = data.page
    if not listed.items:
        await show_screen(
            update,
            context,
            t._(
                "There are no upcoming activities in {programme} right now. "
                "Please check again later."
            ).format(programme=name),
            inline([[programmes_button(t)], [back_to_menu_button(t)]]),
            new_message=new_message,
        )
        return
    lines = [
        t._("Activities of {programme}. Choose one to see the details.").format(programme=name)
    ]
    if listed.pages > 1:
        lines.append(t._("Page {page} of {pages}").format(page=listed.page + 1, pages=listed.pages))
    rows: list[list[tuple[str, str]]] = []
    for item in listed.items:
        if item.series_id is not None:
            # A weekly series is one entry: its next date and how many are left.
            dates = t.ngettext("{n} date", "{n} dates", item.dates).format(n=item.dates)
            label = (
                f"{shorten(item.title, TITLE_IN_LIST)} · 🔁 {t.short_date_time(item.starts_at)}"
                f" · {dates}"
            )
            rows.append([(label, f"ser:{item.series_id}")])
            continue
        free = places_text(t, item.free) if item.free else t._("reserve list")
        label = (
            f"{shorten(item.title, TITLE_IN_LIST)} · {t.short_date_time(item.starts_at)} · {free}"
        )
        rows.append([(label, f"act:{item.id}")])
    nav: list[tuple[str, str]] = []
    if listed.page > 0:
        nav.append((t._("◀ Previous"), f"acts:{listed.page - 1}"))
    if listed.page + 1 < listed.pages:
        nav.append((t._("Next ▶"), f"acts:{listed.page + 1}"))
    if nav:
        rows.append(nav)
    rows.append([programmes_button(t), back_to_menu_button(t)])
    await show_screen(update, context, "\n".join(lines), inline(rows), new_message=new_message)


async def activities_command(update: Update, context: PalContext) -> None:
    """/activities and the menu button."""
    await show_activities(update, context)


async def on_page(update: Update, context: PalContext) -> None:
    """`acts:<page>`: another page of the list."""
    await show_activities(update, context, pressed_id(context))


# ---------------------------------------------------------------- details


def status_line(t: Translator, view: CardView) -> str | None:
    """`Masz miejsce na: …` or `Jesteś na liście rezerwowej (miejsce 3).`"""
    status = view.standing.status
    if status is None:
        return None
    if status == CONFIRMED:
        return t._("✅ You have a place in: {title}").format(title=view.card.title)
    return t._("⏳ You are on the reserve list (position {position}).").format(
        position=view.standing.position
    )


def closed_text(t: Translator, reason: ClosedReason | None, deadline: datetime | None) -> str:
    """Why sign-up is closed, in plain words."""
    if reason == ClosedReason.CANCELLED:
        return t._("❌ This activity has been called off.")
    if reason == ClosedReason.STARTED:
        return t._("This activity has already started, so sign-up is closed.")
    if reason == ClosedReason.DEADLINE and deadline is not None:
        return t._("Sign-up closed on {date}.").format(date=t.date_time(deadline))
    return t._("Sign-up for this programme has closed.")


def other_programme_text(t: Translator) -> str:
    """Why a resident cannot sign up for another programme's activity."""
    return t._(
        "This activity belongs to another programme, so you cannot sign up for it "
        "here. Your programme's activities are under /activities."
    )


def details_text(t: Translator, view: CardView, *, note: str | None = None) -> str:
    """Title, category, date with weekday, time, venue, description, places."""
    a = view.card
    lines = [
        f"📌 {a.title}" + (" " + t._("(one date of a weekly activity)") if a.series_id else ""),
        t._("Category: {category}").format(category=a.category),
        t._("When: {date}, {start}–{end}").format(
            date=t.date(a.starts_at), start=t.time(a.starts_at), end=t.time(a.ends_at)
        ),
        t._("Where: {venue}").format(venue=a.venue),
    ]
    if a.description:
        lines += ["", a.description]
    lines.append("")
    standing = view.standing
    if view.closed is None or standing.status is not None:
        if view.free:
            lines.append("🪑 " + places_text(t, view.free))
        else:
            lines.append(t._("No free places."))
            if standing.waiting:
                lines.append(
                    t.ngettext(
                        "{n} person is on the reserve list.",
                        "{n} people are on the reserve list.",
                        standing.waiting,
                    ).format(n=standing.waiting)
                )
    if a.registration_deadline is not None and view.closed is None and note is None:
        lines.append(t._("Sign up by {date}.").format(date=t.date_time(a.registration_deadline)))
    status = status_line(t, view)
    if status:
        lines += ["", status]
    elif note is not None:
        lines += ["", note]
    elif view.closed is not None:
        lines += ["", closed_text(t, view.closed, a.registration_deadline)]
    return "\n".join(lines)


def details_keyboard(
    t: Translator, view: CardView, *, may_sign_up: bool = True
) -> InlineKeyboardMarkup:
    """Sign up / reserve list / calendar / cancel, then the way back."""
    a_id = view.card.id
    rows: list[list[tuple[str, str]]] = []
    status = view.standing.status
    if status is None and view.closed is None and may_sign_up:
        label = t._("Sign up") if view.free else t._("Join the reserve list")
        rows.append([(label, f"su:{a_id}")])
    if status is not None:
        if status == CONFIRMED:
            rows.append([(t._("📅 Add to calendar"), f"ics:{a_id}")])
        if view.closed not in (ClosedReason.STARTED,):
            rows.append([(t._("Cancel my place"), f"cx:{a_id}")])
    if view.card.series_id is not None:
        rows.append([(t._("🔁 All dates"), f"ser:{view.card.series_id}")])
    rows.append([(t._("◀ Back to activities"), "acts:0"), back_to_menu_button(t)])
    return inline(rows)


async def send_details(
    update: Update, context: PalContext, activity_id: int, *, new_message: bool = False
) -> None:
    """Show one activity as the presser sees it."""
    details = await context.db.read(
        activity_details,
        caller=caller_of(update, context),
        activity_id=activity_id,
        now=context.services.clock.now(),
    )
    await show_details(update, context, details, new_message=new_message)


async def show_details(
    update: Update, context: PalContext, details: ActivityDetails, *, new_message: bool = False
) -> None:
    """Render the details screen a use case read."""
    if await not_onboarded(update, context, details.resident):
        return
    t = context.t
    view = details.view
    if view is None:
        await answer(update, context, t._("This activity no longer exists."))
        return
    # A deep link may point at another programme's activity: shown, with why not.
    note = other_programme_text(t) if details.other_programme else None
    await show_screen(
        update,
        context,
        details_text(t, view, note=note),
        details_keyboard(t, view, may_sign_up=note is None),
        new_message=new_message,
    )


async def on_details(update: Update, context: PalContext) -> None:
    """`act:<id>`: the details of one activity."""
    await send_details(update, context, pressed_id(context))


# ---------------------------------------------------------------- sign up


async def on_sign_up(update: Update, context: PalContext) -> None:
    """`su:<id>`: take a place or join the reserve list (pressing twice changes nothing)."""
    activity_id = pressed_id(context)
    outcome = await context.db.write(
        sign_up,
        caller=caller_of(update, context),
        activity_id=activity_id,
        now=context.services.clock.now(),
        surveys_dir=context.settings.surveys_dir,
    )
    if await not_onboarded(update, context, outcome.resident):
        return
    t = context.t
    view = outcome.view
    if outcome.refused == SignUpRefusal.NOT_FOUND or view is None:
        await answer(update, context, t._("This activity no longer exists."))
        return
    if outcome.refused == SignUpRefusal.OTHER_PROGRAMME:
        log.info("sign-up refused: other programme activity_id=%s", activity_id)
        await answer(update, context, other_programme_text(t), alert=True)
        return
    log.info(
        "sign-up person_id=%s activity_id=%s created=%s closed=%s",
        outcome.resident.person_id,
        activity_id,
        outcome.created,
        view.closed if outcome.refused else None,
    )
    toast = (
        closed_text(t, view.closed, view.card.registration_deadline)
        if outcome.refused == SignUpRefusal.CLOSED
        else status_line(t, view)
    )
    await show_screen(
        update, context, details_text(t, view), details_keyboard(t, view), toast=toast
    )
    if outcome.survey_offer is not None and outcome.survey_programme_id is not None:
        await offer_initial_survey(
            update, context, outcome.survey_offer, outcome.survey_programme_id
        )


async def offer_initial_survey(
    update: Update, context: PalContext, questionnaire: Questionnaire, programme_id: int
) -> None:
    """After a first place in a programme: the initial survey, as a message of its own."""
    chat = update.effective_chat
    if chat is None:
        return
    t = context.t
    text, markup = intro_screen(
        t,
        questionnaire,
        SurveyPhase.INITIAL,
        programme_id,
        lead=t._(
            "One more thing, if you have a few minutes: a short survey about how "
            "you are doing. It helps the programme see what works."
        ),
    )
    await context.bot.send_message(chat.id, text, reply_markup=markup)


# ---------------------------------------------------------------- calendar file


@requires_onboarding
async def on_calendar(update: Update, context: PalContext) -> None:
    """`ics:<id>`: an .ics file for an activity the person has a place in."""
    t = context.t
    person_id, activity_id = pressed_activity(context)
    assert update.effective_chat is not None
    try:
        view = await context.db.read(
            activity_view,
            activity_id=activity_id,
            person_id=person_id,
            now=context.services.clock.now(),
        )
    except ActivityNotFound:
        await answer(update, context, t._("This activity no longer exists."))
        return
    registration = view.registration
    if registration is None or registration.status != RegistrationStatus.CONFIRMED:
        await answer(
            update, context, t._("A calendar file is available once you have a place."), alert=True
        )
        return
    data = activity_ics(
        view.activity, now=context.services.clock.now(), description=view.activity.description
    )
    if update.callback_query is not None:
        await update.callback_query.answer()
    await context.bot.send_document(
        update.effective_chat.id,
        InputFile(data, filename=f"activity-{activity_id}.ics"),
        caption=t._("Calendar file for: {title}. Open it to add it to your calendar.").format(
            title=view.activity.title
        ),
    )


def register(app: PalApplication) -> None:
    """Add the activity list, details, sign-up and calendar handlers."""
    app.add_handler(CommandHandler("activities", activities_command))
    app.add_handler(CallbackQueryHandler(on_page, pattern=r"^acts:(\d{1,4})$"))
    app.add_handler(CallbackQueryHandler(on_details, pattern=r"^act:(\d{1,12})$"))
    app.add_handler(CallbackQueryHandler(on_sign_up, pattern=r"^su:(\d{1,12})$"))
    app.add_handler(CallbackQueryHandler(on_calendar, pattern=r"^ics:(\d{1,12})$"))
