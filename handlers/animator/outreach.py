"""Reaching residents off the chat: sign-up links, printable posters, call lists, phones.

Callback data: `ano:<id>` (the activity's sign-up link), `ano:pdf:<id>` (its A4 poster),
`ano:prog` (the programme's poster of upcoming activities), `ano:call:<id>` (people
without Telegram holding a place, to phone), `ano:csv:<id>` (the same as a CSV file),
`ano:ph:<person>` (type a phone number), `ano:phx:<person>` (remove it),
`ano:phc:<person>` (stop editing). Every press is re-checked: activities by
storage.activities.organising, people without Telegram by storage.people.acting_for.

Posters are in the programme's language (PALBOT_DEFAULT_LANGUAGE), whatever language
the animator uses the bot in: they hang on the notice board for everyone.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging

from telegram import InputFile, Update
from telegram.ext import CallbackQueryHandler

from bot.context import PalApplication, PalContext
from bot.keyboards import inline
from bot.poster_content import PosterActivity, activity_link, bot_link
from bot.posters import activity_poster, programme_poster
from handlers.animator.acting_for import show_card as show_person_card
from handlers.animator.common import (
    Rows,
    actor_of,
    animator_only,
    match_int,
    menu_button,
    refuse_stale,
    screen,
)
from handlers.common import answer
from handlers.dialogs import on_text
from schedules.call_list_notice import call_lines
from storage.activities.call_list import CallList, call_list
from storage.activities.organising import NotYourActivity
from storage.models import Activity, ActivityStatus, Dialog, Role
from storage.people.outreach import (
    PHONE_DIALOG,
    NoProgramme,
    activity_poster_facts,
    ask_phone,
    end_phone_edit,
    phone_typed,
    programme_poster_facts,
)
from storage.people.without_telegram import InvalidPhone, ProxyNotFound
from storage.text_rule import spreadsheet_cell
from translations import Translator, translator

log = logging.getLogger(__name__)
# Longer typed texts cannot be a phone number; they are cut before checking.
TYPED_PHONE_LIMIT = 40


def _poster_translator(context: PalContext) -> Translator:
    return translator(context.settings.default_language, context.settings.timezone)


def _contact(context: PalContext, activity: Activity | None) -> str | None:
    if activity is not None and activity.contact:
        return activity.contact
    return context.settings.signup_contact or None


def _poster_item(context: PalContext, activity: Activity, taken: int) -> PosterActivity:
    assert activity.id is not None
    return PosterActivity(
        title=activity.title,
        starts_at=activity.starts_at,
        ends_at=activity.ends_at,
        venue=activity.venue,
        places=activity.places,
        taken=taken,
        link=activity_link(context.bot.username, activity.id),
        cancelled=activity.status == ActivityStatus.CANCELLED,
    )


def _back(t: Translator, activity_id: int) -> list[tuple[str, str]]:
    return [(t._("⬅️ Back"), f"an:a:{activity_id}"), menu_button(t)]


# ---------------------------------------------------------------- link and posters


@animator_only
async def on_link(update: Update, context: PalContext) -> None:
    """`ano:<id>`: the activity's sign-up link, with the poster and call list buttons."""
    t = context.t
    activity_id = match_int(context)
    try:
        facts = await context.db.read(
            activity_poster_facts, activity_id=activity_id, actor=actor_of(context)
        )
    except NotYourActivity:
        await refuse_stale(update, context)
        return
    link = activity_link(context.bot.username, activity_id)
    text = "\n".join(
        [
            t._("🔗 Sign-up link for “{title}”:").format(title=facts.activity.title),
            link,
            "",
            t._(
                "Share it in chats or by text message. Whoever opens it sees this activity and "
                "can sign up; someone new first chooses a language and the programme."
            ),
            t._("The poster is an A4 PDF to print, with this link as a QR code."),
        ]
    )
    await screen(
        update,
        context,
        text,
        inline(
            [
                [
                    (t._("🖨 Poster (PDF)"), f"ano:pdf:{activity_id}"),
                    (t._("📞 Call list"), f"ano:call:{activity_id}"),
                ],
                _back(t, activity_id),
            ]
        ),
    )


