"""Staff follow consultations: the list, live counts, written answers, closing early, and
entering paper answers for people without Telegram.

Callback data: `anc:list`, `anc:c:<id>` (the card with live counts), `anc:ft:<id>` (the
open question's answers — staff of that programme only), `anc:x:<id>` / `anc:xy:<id>`
(close now: confirm, then do), `anc:pp:<id>` (whose paper form), and for a paper form
`anc:pa:<person>:<id>:open`, `anc:pa:<person>:<id>:<question>:<option>`,
`anc:pa:<person>:<id>:go:<position>`. Every press re-checks access (storage.consultations.running).
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot.context import PalApplication, PalContext
from bot.keyboards import inline, shorten
from handlers.animator.common import Rows, actor_of, animator_only, menu_button, screen
from handlers.common import MAX_TEXT_INPUT, answer, too_long
from handlers.consultations.answers import text_hint
from handlers.dialogs import on_text
from schedules.consultations import answer_screen, last_minute, results_lines
from storage.consultations.answers import (
    PAPER_TEXT_DIALOG,
    Answerer,
    AnswerSheet,
    BadAnswer,
    answer_sheet,
    choose,
    move_to,
    write_free_text,
)
from storage.consultations.drafts import ConsultationInvalid
from storage.consultations.results import (
    Results,
    free_text_answers,
    staff_consultations,
    staff_results,
)
from storage.consultations.running import (
    ConsultationNotOpen,
    NotInAudience,
    NotYourConsultation,
    close_now,
)
from storage.dialogs import close_dialog
from storage.messaging.broadcasts import utf16_length
from storage.models import ConsultationState, Dialog, Role
from storage.people.without_telegram import ProxyNotFound
from translations import Translator
from usecases.consultation_paper import paper_people

log = logging.getLogger(__name__)
# Room left in a 4,096-unit message for the buttons' screen to stay readable.
MESSAGE_BUDGET = 3900


def _state(t: Translator, state: str) -> str:
    return {
        ConsultationState.SCHEDULED: t._("not open yet"),
        ConsultationState.OPEN: t._("open"),
        ConsultationState.CLOSED: t._("closed"),
    }.get(ConsultationState(state), state)


async def _stale(update: Update, context: PalContext) -> None:
    await answer(
        update,
        context,
        context.t._("This consultation is not available to you. Open the animator menu again."),
        alert=True,
    )


def _id(context: PalContext, group: int = 1) -> int:
    assert context.matches is not None
    return int(context.matches[0].group(group))


@animator_only
async def on_list(update: Update, context: PalContext) -> None:
    """`anc:list`: the programme's consultations, newest first."""
    t = context.t
    lines = await context.db.read(staff_consultations, actor=actor_of(context))
    rows: Rows = [[(t._("➕ New consultation"), "anc:new")]]
    for line in lines:
        c = line.consultation
        label = f"🗳 {shorten(c.title, 28)} · {_state(t, c.state)} · {line.respondents}"
        rows.append([(label, f"anc:c:{c.id}")])
    rows.append([menu_button(t)])
    text = (
        t._("Consultations (title · state · people who answered):")
        if lines
        else t._("No consultations yet. Ask residents a question or run a needs survey.")
    )
    await screen(update, context, text, inline(rows))


def card_text(t: Translator, found: Results) -> str:
    """The consultation with its live counts, exact (staff only)."""
    c = found.consultation
    lines = [
        f"🗳 {c.title}",
        t._("State: {state}").format(state=_state(t, c.state)),
        t._("Open from {opens} to {closes}.").format(
            opens=t.date_time(c.opens_at), closes=t.date_time(last_minute(c))
        ),
    ]
    lines += ["", *results_lines(t, found, exact=True)]
    if found.on_paper:
        lines.append(
            t.ngettext("Of them {n} on paper.", "Of them {n} on paper.", found.on_paper).format(
                n=found.on_paper
            )
        )
    if c.free_question:
        lines += [
            "",
            t.ngettext(
                "{n} written answer to the open question.",
                "{n} written answers to the open question.",
                found.free_texts,
            ).format(n=found.free_texts),
        ]
    return "\n".join(lines)


@animator_only
async def on_card(update: Update, context: PalContext) -> None:
    """`anc:c:<id>`: live counts for the team."""
    await _card(update, context, _id(context))


