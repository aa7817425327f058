"""Residents see a weekly series as one entry and sign up for all its dates in one tap.

Callback data: `ser:<series id>` (the series: its rule, its next dates and the reader's
place on each), `sua:<series id>` (sign up for every open date). One date is opened
with `act:<activity id>` and signed up for with `su:<activity id>`, as any activity.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler

from bot.context import PalApplication, PalContext
from bot.keyboards import back_to_menu_button, inline
from handlers.common import answer, caller_of
from handlers.resident.activities import (
    not_onboarded,
    offer_initial_survey,
    other_programme_text,
    places_text,
    pressed_id,
    show_screen,
)
from storage.activities.resident_views import CONFIRMED
from storage.activities.series_views import SeriesDateView, SeriesView
from storage.models import ActivityStatus
from translations import Translator
from usecases.series import SeriesDetails, SeriesRefusal, series_details, sign_up_for_series

log = logging.getLogger(__name__)
# Dates shown as buttons on the series screen; the rest are listed as a count.
DATES_SHOWN = 6


def rule_line(t: Translator, view: SeriesView) -> str:
    """`Co tydzień: wtorek, 17:00–19:00`."""
    first = view.dates[0]
    return t._("Every week: {weekday}, {start}–{end}").format(
        weekday=t.weekday(t.local(first.starts_at).date()),
        start=t.time(first.starts_at),
        end=t.time(first.ends_at),
    )


def _date_mark(t: Translator, when: SeriesDateView) -> str:
    if when.standing.status == CONFIRMED:
        return "✅"
    if when.standing.status is not None:
        return "⏳"
    if when.status == ActivityStatus.CANCELLED:
        return "❌"
    if when.closed is not None:
        return "🔒"
    return places_text(t, when.free) if when.free else t._("reserve list")


def series_text(t: Translator, view: SeriesView, *, note: str | None = None) -> str:
    """Title, rule, period, venue, description, the reader's dates and the next ones."""
    upcoming = len(view.dates)
    lines = [
        f"📌 {view.title}",
        t._("Category: {category}").format(category=view.category),
        rule_line(t, view),
        t.ngettext(
            "Until {last}: {n} more date",
            "Until {last}: {n} more dates",
            upcoming,
        ).format(last=t.day(view.dates[-1].starts_at.astimezone(t.zone).date()), n=upcoming),
    ]
    if view.left_out:
        lines.append(
            t._("No meeting on: {days}").format(
                days=", ".join(t.short_day(d) for d in view.left_out)
            )
        )
    lines.append(t._("Where: {venue}").format(venue=view.venue))
    if view.description:
        lines += ["", view.description]
    mine = view.mine
    if mine:
        places = sum(1 for d in mine if d.standing.status == CONFIRMED)
        lines.append("")
        if places:
            lines.append(
                t.ngettext(
                    "✅ You have a place on {n} of these dates.",
                    "✅ You have a place on {n} of these dates.",
                    places,
                ).format(n=places)
            )
        if len(mine) > places:
            waiting = len(mine) - places
            lines.append(
                t.ngettext(
                    "⏳ You are on the reserve list for {n} date.",
                    "⏳ You are on the reserve list for {n} dates.",
                    waiting,
                ).format(n=waiting)
            )
    if note:
        lines += ["", note]
    lines += ["", t._("Next dates:")]
    for when in view.dates[:DATES_SHOWN]:
        lines.append(f"• {t.short_date_time(when.starts_at)} — {_date_mark(t, when)}")
    if upcoming > DATES_SHOWN:
        rest = upcoming - DATES_SHOWN
        lines.append(t.ngettext("… and {n} more", "… and {n} more", rest).format(n=rest))
    return "\n".join(lines)


def series_keyboard(
    t: Translator, view: SeriesView, *, may_sign_up: bool = True
) -> InlineKeyboardMarkup:
    """Sign up for all dates, one button per next date, then the way back."""
    rows: list[list[tuple[str, str]]] = []
    to_sign_up = view.to_sign_up
    if may_sign_up and to_sign_up:
        label = (
            t._("Sign up for all dates")
            if not view.mine
            else t.ngettext(
                "Sign up for the other {n} date", "Sign up for the other {n} dates", len(to_sign_up)
            ).format(n=len(to_sign_up))
        )
        rows.append([(label, f"sua:{view.series_id}")])
    for when in view.dates[:DATES_SHOWN]:
        rows.append(
            [
                (
                    f"{t.short_date_time(when.starts_at)} · {_date_mark(t, when)}",
                    f"act:{when.activity_id}",
                )
            ]
        )
    rows.append([(t._("◀ Back to activities"), "acts:0"), back_to_menu_button(t)])
    return inline(rows)


async def _show(
    update: Update,
    context: PalContext,
    details: SeriesDetails,
    *,
    toast: str | None = None,
) -> None:
    if await not_onboarded(update, context, details.resident):
        return
    t = context.t
    view = details.view
    if view is None:
        await answer(update, context, t._("This activity has no more dates."))
        return
    note = other_programme_text(t) if details.other_programme else None
    await show_screen(
        update,
        context,
        series_text(t, view, note=note),
        series_keyboard(t, view, may_sign_up=note is None),
        toast=toast,
    )


async def on_series(update: Update, context: PalContext) -> None:
    """`ser:<id>`: a weekly series with its next dates."""
    details = await context.db.read(
        series_details,
        caller=caller_of(update, context),
        series_id=pressed_id(context),
        now=context.services.clock.now(),
    )
    await _show(update, context, details)


async def on_sign_up_all(update: Update, context: PalContext) -> None:
    """`sua:<id>`: a place or reserve position on every open date (twice changes nothing)."""
    series_id = pressed_id(context)
    outcome = await context.db.write(
        sign_up_for_series,
        caller=caller_of(update, context),
        series_id=series_id,
        now=context.services.clock.now(),
        surveys_dir=context.settings.surveys_dir,
    )
    if await not_onboarded(update, context, outcome.resident):
        return
    t = context.t
    if outcome.refused == SeriesRefusal.NOT_FOUND:
        await answer(update, context, t._("This activity has no more dates."))
        return
    if outcome.refused == SeriesRefusal.OTHER_PROGRAMME:
        await answer(update, context, other_programme_text(t), alert=True)
        return
    log.info("series sign-up series_id=%s dates=%s", series_id, outcome.created)
    toast = (
        t.ngettext(
            "You have a place on {places} date; reserve list: {reserve}.",
            "You have a place on {places} dates; reserve list: {reserve}.",
            outcome.places,
        ).format(places=outcome.places, reserve=outcome.reserve)
        if outcome.created
        else None
    )
    await _show(update, context, SeriesDetails(outcome.resident, outcome.view), toast=toast)
    if outcome.survey_offer is not None and outcome.survey_programme_id is not None:
        await offer_initial_survey(
            update, context, outcome.survey_offer, outcome.survey_programme_id
        )


def register(app: PalApplication) -> None:
    """Add the series screen and "sign up for all dates"."""
    app.add_handler(CallbackQueryHandler(on_series, pattern=r"^ser:(\d{1,12})$"))
    app.add_handler(CallbackQueryHandler(on_sign_up_all, pattern=r"^sua:(\d{1,12})$"))
