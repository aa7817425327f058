"""/admin, one programme: its dates, name, settings, archive and a copy as a new edition.

Callback data starts with `prg:` — `prg:o:<p>` (the programme screen), `prg:e:<p>:<field>`
(type a new value; then `prg:y:<p>:<nonce>` confirms it, `prg:x:<p>` cancels),
`prg:b:<p>:<choice>:<value>` then `prg:bc:<p>:<choice>:<value>` (a choice by button,
confirmed), `prg:arch` (archived programmes). No role is checked here: every screen and
press asks storage.people.staff_access.may_act in the transaction that reads or acts, so the
programme coordinator role gets these screens by one line there.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot.context import PalApplication, PalContext
from bot.keyboards import inline
from handlers.admin.menu import not_allowed_text, staff_actor
from handlers.admin.programme_texts import (
    Rows,
    confirm_text,
    programme_buttons,
    programme_text,
    prompt,
    refusal_text,
)
from handlers.common import answer, too_long
from handlers.dialogs import on_text
from handlers.resident.activities import show_screen
from storage.dialogs import close_dialog
from storage.models import Dialog
from storage.people.staff_access import NotAllowed, StaffAction
from storage.programmes.editions import (
    EditionRefused,
    archived_programmes,
)
from storage.programmes.settings import (
    ProgrammeSettings,
    SettingRefused,
    programme_settings,
)
from usecases.programme_settings import (
    EDIT,
    FIELDS,
    Stale,
    apply_edit,
    apply_edit_choice,
    begin_edit,
    check_edit_value,
    checked_programme_name,
    programme_name_of,
    remember_edit_value,
)

log = logging.getLogger(__name__)
Handler = Callable[[Update, PalContext], Awaitable[None]]
H = TypeVar("H", bound=Handler)


def staff_screen(handler: H) -> H:
    """People who finished /start; refusals for anyone storage does not allow."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: PalContext) -> None:
        if not context.viewer.is_onboarded or context.viewer.person is None:
            await answer(update, context, context.t._("First, let's get you set up: send /start."))
            return
        try:
            await handler(update, context)
        except NotAllowed:
            log.info("programme screen refused person_id=%s", context.viewer.person_id)
            await answer(update, context, not_allowed_text(context), alert=True)

    return guarded  # type: ignore[return-value]


def arg(context: PalContext, group: int = 1) -> str:
    """A group of the pressed button's pattern."""
    assert context.matches is not None
    return str(context.matches[0].group(group))


async def show_programme(
    update: Update,
    context: PalContext,
    programme_id: int,
    *,
    toast: str | None = None,
    new_message: bool = False,
) -> None:
    """Read and show the programme screen."""
    view = await context.db.read(
        programme_settings, actor=staff_actor(context), programme_id=programme_id
    )
    await render_programme(update, context, view, toast=toast, new_message=new_message)


async def render_programme(
    update: Update,
    context: PalContext,
    view: ProgrammeSettings,
    *,
    toast: str | None = None,
    new_message: bool = False,
) -> None:
    """Show a programme screen already read."""
    t = context.t
    await show_screen(
        update,
        context,
        programme_text(t, view),
        inline(programme_buttons(t, view)),
        toast=toast,
        new_message=new_message,
    )


@staff_screen
async def on_programme(update: Update, context: PalContext) -> None:
    """`prg:o:<p>`: the programme screen."""
    await show_programme(update, context, int(arg(context)))


@staff_screen
async def on_edit(update: Update, context: PalContext) -> None:
    """`prg:e:<p>:<field>`: ask for the new value (the next text message)."""
    t = context.t
    person = context.viewer.person
    assert person is not None and person.id is not None
    programme_id, field = int(arg(context)), arg(context, 2)
    view = await context.db.write(
        begin_edit,
        actor=staff_actor(context),
        programme_id=programme_id,
        field=field,
        person_id=person.id,
    )
    rows: Rows = []
    if field in ("rem", "quiet"):
        rows.append(
            [(t._("Use the default of this chat"), f"prg:b:{programme_id}:{field}:default")]
        )
    rows.append([(t._("✖️ Cancel"), f"prg:x:{programme_id}")])
    await show_screen(update, context, prompt(t, field, view), inline(rows))


@on_text(EDIT)
async def on_value(update: Update, context: PalContext, dialog: Dialog) -> None:
    """A typed name, date, times or months: checked, then confirmed by a button."""
    message = update.effective_message
    assert message is not None and message.text is not None
    t = context.t
    programme_id, field = int(dialog.data.get("pid", 0)), str(dialog.data.get("field", ""))
    if field not in FIELDS:
        await context.db.write(close_dialog, person_id=dialog.person_id, kind=EDIT)
        return
    if too_long(message.text):
        await message.reply_text(t._("This is too long. Type a short answer, or press “Cancel”."))
        return
    try:
        value, plan = await context.db.read(
            check_edit_value,
            actor=staff_actor(context),
            programme_id=programme_id,
            field=field,
            text=message.text,
            zone=context.settings.zone,
            now=context.services.clock.now(),
        )
    except NotAllowed:
        await context.db.write(close_dialog, person_id=dialog.person_id, kind=EDIT)
        await answer(update, context, not_allowed_text(context))
        return
    except (EditionRefused, SettingRefused) as refused:
        reason = refused.reason.value if isinstance(refused, EditionRefused) else refused.reason
        cancel = inline([[(t._("✖️ Cancel"), f"prg:x:{programme_id}")]])
        await message.reply_text(refusal_text(t, reason), reply_markup=cancel)
        return
    nonce = await context.db.write(remember_edit_value, dialog=dialog, value=value)
    name = await context.db.read(
        programme_name_of, actor=staff_actor(context), programme_id=programme_id
    )
    await show_screen(
        update,
        context,
        confirm_text(t, field, value, name, plan, context.services.settings.reminder_offsets),
        inline(
            [
                [
                    (
                        t._("✅ Yes, change it") if plan is None else t._("✅ Yes, create it"),
                        f"prg:y:{programme_id}:{nonce}",
                    )
                ],
                [(t._("✖️ Cancel"), f"prg:x:{programme_id}")],
            ]
        ),
    )


