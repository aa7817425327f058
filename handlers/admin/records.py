"""/admin: the audit trail (as `palbot audit`, newest first, a page at a time) and the data
file of a person without Telegram (as `palbot person-data`).

Callback data: `prg:au:<p|0>:<page>` (0: every programme, administrators only),
`prg:pd:<p>` (people without Telegram), `prg:pf:<p>:<person>` (their data file, audited).
"""

from __future__ import annotations

import json
import logging

from telegram import InputFile, Update
from telegram.ext import CallbackQueryHandler

from bot.context import PalApplication, PalContext
from bot.data_export import render_html
from bot.keyboards import inline
from handlers.admin.menu import staff_actor
from handlers.admin.programme_texts import Rows
from handlers.admin.programmes import arg, staff_screen
from handlers.resident.activities import show_screen
from storage.programmes.records import (
    PEOPLE_SHOWN,
    audit_page,
    data_for_staff,
    people_without_telegram,
)
from translations import translator

log = logging.getLogger(__name__)
MAX_PAGE = 9999


@staff_screen
async def on_audit(update: Update, context: PalContext) -> None:
    """`prg:au:<p|0>:<page>`: recorded actions, newest first (ids and field names only)."""
    t = context.t
    programme_id, page = int(arg(context)) or None, min(int(arg(context, 2)), MAX_PAGE)
    found = await context.db.read(
        audit_page, actor=staff_actor(context), programme_id=programme_id, page=page
    )
    lines = [
        t._(
            "📜 Audit trail, newest first (page {n}). People are shown by their number only:"
        ).format(n=found.page + 1)
    ]
    for entry in found.entries:
        actor = "-" if entry.actor_id is None else f"#{entry.actor_id}"
        subject = entry.subject_type + (f" #{entry.subject_id}" if entry.subject_id else "")
        details = json.dumps(entry.details, ensure_ascii=False, sort_keys=True)[:120]
        lines.append(
            f"{t.short_date_time(entry.at)} · {actor} · {entry.action} · {subject}"
            + (f" · {details}" if entry.details else "")
        )
    if not found.entries:
        lines.append(t._("Nothing recorded yet."))
    p = programme_id or 0
    paging: list[tuple[str, str]] = []
    if found.page > 0:
        paging.append((t._("⬅️ Newer"), f"prg:au:{p}:{found.page - 1}"))
    if found.has_older and found.page < MAX_PAGE:
        paging.append((t._("Older ➡️"), f"prg:au:{p}:{found.page + 1}"))
    rows: Rows = [paging] if paging else []
    rows.append(
        [
            (t._("↩️ Programme"), f"prg:o:{p}")
            if programme_id
            else (t._("↩️ Administration"), "adm:menu")
        ]
    )
    await show_screen(update, context, "\n".join(lines), inline(rows))


@staff_screen
async def on_people(update: Update, context: PalContext) -> None:
    """`prg:pd:<p>`: people without Telegram in the programme, to get one's data file."""
    t = context.t
    programme_id = int(arg(context))
    people = await context.db.read(
        people_without_telegram, actor=staff_actor(context), programme_id=programme_id
    )
    rows: Rows = [
        [(f"📄 {name[:40] or '#' + str(pid)}", f"prg:pf:{programme_id}:{pid}")]
        for pid, name in people[:PEOPLE_SHOWN]
    ]
    rows.append([(t._("↩️ Programme"), f"prg:o:{programme_id}")])
    text = (
        t._(
            "Whose data file do you need? It holds everything stored about the person "
            "(as /mydata gives residents): give it to them in person, and do not forward "
            "it elsewhere."
        )
        if people
        else t._("This programme has nobody registered without Telegram.")
    )
    await show_screen(update, context, text, inline(rows))


@staff_screen
async def on_person_file(update: Update, context: PalContext) -> None:
    """`prg:pf:<p>:<person>`: the person's data file in their language (audited)."""
    t = context.t
    programme_id, person_id = int(arg(context)), int(arg(context, 2))
    data = await context.db.write(
        data_for_staff,
        actor=staff_actor(context),
        programme_id=programme_id,
        person_id=person_id,
        now=context.services.clock.now(),
    )
    html = render_html(data, translator(data.language, context.settings.timezone))
    log.info("person data file sent person_id=%s", context.viewer.person_id)
    query = update.callback_query
    if query is not None:
        await query.answer()
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_document(
        chat.id,
        InputFile(html.encode(), filename=f"data-{person_id}.html"),
        caption=t._(
            "Everything stored about this person. Print it or hand it over; it is personal data."
        ),
    )


def register(app: PalApplication) -> None:
    """Add the audit trail and data file screens."""
    pid = r"(\d{1,12})"
    for callback, pattern in (
        (on_audit, rf"^prg:au:{pid}:(\d{{1,4}})$"),
        (on_people, rf"^prg:pd:{pid}$"),
        (on_person_file, rf"^prg:pf:{pid}:(\d{{1,12}})$"),
    ):
        app.add_handler(CallbackQueryHandler(callback, pattern=pattern))
