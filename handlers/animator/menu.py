"""The animator menu (/animator) and the animator's activity cards.

Callback data: `an:menu`, `an:list`, `an:pick:<att|ppl|code>` (choose an activity for
attendance, participants or the check-in code), `an:a:<id>` (an activity's card),
`an:x:<id>` / `an:xy:<id>` (call off: confirm, then do), `an:final` / `an:finaly`
(open the final survey: confirm, then do), `an:pg` / `an:pg:<programme>` (which of their
granted programmes the screens are about). Everything re-checks the access rule
(storage.access) for the programme, activity or person named.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.context import PalApplication, PalContext
from bot.keyboards import back_to_menu_button, inline, shorten
from handlers.animator.common import (
    Rows,
    activity_label,
    actor_of,
    animator_only,
    match_int,
    menu_button,
    refuse_no_programme,
    refuse_stale,
    screen,
)
from handlers.common import answer
from storage.access import choose_working_programme, working_programmes
from storage.activities.change_notices import ChangeProblem, InvalidChange
from storage.activities.editing import call_off
from storage.activities.organising import (
    ManagedActivity,
    NotYourActivity,
    managed_activities,
)
from storage.models import (
    ActivityStatus,
    Programme,
)
from translations import Translator
from usecases.animator_cards import (
    Card,
    activity_card,
    open_programme_final_survey,
    programme_by_id,
)

log = logging.getLogger(__name__)

PICK_TARGETS = {"att": "ana:{id}", "ppl": "anp:{id}", "code": "ana:code:{id}"}


def menu_rows(t: Translator) -> Rows:
    """The animator menu's buttons."""
    return [
        [(t._("📋 My activities"), "an:list")],
        [(t._("➕ New activity"), "anw:new")],
        [(t._("📣 Announcement"), "anb:new")],
        [(t._("✅ Attendance"), "an:pick:att"), (t._("👥 Participants"), "an:pick:ppl")],
        [(t._("🧾 People without Telegram"), "anx:list")],
        [(t._("🗳 Consultations"), "anc:list")],
        [(t._("📝 Open the final survey"), "an:final")],
        [(t._("🖨 Poster of upcoming activities"), "ano:prog")],  # handlers/animator_outreach
        [back_to_menu_button(t)],
    ]


@animator_only
async def animator_command(update: Update, context: PalContext) -> None:
    """/animator, the menu button and `an:menu`: the animator's tools."""
    t = context.t
    actor = actor_of(context)
    new = update.callback_query is None
    programmes = await context.db.read(working_programmes, actor)
    if not programmes:
        await screen(
            update,
            context,
            t._("No programme is assigned to you yet. Ask an administrator to assign one."),
            inline([[back_to_menu_button(t)]]),
            new_message=new,
        )
        return
    if actor.programme_id is None and not actor.is_admin:
        await _programme_choice(update, context, programmes, new_message=new)
        return
    text, rows = t._("Animator menu. What would you like to do?"), menu_rows(t)
    if len(programmes) > 1:
        chosen = next(
            (p.name for p in programmes if p.id == actor.programme_id), t._("all programmes")
        )
        text += "\n" + t._("Programme: {programme}.").format(programme=chosen)
        rows.insert(0, [(t._("🔁 Change programme"), "an:pg")])
    await screen(update, context, text, inline(rows), new_message=new)


async def _programme_choice(
    update: Update, context: PalContext, programmes: list[Programme], *, new_message: bool = False
) -> None:
    t = context.t
    rows: Rows = [[(shorten(p.name, 40), f"an:pg:{p.id}")] for p in programmes]
    rows.append([back_to_menu_button(t)])
    await screen(
        update,
        context,
        t._("You work in several programmes. Which programme do you want to work on now?"),
        inline(rows),
        new_message=new_message,
    )


@animator_only
async def on_programme_choice(update: Update, context: PalContext) -> None:
    """`an:pg`: the programmes this animator was granted, to choose one for the screens."""
    programmes = await context.db.read(working_programmes, actor_of(context))
    await _programme_choice(update, context, programmes)


@animator_only
async def on_programme(update: Update, context: PalContext) -> None:
    """`an:pg:<id>`: make a granted programme the one the animator's screens are about."""
    programme_id = match_int(context)
    actor = actor_of(context)
    if not await context.db.write(choose_working_programme, actor=actor, programme_id=programme_id):
        await answer(
            update,
            context,
            context.t._(
                "You are not assigned to this programme. Ask an administrator if you should be."
            ),
            alert=True,
        )
        return
    # The viewer was loaded before the choice: show the menu for the new programme.
    context.viewer_ = replace(context.viewer, actor=replace(actor, programme_id=programme_id))
    await animator_command(update, context)


# ---------------------------------------------------------------- lists


def _list_line(t: Translator, item: ManagedActivity) -> str:
    a = item.activity
    return f"{activity_label(t, a)} · {item.taken}/{a.places}"