async def _card(update: Update, context: PalContext, cid: int) -> None:
    t = context.t
    try:
        found = await context.db.read(staff_results, consultation_id=cid, actor=actor_of(context))
    except NotYourConsultation:
        await _stale(update, context)
        return
    rows: Rows = [[(t._("🔄 Refresh"), f"anc:c:{cid}")]]
    if found.consultation.free_question:
        rows.append([(t._("✍ Written answers"), f"anc:ft:{cid}")])
    if found.consultation.state == ConsultationState.OPEN:
        rows.append([(t._("🧾 Enter a paper answer"), f"anc:pp:{cid}")])
    if found.consultation.state != ConsultationState.CLOSED:
        rows.append([(t._("⏹ Close now"), f"anc:x:{cid}")])
    rows.append([(t._("◀ Consultations"), "anc:list"), menu_button(t)])
    await screen(update, context, card_text(t, found), inline(rows))


@animator_only
async def on_free_texts(update: Update, context: PalContext) -> None:
    """`anc:ft:<id>`: the written answers, for staff of that programme only."""
    t = context.t
    cid = _id(context)
    try:
        texts = await context.db.read(
            free_text_answers, consultation_id=cid, actor=actor_of(context)
        )
    except NotYourConsultation:
        await _stale(update, context)
        return
    head = t._("Written answers (shown to the team only, never in reports):")
    parts = [head]
    # The newest first, as many as fit in one message (Telegram counts UTF-16 units).
    for text in reversed(texts):
        line = f"— {shorten(text, 600)}"
        if utf16_length("\n\n".join([*parts, line])) > MESSAGE_BUDGET:
            break
        parts.append(line)
    if len(parts) == 1:
        parts.append(t._("No written answers yet."))
    await screen(update, context, "\n\n".join(parts), inline([[(t._("◀ Back"), f"anc:c:{cid}")]]))


@animator_only
async def on_close_ask(update: Update, context: PalContext) -> None:
    """`anc:x:<id>`: ask before closing early."""
    t = context.t
    cid = _id(context)
    await screen(
        update,
        context,
        t._("Close the consultation now? Nobody can answer or change answers after that."),
        inline(
            [
                [(t._("⏹ Yes, close it"), f"anc:xy:{cid}")],
                [(t._("◀ No, keep it open"), f"anc:c:{cid}")],
            ]
        ),
    )


@animator_only
async def on_close(update: Update, context: PalContext) -> None:
    """`anc:xy:<id>`: close now; residents get the results if that was chosen."""
    t = context.t
    cid = _id(context)
    try:
        queued = await context.db.write(
            close_now,
            consultation_id=cid,
            actor=actor_of(context),
            now=context.services.clock.now(),
        )
    except NotYourConsultation:
        await _stale(update, context)
        return
    except ConsultationNotOpen:
        await answer(update, context, t._("This consultation is not open."), alert=True)
        return
    await answer(
        update,
        context,
        t.ngettext(
            "Closed. The results go to {n} person.", "Closed. The results go to {n} people.", queued
        ).format(n=queued)
        if queued
        else t._("Closed."),
    )
    await _card(update, context, cid)


@animator_only
async def on_paper_people(update: Update, context: PalContext) -> None:
    """`anc:pp:<id>`: whose paper form to enter."""
    t = context.t
    cid = _id(context)
    try:
        people = await context.db.read(paper_people, consultation_id=cid, actor=actor_of(context))
    except NotYourConsultation:
        await _stale(update, context)
        return
    rows: Rows = [
        [(shorten(p.display_name or "—"), f"anc:pa:{p.id}:{cid}:open")] for p in people[:40]
    ]
    rows.append([(t._("◀ Back"), f"anc:c:{cid}")])
    text = (
        t._("Whose paper answers are you entering?")
        if people
        else t._(
            "No people without Telegram in this programme. Add them under “People "
            "without Telegram”."
        )
    )
    await screen(update, context, text, inline(rows))


