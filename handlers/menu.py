"""The main menu, /help per role, /language, and the command lists Telegram shows.

The commands themselves are listed once, in handlers/commands.py; a feature routes its
main-menu button by adding one line to `MENU_ROUTES` below.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import BotCommand, BotCommandScopeDefault, Message, Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import PalApplication, PalContext
from bot.keyboards import MenuAction, menu_action_for
from handlers.admin.menu import admin_menu
from handlers.animator.menu import animator_command
from handlers.commands import COMMANDS, commands_for
from handlers.common import answer, show_main_menu
from handlers.evaluator.menu import evaluator_command
from handlers.resident.activities import activities_command
from handlers.resident.my_places import my_command
from handlers.resident.onboarding import language_keyboard
from handlers.surveys.residents import survey_command
from storage.models import Role
from translations import SUPPORTED_LANGUAGES, Translator, translator

log = logging.getLogger(__name__)


def help_text(t: Translator, roles: frozenset[Role]) -> str:
    """/help in the person's language, listing only what their role allows."""
    resident = [c for c in commands_for(roles) if c.role is None]
    team = [c for c in commands_for(roles) if c.role is not None]
    lines = [t._("Here is what you can do:")]
    lines += [f"/{c.command} — {c.describe(t)}" for c in resident]
    if team:
        lines += ["", t._("For the programme team:")]
        lines += [f"/{c.command} — {c.describe(t)}" for c in team]
    lines += ["", t._("You can also use the menu buttons below.")]
    return "\n".join(lines)


async def help_command(update: Update, context: PalContext) -> None:
    """/help and the Help button."""
    if not context.viewer.is_onboarded:
        await answer(update, context, context.t._("First, let's get you set up: send /start."))
        return
    await show_main_menu(update, context, help_text(context.t, context.viewer.roles))


async def language_command(update: Update, context: PalContext) -> None:
    """/language and the Language button: switch at any time."""
    if context.viewer.person is None:
        await answer(update, context, context.t._("First, let's get you set up: send /start."))
        return
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(
        chat.id, context.t._("Choose your language:"), reply_markup=language_keyboard()
    )


async def on_menu_callback(update: Update, context: PalContext) -> None:
    """`menu`: the ↩️ Menu button under any screen."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    if not context.viewer.is_onboarded:
        await answer(update, context, context.t._("First, let's get you set up: send /start."))
        return
    await show_main_menu(update, context)


MenuHandler = Callable[[Update, PalContext], Awaitable[None]]
# Each main-menu button and what it opens. Survey, Animator and Evaluator menus are
# added here by their features (one line each).
MENU_ROUTES: dict[MenuAction, MenuHandler] = {
    MenuAction.ACTIVITIES: activities_command,
    MenuAction.MY: my_command,
    MenuAction.HELP: help_command,
    MenuAction.LANGUAGE: language_command,
    MenuAction.EVALUATOR: evaluator_command,
    MenuAction.SURVEY: survey_command,
    MenuAction.ANIMATOR: animator_command,
    MenuAction.ADMIN: admin_menu,
}


class _MenuButton(filters.MessageFilter):
    """Text that is one of the routed main-menu labels, in any language."""

    def filter(self, message: Message) -> bool:
        return message.text is not None and menu_action_for(message.text) in MENU_ROUTES


async def on_menu_button(update: Update, context: PalContext) -> None:
    """A main-menu button press (arrives as text)."""
    message = update.effective_message
    assert message is not None and message.text is not None
    action = menu_action_for(message.text)
    assert action is not None
    await MENU_ROUTES[action](update, context)


async def set_command_lists(app: PalApplication) -> None:
    """Tell Telegram the residents' commands in each language, plus a Polish default."""
    for language in (None, *SUPPORTED_LANGUAGES):
        t = translator(language or app.bot_data["services"].settings.default_language)
        commands = [BotCommand(c.command, c.describe(t)[:256]) for c in COMMANDS if c.role is None]
        try:
            await app.bot.set_my_commands(
                commands, scope=BotCommandScopeDefault(), language_code=language
            )
        except TelegramError as exc:
            # A missing command list is cosmetic; the bot must still start.
            log.warning("setMyCommands failed for %s: %s", language or "default", exc)


def register(app: PalApplication) -> None:
    """Add /help, /language, the menu buttons and the command-list start hook."""
    app.add_handler(CommandHandler("help", help_command))
    app.add_handler(CommandHandler("language", language_command))
    app.add_handler(CallbackQueryHandler(on_menu_callback, pattern=r"^menu$"))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & _MenuButton(), on_menu_button))
    app.bot_data["services"].on_start.append(set_command_lists)
