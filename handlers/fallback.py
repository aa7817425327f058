"""The last handlers: free text nobody waits for, and buttons nobody knows."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot.context import PalApplication, PalContext
from handlers.common import answer, show_main_menu
from handlers.dialogs import route_text


async def on_free_text(update: Update, context: PalContext) -> None:
    """Send text to the waiting dialog, or explain that buttons are expected."""
    if context.viewer.is_onboarded and await route_text(update, context):
        return
    t = context.t
    if not context.viewer.is_onboarded:
        await answer(update, context, t._("First, let's get you set up: send /start."))
        return
    await show_main_menu(
        update, context, t._("I did not understand that. Please use the buttons below.")
    )


async def on_unknown_command(update: Update, context: PalContext) -> None:
    """A command we do not have."""
    await answer(update, context, context.t._("I don't know that command. Send /help."))


async def on_other_message(update: Update, context: PalContext) -> None:
    """Stickers, photos, voice notes: we only read text and buttons."""
    await answer(update, context, context.t._("I can only read text and button presses."))


async def on_stale_button(update: Update, context: PalContext) -> None:
    """A button whose data we do not recognise (old keyboard, forged data)."""
    await answer(
        update, context, context.t._("This button is no longer active. Open the menu again.")
    )


def register(app: PalApplication) -> None:
    """Add the catch-all handlers; must be registered last."""
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_free_text))
    app.add_handler(MessageHandler(filters.COMMAND, on_unknown_command))
    app.add_handler(MessageHandler(~filters.TEXT & ~filters.StatusUpdate.ALL, on_other_message))
    app.add_handler(CallbackQueryHandler(on_stale_button))