async def _paper_screen(
    update: Update,
    context: PalContext,
    sheet: AnswerSheet,
    person_id: int,
    *,
    new_message: bool = False,
) -> None:
    t = context.t
    body = answer_screen(t, sheet, prefix=f"anc:pa:{person_id}")
    text = "\n\n".join([t._("🧾 Paper answers (entered by the team)"), body.text])
    rows: Rows = [[(b.text, b.callback_data or "") for b in row] for row in body.buttons]
    rows.append([(t._("◀ Back"), f"anc:c:{sheet.consultation.id}")])
    await screen(update, context, text, inline(rows), new_message=new_message)


async def _paper_refused(update: Update, context: PalContext, error: Exception) -> None:
    t = context.t
    if isinstance(error, ConsultationNotOpen):
        await answer(update, context, t._("This consultation is not open."), alert=True)
    elif isinstance(error, NotInAudience):
        await answer(update, context, t._("This person is not among those asked."), alert=True)
    else:
        await _stale(update, context)


PAPER_ERRORS = (ConsultationNotOpen, NotInAudience, NotYourConsultation, BadAnswer, ProxyNotFound)


@animator_only
async def on_paper(update: Update, context: PalContext) -> None:
    """`anc:pa:<person>:<id>:…`: enter one person's paper form, question by question."""
    assert context.matches is not None
    person_id, cid = _id(context, 1), _id(context, 2)
    rest = context.matches[0].group(3)
    who = Answerer(person_id, paper_by=actor_of(context))
    now = context.services.clock.now()
    try:
        if rest == "open":
            sheet = await context.db.write(answer_sheet, consultation_id=cid, who=who, now=now)
        elif rest.startswith("go:"):
            sheet = await context.db.write(
                move_to, consultation_id=cid, who=who, position=int(rest[3:]), now=now
            )
        else:
            question, option = (int(x) for x in rest.split(":"))
            sheet = await context.db.write(
                choose, consultation_id=cid, who=who, question=question, option=option, now=now
            )
    except PAPER_ERRORS as exc:
        await _paper_refused(update, context, exc)
        return
    await _paper_screen(update, context, sheet, person_id)


@on_text(PAPER_TEXT_DIALOG)
async def on_paper_text(update: Update, context: PalContext, dialog: Dialog) -> None:
    """The written answer from a paper form, typed by staff."""
    message = update.effective_message
    assert message is not None and message.text is not None
    t = context.t
    if not context.viewer.can(Role.ANIMATOR):
        await answer(update, context, t._("This is only for the programme team."))
        return
    if too_long(message.text):
        await answer(
            update,
            context,
            t._(
                "That is too long: {length} characters, at most {limit}. Please shorten it."
            ).format(length=len(message.text), limit=MAX_TEXT_INPUT),
        )
        return
    cid, person_id = int(dialog.data["consultation_id"]), int(dialog.data["person_id"])
    who = Answerer(person_id, paper_by=actor_of(context))
    try:
        sheet = await context.db.write(
            write_free_text,
            consultation_id=cid,
            who=who,
            text=message.text,
            now=context.services.clock.now(),
        )
    except ConsultationInvalid as exc:
        await answer(update, context, text_hint(t, exc))
        return
    except PAPER_ERRORS as exc:
        await context.db.write(
            close_dialog, person_id=actor_of(context).person_id, kind=PAPER_TEXT_DIALOG
        )
        await _paper_refused(update, context, exc)
        return
    await _paper_screen(update, context, sheet, person_id, new_message=True)


def register(app: PalApplication) -> None:
    """Add the consultation list, cards and paper entry."""
    app.add_handler(CallbackQueryHandler(on_list, pattern=r"^anc:list$"))
    app.add_handler(CallbackQueryHandler(on_card, pattern=r"^anc:c:(\d{1,9})$"))
    app.add_handler(CallbackQueryHandler(on_free_texts, pattern=r"^anc:ft:(\d{1,9})$"))
    app.add_handler(CallbackQueryHandler(on_close_ask, pattern=r"^anc:x:(\d{1,9})$"))
    app.add_handler(CallbackQueryHandler(on_close, pattern=r"^anc:xy:(\d{1,9})$"))
    app.add_handler(CallbackQueryHandler(on_paper_people, pattern=r"^anc:pp:(\d{1,9})$"))
    app.add_handler(
        CallbackQueryHandler(
            on_paper, pattern=r"^anc:pa:(\d{1,9}):(\d{1,9}):(open|go:\d{1,2}|\d{1,2}:\d{1,2})$"
        )
    )
