"""Who is in an activity, for its animator: the list in the chat and as a CSV file.

Callback data: `anp:<id>` (the list), `anp:csv:<id>` (the file). Names are shown only
to animators and admins who may manage the activity (storage.activities.organising decides).
"""

from __future__ import annotations

import csv
import io
import logging

from telegram import InputFile, Update
from telegram.ext import CallbackQueryHandler

from bot.context import PalApplication, PalContext
from bot.keyboards import inline
from handlers.animator.common import (
    actor_of,
    animator_only,
    match_int,
    menu_button,
    refuse_stale,
    screen,
)
from handlers.common import answer
from storage.activities.organising import NotYourActivity
from storage.activities.participants import ParticipantList, ParticipantRow, participant_list
from storage.text_rule import spreadsheet_cell
from translations import Translator

log = logging.getLogger(__name__)
# A chat message holds 4096 characters; longer lists are in the CSV file.
LINES_IN_CHAT = 60


def _marks(row: ParticipantRow) -> str:
    marks = ""
    if row.attended:
        marks += " ✅"
    if row.without_telegram:
        marks += " 🧾"
    elif row.by_proxy:
        marks += " ✍"
    return marks


def list_text(t: Translator, found: ParticipantList) -> str:
    """Counts on top, then places and the reserve list, shortened for the chat."""
    a = found.activity
    lines = [
        f"👥 {a.title}",
        t.date_time(a.starts_at),
        t._("Places taken: {taken} of {places}").format(taken=len(found.places), places=a.places),
        t.ngettext(
            "{n} person on the reserve list", "{n} people on the reserve list", len(found.reserve)
        ).format(n=len(found.reserve)),
        t._("Present: {attended} of {taken}.").format(
            attended=found.attended, taken=len(found.places)
        ),
    ]
    if found.no_shows is not None:
        lines.append(
            t.ngettext(
                "{n} person with a place did not come.",
                "{n} people with a place did not come.",
                found.no_shows,
            ).format(n=found.no_shows)
        )
    shown = 0
    if found.places:
        lines += ["", t._("Places:")]
        for number, row in enumerate(found.places, 1):
            if shown < LINES_IN_CHAT:
                lines.append(f"{number}. {row.display_name}{_marks(row)}")
            shown += 1
    if found.reserve:
        lines += ["", t._("Reserve list:")]
        for row in found.reserve:
            if shown < LINES_IN_CHAT:
                lines.append(f"{row.position}. {row.display_name}{_marks(row)}")
            shown += 1
    if shown > LINES_IN_CHAT:
        rest = shown - LINES_IN_CHAT
        lines += [
            "",
            t.ngettext(
                "…and {n} more: see the CSV file.", "…and {n} more: see the CSV file.", rest
            ).format(n=rest),
        ]
    if not found.rows:
        lines += ["", t._("Nobody has signed up yet.")]
    else:
        lines += ["", t._("✅ present · 🧾 without Telegram · ✍ signed up by an animator")]
    return "\n".join(lines)


def participants_csv(t: Translator, found: ParticipantList) -> bytes:
    """The same list as a CSV file for Excel (UTF-8 with BOM, `;`-separated)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        [
            t._("No."),
            t._("Name"),
            t._("Status"),
            t._("Reserve list position"),
            t._("Present"),
            t._("Without Telegram"),
            t._("Signed up by an animator"),
            t._("Signed up at"),
        ]
    )
    yes, no = t._("yes"), t._("no")
    for number, row in enumerate(found.rows, 1):
        writer.writerow(
            [
                number,
                spreadsheet_cell(row.display_name),
                t._("place") if row.has_place else t._("reserve list"),
                "" if row.position is None else row.position,
                (yes if row.attended else no) if row.has_place else "",
                yes if row.without_telegram else no,
                yes if row.by_proxy else no,
                t.local(row.signed_up_at).strftime("%Y-%m-%d %H:%M"),
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


async def _load(update: Update, context: PalContext, activity_id: int) -> ParticipantList | None:
    try:
        return await context.db.read(
            participant_list,
            activity_id=activity_id,
            actor=actor_of(context),
            now=context.services.clock.now(),
        )
    except NotYourActivity:
        await refuse_stale(update, context)
        return None


@animator_only
async def on_list(update: Update, context: PalContext) -> None:
    """`anp:<id>`: the participant list with counts."""
    t = context.t
    activity_id = match_int(context)
    found = await _load(update, context, activity_id)
    if found is None:
        return
    await screen(
        update,
        context,
        list_text(t, found),
        inline(
            [
                [
                    (t._("📄 CSV file"), f"anp:csv:{activity_id}"),
                    (t._("✅ Attendance"), f"ana:{activity_id}"),
                ],
                [(t._("⬅️ Back"), f"an:a:{activity_id}"), menu_button(t)],
            ]
        ),
    )


@animator_only
async def on_csv(update: Update, context: PalContext) -> None:
    """`anp:csv:<id>`: the list as a CSV file."""
    t = context.t
    activity_id = match_int(context)
    found = await _load(update, context, activity_id)
    if found is None or update.effective_chat is None:
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
    log.info(
        "participants csv activity_id=%s by person_id=%s", activity_id, actor_of(context).person_id
    )
    day = t.local(found.activity.starts_at).strftime("%Y-%m-%d")
    await context.bot.send_document(
        update.effective_chat.id,
        InputFile(participants_csv(t, found), filename=f"participants-{activity_id}-{day}.csv"),
        caption=t._("Participants: {title}").format(title=found.activity.title),
    )
    if not found.rows:
        await answer(update, context, t._("Nobody has signed up yet."))


def register(app: PalApplication) -> None:
    """Add the participant list and its CSV file."""
    app.add_handler(CallbackQueryHandler(on_list, pattern=r"^anp:(\d{1,12})$"))
    app.add_handler(CallbackQueryHandler(on_csv, pattern=r"^anp:csv:(\d{1,12})$"))