@animator_only
async def on_poster(update: Update, context: PalContext) -> None:
    """`ano:pdf:<id>`: the activity's poster as a PDF document."""
    t = context.t
    activity_id = match_int(context)
    try:
        facts = await context.db.read(
            activity_poster_facts, activity_id=activity_id, actor=actor_of(context)
        )
    except NotYourActivity:
        await refuse_stale(update, context)
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
    assert update.effective_chat is not None
    # Drawing QR codes is pure Python (tens of ms, ~0.3 s for a full programme poster):
    # off the event loop, so other people's taps are not held up.
    pdf = await asyncio.to_thread(
        activity_poster,
        _poster_translator(context),
        programme=facts.programme,
        item=_poster_item(context, facts.activity, facts.taken),
        contact=_contact(context, facts.activity),
    )
    log.info(
        "poster activity_id=%s by person_id=%s bytes=%s",
        activity_id,
        actor_of(context).person_id,
        len(pdf),
    )
    day = t.local(facts.activity.starts_at).strftime("%Y-%m-%d")
    await context.bot.send_document(
        update.effective_chat.id,
        InputFile(pdf, filename=f"poster-{activity_id}-{day}.pdf"),
        caption=t._(
            "Poster: {title}. Print it on A4 and hang it where residents will see it."
        ).format(title=facts.activity.title),
        reply_markup=inline([_back(t, activity_id)]),
    )


@animator_only
async def on_programme_poster(update: Update, context: PalContext) -> None:
    """`ano:prog`: the programme's upcoming activities, each with its QR code."""
    t = context.t
    try:
        facts = await context.db.read(
            programme_poster_facts, actor=actor_of(context), now=context.services.clock.now()
        )
    except NoProgramme:
        await answer(update, context, t._("Join a programme first: send /activities."))
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
    assert update.effective_chat is not None
    items = [_poster_item(context, i.activity, i.activity.places - i.free) for i in facts.items]
    pdf = await asyncio.to_thread(
        programme_poster,
        _poster_translator(context),
        programme=facts.programme,
        items=items,
        bot=bot_link(context.bot.username),
        contact=_contact(context, None),
    )
    log.info(
        "programme poster activities=%s by person_id=%s bytes=%s",
        len(items),
        actor_of(context).person_id,
        len(pdf),
    )
    caption = t.ngettext(
        "Poster of {n} upcoming activity. Print it on A4.",
        "Poster of {n} upcoming activities. Print it on A4.",
        len(items),
    ).format(n=len(items))
    if not items:
        caption = t._(
            "There are no upcoming activities: the poster says so and shows the bot's QR code."
        )
    await context.bot.send_document(
        update.effective_chat.id,
        InputFile(pdf, filename="poster-activities.pdf"),
        caption=caption,
        reply_markup=inline([[menu_button(t)]]),
    )


# ---------------------------------------------------------------- the call list


def call_list_text(t: Translator, found: CallList) -> str:
    """Who to phone before the activity, with numbers where recorded."""
    a = found.activity
    lines = [t._("📞 Call list: {title}").format(title=a.title), t.date_time(a.starts_at), ""]
    if not found.entries:
        lines.append(t._("Nobody without Telegram holds a place in this activity."))
        return "\n".join(lines)
    lines.append(
        t.ngettext(
            "{n} person without Telegram holds a place and gets no reminder from the bot. "
            "Please phone them:",
            "{n} people without Telegram hold a place and get no reminder from the bot. "
            "Please phone them:",
            len(found.entries),
        ).format(n=len(found.entries))
    )
    lines += ["", *call_lines(t, found.entries)]
    if found.without_phone:
        lines += [
            "",
            t._("Add a missing number on the person's card in “🧾 People without Telegram”."),
        ]
    return "\n".join(lines)


