"""An animator erases the data of a person without Telegram, who cannot send /forgetme.

Reached from that person's card in the animator menu. Callback data: `pv:ax:<person>`
(ask, showing what will happen) and `pv:ay:<person>:<unix time asked>` (erase). Who may
act for whom is the animator area's rule (storage.people.without_telegram), checked
again on every press.
"""

from __future__ import annotations

import asyncio
import logging
import re

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot.context import PalApplication, PalContext
from bot.keyboards import inline
from handlers.animator.common import actor_of, animator_only, screen
from handlers.common import answer
from handlers.privacy.rights import still_fresh
from storage.people.acting_for import proxy_scope
from storage.people.without_telegram import ProxyNotFound
from storage.privacy.erasure import (
    AnswersFate,
    ErasurePreview,
    ErasureReport,
    erase_proxy_participant,
    scrub_freed_space,
)
from translations import Translator
from usecases.erasure_by_animator import ask_erasure

log = logging.getLogger(__name__)

_ASK = re.compile(r"^pv:ax:(\d{1,12})$")
_ERASE = re.compile(r"^pv:ay:(\d{1,12}):(\d{1,12})$")


def _answers(t: Translator, fate: AnswersFate, *, done: bool) -> str | None:
    if fate == AnswersFate.KEPT:
        return (
            t._("Their survey answers were kept only under a code.")
            if done
            else t._("Their survey answers stay only under a code.")
        )
    if fate == AnswersFate.DELETED:
        return (
            t._("Their survey answers were deleted.")
            if done
            else t._("Their survey answers will be deleted.")
        )
    if fate == AnswersFate.MIXED:
        return (
            t._(
                "Some of their survey answers were kept only under a code, the others were deleted."
            )
            if done
            else t._(
                "Some of their survey answers stay only under a code, the others will be deleted."
            )
        )
    return None


def ask_text(t: Translator, name: str, preview: ErasurePreview) -> str:
    """What deleting this person's data will do, asked before doing it."""
    lines = [
        t._("🗑 Delete the data of {name}?").format(name=name),
        "",
        t._(
            "Their name and phone number are deleted, and everything that links them "
            "to the programme."
        ),
    ]
    if preview.places_released:
        lines.append(
            t.ngettext(
                "{count} upcoming place goes to the next person on the reserve list.",
                "{count} upcoming places go to the next people on the reserve lists.",
                preview.places_released,
            ).format(count=preview.places_released)
        )
    if preview.reserve_positions_left:
        lines.append(
            t.ngettext(
                "They leave {count} reserve list.",
                "They leave {count} reserve lists.",
                preview.reserve_positions_left,
            ).format(count=preview.reserve_positions_left)
        )
    answers = _answers(t, preview.answers, done=False)
    if answers:
        lines.append(answers)
    lines += [
        "",
        t._("Do this when the person asks for it (best in writing). It cannot be undone."),
    ]
    return "\n".join(lines)


def done_text(t: Translator, report: ErasureReport) -> str:
    """What deleting did."""
    lines = [t._("✅ The person's data has been deleted.")]
    if report.places_released:
        lines.append(
            t.ngettext(
                "{count} place was offered to the next person on the reserve list.",
                "{count} places were offered to the next people on the reserve lists.",
                report.places_released,
            ).format(count=report.places_released)
        )
    answers = _answers(t, report.answers, done=True)
    if answers:
        lines.append(answers)
    return "\n\n".join(lines)


def _not_yours(t: Translator) -> str:
    return t._("This person is not on your list.")


@animator_only
async def on_ask(update: Update, context: PalContext) -> None:
    """`pv:ax:<person>`: show what deleting will do, with Yes and Cancel."""
    t = context.t
    assert update.callback_query is not None and update.callback_query.data is not None
    match = _ASK.match(update.callback_query.data)
    assert match is not None
    person_id = int(match.group(1))
    now = context.services.clock.now()
    try:
        asked = await context.db.read(
            ask_erasure, actor=actor_of(context), person_id=person_id, now=now
        )
    except ProxyNotFound:
        await answer(update, context, _not_yours(t), alert=True)
        return
    await screen(
        update,
        context,
        ask_text(t, asked.name, asked.preview),
        inline(
            [
                [(t._("🗑 Yes, delete"), f"pv:ay:{person_id}:{int(now.timestamp())}")],
                [(t._("✖ Cancel"), f"anx:p:{person_id}")],
            ]
        ),
    )


@animator_only
async def on_erase(update: Update, context: PalContext) -> None:
    """`pv:ay:<person>:<asked at>`: erase, if still fresh and still the animator's person."""
    t = context.t
    assert update.callback_query is not None and update.callback_query.data is not None
    match = _ERASE.match(update.callback_query.data)
    assert match is not None
    person_id, asked_at = int(match.group(1)), int(match.group(2))
    now = context.services.clock.now()
    if not still_fresh(asked_at, now):
        await answer(
            update,
            context,
            t._("This question has expired. Open the person's card again."),
            alert=True,
        )
        return
    actor = actor_of(context)
    try:
        report = await context.db.write(
            erase_proxy_participant,
            person_id=person_id,
            animator_id=actor.person_id,
            programme_ids=proxy_scope(actor),
            now=now,
        )
    except ProxyNotFound:
        await answer(update, context, _not_yours(t), alert=True)
        return
    await asyncio.to_thread(scrub_freed_space, context.db.engine)
    await screen(
        update,
        context,
        done_text(t, report),
        inline([[(t._("◀ People without Telegram"), "anx:list")]]),
    )


def register(app: PalApplication) -> None:
    """Add the animator's erase buttons."""
    app.add_handler(CallbackQueryHandler(on_ask, pattern=_ASK))
    app.add_handler(CallbackQueryHandler(on_erase, pattern=_ERASE))
