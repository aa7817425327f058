"""Routing of free text to the dialog that is waiting for it.

A person's position in a dialog lives in the `dialog` table (see storage.dialogs), so
whichever process receives the next message knows what it answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update

from bot.context import PalContext
from storage.dialogs import active_text_dialog
from storage.models import Dialog

TextStep = Callable[[Update, PalContext, Dialog], Awaitable[None]]
_TEXT_STEPS: dict[str, TextStep] = {}


def on_text(kind: str) -> Callable[[TextStep], TextStep]:
    """Register the function that receives free text for dialogs of `kind`."""

    def decorate(step: TextStep) -> TextStep:
        if kind in _TEXT_STEPS and _TEXT_STEPS[kind] is not step:
            raise ValueError(f"two text handlers for dialog kind {kind!r}")
        _TEXT_STEPS[kind] = step
        return step

    return decorate


async def route_text(update: Update, context: PalContext) -> bool:
    """Give the text to the waiting dialog; False if no dialog waits for text."""
    person = context.viewer.person
    if person is None or person.id is None:
        return False
    dialog = await context.db.read(active_text_dialog, person_id=person.id)
    if dialog is None or dialog.kind not in _TEXT_STEPS:
        return False
    await _TEXT_STEPS[dialog.kind](update, context, dialog)
    return True