def call_list_csv(t: Translator, found: CallList) -> bytes:
    """The call list for Excel (UTF-8 with BOM, `;`-separated)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        [t._("No."), t._("Name"), t._("Phone number"), t._("Activity"), t._("Starts at")]
    )
    starts = t.local(found.activity.starts_at).strftime("%Y-%m-%d %H:%M")
    for number, entry in enumerate(found.entries, 1):
        writer.writerow(
            [
                number,
                spreadsheet_cell(entry.display_name),
                spreadsheet_cell(entry.phone or ""),
                spreadsheet_cell(found.activity.title),
                starts,
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


async def _load_call_list(update: Update, context: PalContext, activity_id: int) -> CallList | None:
    try:
        return await context.db.read(call_list, activity_id=activity_id, actor=actor_of(context))
    except NotYourActivity:
        await refuse_stale(update, context)
        return None


@animator_only
async def on_call_list(update: Update, context: PalContext) -> None:
    """`ano:call:<id>`: the people to phone, in the chat."""
    t = context.t
    activity_id = match_int(context)
    found = await _load_call_list(update, context, activity_id)
    if found is None:
        return
    rows: Rows = []
    if found.entries:
        rows.append([(t._("📄 CSV file"), f"ano:csv:{activity_id}")])
    rows.append([(t._("🧾 People without Telegram"), "anx:list")])
    rows.append(_back(t, activity_id))
    await screen(update, context, call_list_text(t, found), inline(rows))


@animator_only
async def on_call_list_csv(update: Update, context: PalContext) -> None:
    """`ano:csv:<id>`: the call list as a CSV file."""
    t = context.t
    activity_id = match_int(context)
    found = await _load_call_list(update, context, activity_id)
    if found is None:
        return
    if not found.entries:
        await answer(
            update,
            context,
            t._("Nobody without Telegram holds a place in this activity."),
            alert=True,
        )
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
    assert update.effective_chat is not None
    log.info(
        "call list csv activity_id=%s by person_id=%s rows=%s",
        activity_id,
        actor_of(context).person_id,
        len(found.entries),
    )
    day = t.local(found.activity.starts_at).strftime("%Y-%m-%d")
    await context.bot.send_document(
        update.effective_chat.id,
        InputFile(call_list_csv(t, found), filename=f"call-list-{activity_id}-{day}.csv"),
        caption=t._("📞 Call list: {title}").format(title=found.activity.title),
    )


# ---------------------------------------------------------------- phone numbers


@animator_only
async def on_phone_ask(update: Update, context: PalContext) -> None:
    """`ano:ph:<person>`: ask for the number of a person without Telegram."""
    t = context.t
    person_id = match_int(context)
    try:
        person = await context.db.write(ask_phone, actor=actor_of(context), person_id=person_id)
    except ProxyNotFound:
        await answer(update, context, t._("This person is not on your list."), alert=True)
        return
    lines = [
        t._(
            "Type the phone number of {name} (e.g. 600 123 456). Only the programme "
            "team sees it; it is deleted with the person's data."
        ).format(name=person.display_name)
    ]
    rows: Rows = []
    if person.phone:
        lines.append(t._("Now: {phone}").format(phone=person.phone))
        rows.append([(t._("🗑 Remove the number"), f"ano:phx:{person_id}")])
    rows.append([(t._("✖ Cancel"), f"ano:phc:{person_id}")])
    await screen(update, context, "\n".join(lines), inline(rows))


@on_text(PHONE_DIALOG)
async def on_phone_typed(update: Update, context: PalContext, dialog: Dialog) -> None:
    """The typed number: stored, then the person's card again."""
    message = update.effective_message
    assert message is not None and message.text is not None
    t = context.t
    if not context.viewer.can(Role.ANIMATOR):
        await answer(update, context, t._("This is only for the programme team."))
        return
    try:
        person = await context.db.write(
            phone_typed, actor=actor_of(context), raw=message.text[:TYPED_PHONE_LIMIT]
        )
    except InvalidPhone:
        await answer(
            update,
            context,
            t._(
                "That does not look like a phone number. Type digits, e.g. 600 123 456 or "
                "+48 600 123 456."
            ),
        )
        return
    except ProxyNotFound:
        await answer(update, context, t._("This person is not on your list."))
        return
    if person is None or person.id is None:
        return
    log.info("proxy phone set person_id=%s by person_id=%s", person.id, actor_of(context).person_id)
    await show_person_card(update, context, person.id, new_message=True)


@animator_only
async def on_phone_end(update: Update, context: PalContext) -> None:
    """`ano:phx:<person>` removes the number, `ano:phc:<person>` leaves it as it was."""
    t = context.t
    assert context.matches is not None
    remove = context.matches[0].group(1) == "x"
    person_id = match_int(context, 2)
    try:
        await context.db.write(
            end_phone_edit, actor=actor_of(context), person_id=person_id, remove=remove
        )
    except ProxyNotFound:
        await answer(update, context, t._("This person is not on your list."), alert=True)
        return
    await show_person_card(
        update, context, person_id, toast=t._("Phone number removed.") if remove else None
    )


def register(app: PalApplication) -> None:
    """Add the link, poster, call-list and phone buttons (typed numbers come via @on_text)."""
    app.add_handler(CallbackQueryHandler(on_link, pattern=r"^ano:(\d{1,12})$"))
    app.add_handler(CallbackQueryHandler(on_poster, pattern=r"^ano:pdf:(\d{1,12})$"))
    app.add_handler(CallbackQueryHandler(on_programme_poster, pattern=r"^ano:prog$"))
    app.add_handler(CallbackQueryHandler(on_call_list, pattern=r"^ano:call:(\d{1,12})$"))
    app.add_handler(CallbackQueryHandler(on_call_list_csv, pattern=r"^ano:csv:(\d{1,12})$"))
    app.add_handler(CallbackQueryHandler(on_phone_ask, pattern=r"^ano:ph:(\d{1,12})$"))
    app.add_handler(CallbackQueryHandler(on_phone_end, pattern=r"^ano:ph([xc]):(\d{1,12})$"))