@animator_only
async def on_list(update: Update, context: PalContext) -> None:
    """`an:list` / `an:pick:<what>`: the animator's activities, soonest first."""
    t = context.t
    assert context.matches is not None
    purpose = context.matches[0].group(1)
    items = await context.db.read(
        managed_activities, actor=actor_of(context), now=context.services.clock.now()
    )
    if not items:
        await screen(
            update,
            context,
            t._("You have no activities yet. Create one with “➕ New activity”."),
            inline([[(t._("➕ New activity"), "anw:new")], [menu_button(t)]]),
        )
        return
    target = PICK_TARGETS.get(purpose or "", "an:a:{id}")
    rows: Rows = [[(_list_line(t, item), target.format(id=item.activity.id))] for item in items]
    rows.append([menu_button(t)])
    heading = {
        "att": t._("Attendance: choose the activity."),
        "ppl": t._("Participants: choose the activity."),
        "code": t._("Check-in code: choose the activity."),
    }.get(purpose or "", t._("Your activities (places taken / places). Choose one:"))
    await screen(update, context, heading, inline(rows))


# ---------------------------------------------------------------- the card


def card_text(t: Translator, card: Card, now: datetime) -> str:
    """The activity as its animator sees it: details and numbers."""
    a = card.activity
    lines = [
        f"📌 {a.title}",
        t._("Category: {category}").format(category=a.category),
        t._("When: {date}, {start}–{end}").format(
            date=t.date(a.starts_at), start=t.time(a.starts_at), end=t.time(a.ends_at)
        ),
        t._("Where: {venue}").format(venue=a.venue),
        t._("Places taken: {taken} of {places}").format(taken=card.taken, places=a.places),
        t.ngettext(
            "{n} person on the reserve list", "{n} people on the reserve list", card.reserve
        ).format(n=card.reserve),
    ]
    if a.registration_deadline is not None:
        lines.append(t._("Sign up by {date}.").format(date=t.date_time(a.registration_deadline)))
    if a.status == ActivityStatus.CANCELLED:
        lines += ["", t._("❌ This activity has been called off.")]
    elif now >= a.ends_at:
        lines += [
            "",
            t._("Finished. Present: {attended}, did not come: {missing}.").format(
                attended=card.attended, missing=card.taken - card.attended
            ),
        ]
    elif now >= a.starts_at:
        lines += [
            "",
            t._("Going on now. Present so far: {attended}.").format(attended=card.attended),
        ]
    return "\n".join(lines)


def card_rows(t: Translator, card: Card, now: datetime) -> Rows:
    """What the animator can do with the activity now."""
    a_id = card.activity.id
    rows: Rows = [[(t._("👥 Participants"), f"anp:{a_id}"), (t._("✅ Attendance"), f"ana:{a_id}")]]
    live = card.activity.status != ActivityStatus.CANCELLED
    if live and now < card.activity.ends_at:
        rows.append([(t._("🔢 Check-in code"), f"ana:code:{a_id}")])
    if live and now < card.activity.starts_at:
        rows.append([(t._("✏️ Change"), f"ane:{a_id}"), (t._("📣 Announcement"), f"anb:new:{a_id}")])
        rows.append([(t._("❌ Call off"), f"an:x:{a_id}")])
    if live and now < card.activity.ends_at:  # handlers/animator_outreach
        rows.append(
            [(t._("🔗 Link and poster"), f"ano:{a_id}"), (t._("📞 Call list"), f"ano:call:{a_id}")]
        )
    rows.append([(t._("◀ My activities"), "an:list"), menu_button(t)])
    return rows


async def show_card(
    update: Update,
    context: PalContext,
    activity_id: int,
    *,
    note: str | None = None,
    new_message: bool = False,
) -> None:
    """Show an activity's card, or refuse if the animator may not manage it."""
    t = context.t
    try:
        card = await context.db.read(
            activity_card, activity_id=activity_id, actor=actor_of(context)
        )
    except NotYourActivity:
        await refuse_stale(update, context)
        return
    now = context.services.clock.now()
    text = card_text(t, card, now)
    if note:
        text = f"{note}\n\n{text}"
    await screen(update, context, text, inline(card_rows(t, card, now)), new_message=new_message)


@animator_only
async def on_card(update: Update, context: PalContext) -> None:
    """`an:a:<id>`: one activity's card."""
    await show_card(update, context, match_int(context))


# ---------------------------------------------------------------- call off


@animator_only
async def on_call_off_ask(update: Update, context: PalContext) -> None:
    """`an:x:<id>`: ask before calling an activity off."""
    t = context.t
    activity_id = match_int(context)
    try:
        card = await context.db.read(
            activity_card, activity_id=activity_id, actor=actor_of(context)
        )
    except NotYourActivity:
        await refuse_stale(update, context)
        return
    people = card.taken + card.reserve
    text = (
        t._("Call off “{title}”?").format(title=card.activity.title)
        + "\n"
        + t.ngettext(
            "{n} person signed up will be told.", "{n} people signed up will be told.", people
        ).format(n=people)
    )
    await screen(
        update,
        context,
        text,
        inline(
            [
                [(t._("❌ Yes, call it off"), f"an:xy:{activity_id}")],
                [(t._("◀ No, keep it"), f"an:a:{activity_id}")],
            ]
        ),
    )


