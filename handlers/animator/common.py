"""Pieces every animator screen shares: the role gate, the acting person, labels.

Callback data of the animator area starts with `an` (`an:` menu and activity cards,
`anw:` wizard, `ane:` changes, `ana:` attendance, `anp:` participants, `anb:`
announcements, `anx:` people without Telegram), so it never collides with residents'
buttons. Every press is re-checked server-side against the access rule (storage.access):
the actor comes from the grants, loaded once per update, never from where they live.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import InlineKeyboardMarkup, Update

from bot.context import PalContext
from bot.keyboards import shorten
from handlers.common import answer, requires_role
from handlers.resident.activities import show_screen
from storage.activities.draft_questions import Step
from storage.activities.organising import Actor
from storage.models import Activity, ActivityStatus, Role
from translations import Translator

log = logging.getLogger(__name__)
Handler = Callable[[Update, PalContext], Awaitable[None]]
H = TypeVar("H", bound=Handler)
Rows = list[list[tuple[str, str]]]


def animator_only(handler: H) -> H:
    """Animators and admins only (others get a polite refusal), and only once set up.

    The team needs a person record too: drafts, audit entries and organiser ids hang
    on it, so an admin who never sent /start is asked to do that first.
    """

    @functools.wraps(handler)
    async def guarded(update: Update, context: PalContext) -> None:
        person = context.viewer.person
        if person is None or person.id is None or not person.is_onboarded:
            await answer(update, context, context.t._("First, let's get you set up: send /start."))
            return
        if not context.viewer.access.acts_anywhere(Role.ANIMATOR):
            # Held without a programme (an old grant): no tool reaches anything.
            await answer(
                update,
                context,
                context.t._(
                    "No programme is assigned to you yet. Ask an administrator to assign one."
                ),
            )
            return
        await handler(update, context)

    return requires_role(Role.ANIMATOR)(guarded)  # type: ignore[return-value]


def actor_of(context: PalContext) -> Actor:
    """The animator or admin pressing the button, as the access rule sees them."""
    actor = context.viewer.actor
    assert actor is not None
    return actor


def activity_label(t: Translator, activity: Activity) -> str:
    """`Warsztaty ceramiki · 24.11, 17:00` for a button (❌ if called off)."""
    mark = "❌ " if activity.status == ActivityStatus.CANCELLED else ""
    return f"{mark}{shorten(activity.title)} · {t.short_date_time(activity.starts_at)}"


def menu_button(t: Translator) -> tuple[str, str]:
    """Back to the animator menu."""
    return (t._("◀ Animator menu"), "an:menu")


def match_step(context: PalContext, group: int = 1) -> Step | None:
    """The wizard question named in the callback data, or None if it names none."""
    assert context.matches is not None
    try:
        step = Step(context.matches[0].group(group))
    except ValueError:
        return None
    return None if step == Step.PREVIEW else step


def match_int(context: PalContext, group: int = 1) -> int:
    """An integer captured by the handler's callback pattern."""
    assert context.matches is not None
    return int(context.matches[0].group(group))


async def screen(
    update: Update,
    context: PalContext,
    text: str,
    markup: InlineKeyboardMarkup | None,
    *,
    toast: str | None = None,
    new_message: bool = False,
) -> None:
    """Edit the pressed message (or send a new one) — the residents' screen helper."""
    await show_screen(update, context, text, markup, toast=toast, new_message=new_message)


async def refuse_no_programme(update: Update, context: PalContext) -> None:
    """A programme-wide tool pressed before choosing which programme it is for."""
    await answer(
        update,
        context,
        context.t._("Choose the programme first: “🔁 Change programme” in the animator menu."),
        alert=True,
    )


async def refuse_stale(update: Update, context: PalContext) -> None:
    """A button for something this animator may not manage, or no longer exists."""
    await answer(
        update,
        context,
        context.t._("This activity is not available to you. Open the animator menu again."),
        alert=True,
    )
