"""/admin → "New programme": its name typed, then its team screen.

Callback data: `adm:new` (ask for the name), `adm:newx` (cancel). The name is checked and
the programme created by storage.people.staff.create_programme, which asks may_act first.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot.context import PalApplication, PalContext
from bot.keyboards import inline
from handlers.admin.menu import (
    admin_menu,
    admin_only,
    not_allowed_text,
    render_team,
    staff_actor,
)
from handlers.common import answer, too_long
from handlers.dialogs import on_text
from handlers.resident.activities import show_screen
from storage.dialogs import close_dialog, save_dialog
from storage.models import Dialog, Role
from storage.people.staff import ProgrammeNameRefused
from storage.people.staff_access import NotAllowed
from usecases.new_programme import NEW_PROGRAMME, create_programme_and_close, may_create_programme


@admin_only
async def on_new_programme(update: Update, context: PalContext) -> None:
    """`adm:new`: ask for the new programme's name (the next text message)."""
    t = context.t
    person = context.viewer.person
    assert person is not None and person.id is not None
    # Coordinators pass admin_only (their programmes' screens) but create no programmes.
    if not await context.db.read(may_create_programme, actor=staff_actor(context)):
        await answer(update, context, not_allowed_text(context), alert=True)
        return
    await context.db.write(
        save_dialog, person_id=person.id, kind=NEW_PROGRAMME, step="name", awaits_text=True
    )
    await show_screen(
        update,
        context,
        t._(
            "Type the name of the new programme as residents should see it, for example "
            "“PAL Osiedle Barwinek 2026” (up to 200 characters):"
        ),
        inline([[(t._("✖️ Cancel"), "adm:newx")]]),
    )


@admin_only
async def on_new_programme_cancel(update: Update, context: PalContext) -> None:
    """`adm:newx`: no new programme after all."""
    person = context.viewer.person
    assert person is not None and person.id is not None
    await context.db.write(close_dialog, person_id=person.id, kind=NEW_PROGRAMME)
    await admin_menu(update, context)


@on_text(NEW_PROGRAMME)
async def on_programme_name(update: Update, context: PalContext, dialog: Dialog) -> None:
    """The new programme's name, typed."""
    message = update.effective_message
    assert message is not None and message.text is not None
    t = context.t
    if Role.ADMIN not in context.viewer.roles:
        await context.db.write(close_dialog, person_id=dialog.person_id, kind=NEW_PROGRAMME)
        await answer(update, context, not_allowed_text(context))
        return
    try:
        if too_long(message.text):
            raise ProgrammeNameRefused(taken=False)
        team = await context.db.write(
            create_programme_and_close,
            actor=staff_actor(context),
            name=message.text,
            now=context.services.clock.now(),
        )
    except ProgrammeNameRefused as refused:
        await message.reply_text(
            t._("A programme with this name already exists. Type another name:")
            if refused.taken
            else t._("The name must have 1 to 200 characters. Type it again:")
        )
        return
    except NotAllowed:
        await answer(update, context, not_allowed_text(context))
        return
    await message.reply_text(t._("The programme is created. Now invite its team:"))
    await render_team(update, context, team, new_message=True)


def register(app: PalApplication) -> None:
    """Add the new-programme buttons (`adm:new`, `adm:newx`)."""
    app.add_handler(CallbackQueryHandler(on_new_programme, pattern=r"^adm:new$"))
    app.add_handler(CallbackQueryHandler(on_new_programme_cancel, pattern=r"^adm:newx$"))