def change_refusal(t: Translator, error: InvalidChange) -> str:
    """Why an activity cannot be changed or called off now."""
    if error.problem == ChangeProblem.CANCELLED:
        return t._("This activity has already been called off.")
    if error.problem == ChangeProblem.STARTED:
        return t._("This activity has already started, so it can no longer be changed.")
    return t._("Nothing has changed.")


@animator_only
async def on_call_off(update: Update, context: PalContext) -> None:
    """`an:xy:<id>`: call the activity off; everyone signed up is told."""
    t = context.t
    activity_id = match_int(context)
    try:
        notices = await context.db.write(
            call_off,
            activity_id=activity_id,
            actor=actor_of(context),
            now=context.services.clock.now(),
        )
    except NotYourActivity:
        await refuse_stale(update, context)
        return
    except InvalidChange as exc:
        await answer(update, context, change_refusal(t, exc), alert=True)
        return
    log.info(
        "activity called off activity_id=%s by person_id=%s notices=%s",
        activity_id,
        actor_of(context).person_id,
        notices,
    )
    await show_card(
        update,
        context,
        activity_id,
        note=t.ngettext(
            "Called off. {n} person will be told.", "Called off. {n} people will be told.", notices
        ).format(n=notices),
    )


# ---------------------------------------------------------------- final survey


@animator_only
async def on_final_ask(update: Update, context: PalContext) -> None:
    """`an:final`: explain, then ask before opening the final survey."""
    t = context.t
    actor = actor_of(context)
    if actor.programme_id is None:
        await refuse_no_programme(update, context)
        return
    programme = await context.db.read(programme_by_id, programme_id=actor.programme_id)
    if programme is None:
        await refuse_stale(update, context)
        return
    if programme.final_survey_opened_at is not None:
        text = t._(
            "The final survey of {programme} has been open since {date}. Opening it "
            "again invites only people not invited yet."
        ).format(programme=programme.name, date=t.date_time(programme.final_survey_opened_at))
    else:
        text = t._(
            "Open the final survey of {programme}? Everyone who answered the initial "
            "survey or took part in an activity gets an invitation. Do it near the end "
            "of the programme."
        ).format(programme=programme.name)
    await screen(
        update,
        context,
        text,
        inline([[(t._("📝 Open the final survey"), "an:finaly")], [menu_button(t)]]),
    )


@animator_only
async def on_final(update: Update, context: PalContext) -> None:
    """`an:finaly`: open the final survey with the same rule as the CLI."""
    t = context.t
    actor = actor_of(context)
    if actor.programme_id is None:
        await refuse_stale(update, context)
        return
    result = await context.db.write(
        open_programme_final_survey,
        programme_id=actor.programme_id,
        actor_id=actor.person_id,
        now=context.services.clock.now(),
    )
    log.info(
        "final survey opened programme_id=%s by person_id=%s invited=%s",
        actor.programme_id,
        actor.person_id,
        result.invited,
    )
    lines = [
        t._("The final survey is open.")
        if result.opened_now
        else t._("The final survey was already open."),
        t.ngettext("{n} person invited now.", "{n} people invited now.", result.invited).format(
            n=result.invited
        ),
        t.ngettext(
            "{n} person had already answered.",
            "{n} people had already answered.",
            result.already_answered,
        ).format(n=result.already_answered),
    ]
    if result.without_telegram:
        lines.append(
            t.ngettext(
                "{n} person without Telegram: enter their paper survey.",
                "{n} people without Telegram: enter their paper surveys.",
                result.without_telegram,
            ).format(n=result.without_telegram)
        )
    await screen(
        update,
        context,
        "\n".join(lines),
        inline([[(t._("🧾 People without Telegram"), "anx:list")], [menu_button(t)]]),
    )


def register(app: PalApplication) -> None:
    """Add /animator and its menu (bot/app.py adds each tool's own buttons)."""
    app.add_handler(CommandHandler("animator", animator_command))
    app.add_handler(CallbackQueryHandler(animator_command, pattern=r"^an:menu$"))
    app.add_handler(CallbackQueryHandler(on_programme_choice, pattern=r"^an:pg$"))
    app.add_handler(CallbackQueryHandler(on_programme, pattern=r"^an:pg:(\d{1,12})$"))
    app.add_handler(CallbackQueryHandler(on_list, pattern=r"^an:(?:list|pick:(att|ppl|code))$"))
    app.add_handler(CallbackQueryHandler(on_card, pattern=r"^an:a:(\d{1,12})$"))
    app.add_handler(CallbackQueryHandler(on_call_off_ask, pattern=r"^an:x:(\d{1,12})$"))
    app.add_handler(CallbackQueryHandler(on_call_off, pattern=r"^an:xy:(\d{1,12})$"))
    app.add_handler(CallbackQueryHandler(on_final_ask, pattern=r"^an:final$"))
    app.add_handler(CallbackQueryHandler(on_final, pattern=r"^an:finaly$"))