async def stale(update: Update, context: PalContext) -> None:
    """The polite answer to an old or replaced button."""
    await answer(
        update,
        context,
        context.t._("This button is no longer active. Open the menu again."),
        alert=True,
    )


@staff_screen
async def on_confirm(update: Update, context: PalContext) -> None:
    """`prg:y:<p>:<nonce>`: make the typed change (audited)."""
    t = context.t
    person = context.viewer.person
    assert person is not None and person.id is not None
    try:
        view = await context.db.write(
            apply_edit,
            actor=staff_actor(context),
            person_id=person.id,
            programme_id=int(arg(context)),
            nonce=arg(context, 2),
            zone=context.settings.zone,
            now=context.services.clock.now(),
        )
    except Stale:
        await stale(update, context)
        return
    except (EditionRefused, SettingRefused) as refused:
        reason = refused.reason.value if isinstance(refused, EditionRefused) else refused.reason
        await answer(update, context, refusal_text(t, reason), alert=True)
        return
    log.info("programme changed by person_id=%s", context.viewer.person_id)
    await render_programme(update, context, view, toast=t._("Saved."))


@staff_screen
async def on_cancel(update: Update, context: PalContext) -> None:
    """`prg:x:<p>`: no change after all."""
    person = context.viewer.person
    assert person is not None and person.id is not None
    await context.db.write(close_dialog, person_id=person.id, kind=EDIT)
    await show_programme(update, context, int(arg(context)), toast=context.t._("Nothing changed."))


def _choice_ok(choice: str, value: str) -> bool:
    allowed = {
        "fu": {"on", "off"},
        "ka": {"keep", "delete"},
        "ar": {"on", "off"},
        "rem": {"default"},
        "quiet": {"default"},
    }
    return value in allowed.get(choice, set())


@staff_screen
async def on_choice(update: Update, context: PalContext) -> None:
    """`prg:b:<p>:<choice>:<value>`: are you sure?"""
    t = context.t
    programme_id, choice, value = int(arg(context)), arg(context, 2), arg(context, 3)
    if not _choice_ok(choice, value):
        await stale(update, context)
        return
    action = StaffAction.EDIT_PROGRAMMES if choice == "ar" else StaffAction.RUN_PROGRAMME
    name = await context.db.read(
        checked_programme_name, actor=staff_actor(context), programme_id=programme_id, action=action
    )
    await show_screen(
        update,
        context,
        confirm_text(t, choice, value, name, None, context.services.settings.reminder_offsets),
        inline(
            [
                [(t._("✅ Yes, change it"), f"prg:bc:{programme_id}:{choice}:{value}")],
                [(t._("✖️ Cancel"), f"prg:x:{programme_id}")],
            ]
        ),
    )


@staff_screen
async def on_choice_confirm(update: Update, context: PalContext) -> None:
    """`prg:bc:<p>:<choice>:<value>`: make the change (audited)."""
    person = context.viewer.person
    assert person is not None and person.id is not None
    programme_id, choice, value = int(arg(context)), arg(context, 2), arg(context, 3)
    if not _choice_ok(choice, value):
        await stale(update, context)
        return
    view = await context.db.write(
        apply_edit_choice,
        actor=staff_actor(context),
        person_id=person.id,
        programme_id=programme_id,
        choice=choice,
        value=value,
        now=context.services.clock.now(),
    )
    await render_programme(update, context, view, toast=context.t._("Saved."))


@staff_screen
async def on_archived(update: Update, context: PalContext) -> None:
    """`prg:arch`: archived programmes, to open or bring back."""
    t = context.t
    found = await context.db.read(archived_programmes, actor=staff_actor(context))
    rows: Rows = [[(f"🗄 {name[:60]}", f"prg:o:{pid}")] for pid, name in found[:40]]
    rows.append([(t._("↩️ Administration"), "adm:menu")])
    await show_screen(
        update,
        context,
        t._("Archived programmes:") if found else t._("No programme is archived."),
        inline(rows),
    )


def register(app: PalApplication) -> None:
    """Add the programme screens (`prg:` callback data, except surveys and records)."""
    pid = r"(\d{1,12})"
    handlers: list[tuple[Any, str]] = [
        (on_programme, rf"^prg:o:{pid}$"),
        (on_edit, rf"^prg:e:{pid}:(name|start|end|rem|quiet|ret|copy)$"),
        (on_confirm, rf"^prg:y:{pid}:([0-9a-f]{{8}})$"),
        (on_cancel, rf"^prg:x:{pid}$"),
        (on_choice, rf"^prg:b:{pid}:(fu|ka|ar|rem|quiet):(on|off|keep|delete|default)$"),
        (on_choice_confirm, rf"^prg:bc:{pid}:(fu|ka|ar|rem|quiet):(on|off|keep|delete|default)$"),
        (on_archived, r"^prg:arch$"),
    ]
    for callback, pattern in handlers:
        app.add_handler(CallbackQueryHandler(callback, pattern=pattern))
