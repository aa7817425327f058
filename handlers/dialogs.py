"""Routing of free text to the dialog that is waiting for it.

A person's position in a dialog lives in the `dialog` table (see storage.dialogs), so
whichever process receives the next message knows what it answers. Typed text skips the
decorators buttons pass through, so the route itself re-checks the role a staff dialog
needs on every message; the step re-checks the programme, activity or person it acts on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update

from bot.context import PalContext
from handlers.common import answer
from storage.dialogs import active_text_dialog
from storage.models import Dialog, Role

TextStep = Callable[[Update, PalContext, Dialog], Awaitable[None]]
_TEXT_STEPS: dict[str, tuple[TextStep, Role | None]] = {}


def on_text(kind: str, *, role: Role | None = None) -> Callable[[TextStep], TextStep]:
    """Register the function that receives free text for dialogs of `kind`.

    `role`: the role the dialog needs (staff dialogs), checked again on every message.
    """

    def decorate(step: TextStep) -> TextStep:
        if kind in _TEXT_STEPS and _TEXT_STEPS[kind][0] is not step:
            raise ValueError(f"two text handlers for dialog kind {kind!r}")
        _TEXT_STEPS[kind] = (step, role)
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
    step, role = _TEXT_STEPS[dialog.kind]
    if role is not None and not context.viewer.access.acts_anywhere(role):
        # A role taken away mid-dialog (or held for no programme): nothing typed is stored.
        await answer(update, context, context.t._("This is only for the programme team."))
        return True
    await step(update, context, dialog)
    return True
