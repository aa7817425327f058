"""A resident's programmes: the one shown, others joined, open ones to join, leaving one.

For a resident whose edition has ended, or who lives in two areas. Callback data:
`pr:list` (the screen), `pr:j:<id>` (join and show it), `pr:s:<id>` (show another joined
programme), `pr:l:<id>` (leave: asks first), `pr:ly:<id>` (leave, confirmed).
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.context import PalApplication, PalContext
from bot.keyboards import back_to_menu_button, inline, shorten
from handlers.common import answer, caller_of
from handlers.resident.activities import (
    not_onboarded,
    pressed_id,
    show_activities,
    show_screen,
)
from storage.people.memberships import ResidentProgrammes
from translations import Translator
from usecases.programme_membership import (
    MembershipChange,
    change_membership,
    my_programmes,
)

NAME_ON_BUTTON = 48


def programmes_text(t: Translator, programmes: ResidentProgrammes) -> str:
    """Which programmes the resident is in and what joining means."""
    lines = [t._("🏘 Your programmes")]
    if programmes.shown is not None:
        lines.append(
            t._("• {programme} — its activities are shown now").format(
                programme=programmes.shown.name
            )
        )
    lines += [f"• {p.name}" for p in programmes.others]
    if programmes.shown is None and not programmes.others:
        lines.append(t._("You do not take part in any programme yet."))
    lines.append("")
    if programmes.joinable:
        lines.append(
            t._(
                "You can also join a programme that is taking sign-ups: a new edition, or "
                "the one where you also live. Your earlier places and surveys stay where "
                "they are."
            )
        )
    else:
        lines.append(t._("No other programme is taking sign-ups right now."))
    return "\n".join(lines)


def programmes_keyboard(t: Translator, programmes: ResidentProgrammes) -> InlineKeyboardMarkup:
    """Join, show, leave, and the way back."""
    rows: list[list[tuple[str, str]]] = []
    for p in programmes.joinable:
        label = t._("➕ Join: {programme}").format(programme=shorten(p.name, NAME_ON_BUTTON))
        rows.append([(label, f"pr:j:{p.id}")])
    for p in programmes.others:
        label = t._("📅 Show: {programme}").format(programme=shorten(p.name, NAME_ON_BUTTON))
        rows.append([(label, f"pr:s:{p.id}")])
    joined = [programmes.shown] if programmes.shown is not None else []
    for entry in (*joined, *programmes.others):
        label = t._("🚪 Leave: {programme}").format(programme=shorten(entry.name, NAME_ON_BUTTON))
        rows.append([(label, f"pr:l:{entry.id}")])
    rows.append([back_to_menu_button(t)])
    return inline(rows)


async def show_programmes(update: Update, context: PalContext) -> None:
    """/programmes and `pr:list`: the resident's programmes screen."""
    screen = await context.db.read(
        my_programmes, caller=caller_of(update, context), now=context.services.clock.now()
    )
    if await not_onboarded(update, context, screen.resident):
        return
    assert screen.programmes is not None
    t = context.t
    await show_screen(
        update,
        context,
        programmes_text(t, screen.programmes),
        programmes_keyboard(t, screen.programmes),
    )


async def _change(update: Update, context: PalContext, change: MembershipChange) -> None:
    outcome = await context.db.write(
        change_membership,
        caller=caller_of(update, context),
        change=change,
        programme_id=pressed_id(context),
        now=context.services.clock.now(),
    )
    if await not_onboarded(update, context, outcome.resident):
        return
    t = context.t
    if not outcome.done:
        await answer(update, context, t._("This button is no longer active. Open the menu again."))
        return
    if change == MembershipChange.LEAVE:
        note = t._("You left {programme}. Places you hold stay until you give them up.").format(
            programme=outcome.programme_name
        )
        await show_screen(update, context, note, None)
    # The activities of the programme shown now (or the choice of one, if none is left).
    await show_activities(update, context, new_message=change == MembershipChange.LEAVE)


async def on_join(update: Update, context: PalContext) -> None:
    """`pr:j:<id>`: join an open programme and show its activities."""
    await _change(update, context, MembershipChange.JOIN)


async def on_show(update: Update, context: PalContext) -> None:
    """`pr:s:<id>`: show another programme the resident is in."""
    await _change(update, context, MembershipChange.SHOW)


async def on_leave(update: Update, context: PalContext) -> None:
    """`pr:l:<id>`: ask before leaving (announcements from it stop)."""
    t = context.t
    programme_id = pressed_id(context)
    await show_screen(
        update,
        context,
        t._(
            "Leave this programme? Its announcements will stop. Places you hold stay until "
            "you give them up in /my, and you can join again while it takes sign-ups."
        ),
        inline(
            [
                [(t._("Yes, leave"), f"pr:ly:{programme_id}")],
                [(t._("◀ No, stay"), "pr:list")],
            ]
        ),
    )


async def on_leave_confirmed(update: Update, context: PalContext) -> None:
    """`pr:ly:<id>`: leave the programme."""
    await _change(update, context, MembershipChange.LEAVE)


def register(app: PalApplication) -> None:
    """Add /programmes and its buttons."""
    app.add_handler(CommandHandler("programmes", show_programmes))
    app.add_handler(CallbackQueryHandler(show_programmes, pattern=r"^pr:list$"))
    app.add_handler(CallbackQueryHandler(on_join, pattern=r"^pr:j:(\d{1,12})$"))
    app.add_handler(CallbackQueryHandler(on_show, pattern=r"^pr:s:(\d{1,12})$"))
    app.add_handler(CallbackQueryHandler(on_leave, pattern=r"^pr:l:(\d{1,12})$"))
    app.add_handler(CallbackQueryHandler(on_leave_confirmed, pattern=r"^pr:ly:(\d{1,12})$"))
