"""Keyboards: the main menu and small builders for inline buttons.

Menu labels are matched back to actions in every language, so a person who switches
language with an old keyboard on screen still gets what they pressed.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from enum import StrEnum

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup

from storage.models import Role
from storage.people.roles import has_role
from translations import SUPPORTED_LANGUAGES, Translator, translator


class MenuAction(StrEnum):
    """What a main-menu button does."""

    ACTIVITIES = "activities"
    MY = "my"
    SURVEY = "survey"
    HELP = "help"
    LANGUAGE = "language"
    ANIMATOR = "animator"
    EVALUATOR = "evaluator"
    ADMIN = "admin"


def menu_label(t: Translator, action: MenuAction) -> str:
    """The button text for a menu action in one language."""
    labels = {
        MenuAction.ACTIVITIES: t._("📅 Activities"),
        MenuAction.MY: t._("🎟 My activities"),
        MenuAction.SURVEY: t._("📝 Survey"),
        MenuAction.HELP: t._("❓ Help"),
        MenuAction.LANGUAGE: t._("🌐 Language"),
        MenuAction.ANIMATOR: t._("🧑‍🏫 Animator menu"),
        MenuAction.EVALUATOR: t._("📊 Evaluator menu"),
        MenuAction.ADMIN: t._("🗂 Programme administration"),
    }
    return labels[action]


def menu_action_for(text: str) -> MenuAction | None:
    """Which menu button a text is, in any supported language."""
    for language in SUPPORTED_LANGUAGES:
        t = translator(language)
        for action in MenuAction:
            if text == menu_label(t, action):
                return action
    return None


def main_menu(t: Translator, roles: frozenset[Role]) -> ReplyKeyboardMarkup:
    """The persistent main menu; team members see their panels too."""
    rows = [
        [menu_label(t, MenuAction.ACTIVITIES), menu_label(t, MenuAction.MY)],
        [menu_label(t, MenuAction.SURVEY), menu_label(t, MenuAction.HELP)],
    ]
    team = []
    if has_role(roles, Role.ANIMATOR):
        team.append(menu_label(t, MenuAction.ANIMATOR))
    if has_role(roles, Role.EVALUATOR):
        team.append(menu_label(t, MenuAction.EVALUATOR))
    if team:
        rows.append(team)
    if has_role(roles, Role.COORDINATOR):
        # Coordinators and administrators: their programmes' teams and settings (/admin).
        rows.append([menu_label(t, MenuAction.ADMIN)])
    rows.append([menu_label(t, MenuAction.LANGUAGE)])
    return ReplyKeyboardMarkup(
        [[KeyboardButton(label) for label in row] for row in rows], resize_keyboard=True
    )


# Telegram shows about this many characters of a button on a phone before it cuts.
TITLE_IN_BUTTON = 34


def shorten(text: str, limit: int = TITLE_IN_BUTTON) -> str:
    """Fit a text into `limit` characters, cut at a word where possible and marked with …."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = textwrap.shorten(text, width=limit, placeholder="…")
    # textwrap keeps only the mark when the first word alone is too long: cut inside it.
    return cut if cut != "…" else text[: limit - 1] + "…"


def inline(rows: Iterable[Sequence[tuple[str, str]]]) -> InlineKeyboardMarkup:
    """Inline keyboard from rows of (label, callback_data)."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


def back_to_menu_button(t: Translator) -> tuple[str, str]:
    """A button that returns to the main menu."""
    return (t._("↩️ Menu"), "menu")
