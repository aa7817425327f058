"""Opening an invitation link (`/start inv_<token>`) and accepting it with a button.

The person sees the role, the programme and who invited them before anything changes;
`inv:ok:<id>` grants the role once (storage.people.invitations), `inv:no:<id>` leaves it.
A used, expired, withdrawn or forged link gets a polite message and grants nothing.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot.context import PalApplication, PalContext
from bot.keyboards import inline, main_menu
from handlers.common import answer
from handlers.resident.activities import show_screen
from storage.dialogs import close_dialog
from storage.models import Role
from storage.people.invitations import (
    DIALOG_KIND,
    START_PREFIX,
    InvitationProblem,
    InvitationRefused,
    accept_invitation,
    open_invitation,
)
from translations import Translator

log = logging.getLogger(__name__)


def role_name(t: Translator, role: Role) -> str:
    """A role as staff screens name it."""
    names = {
        Role.ANIMATOR: t._("animator"),
        Role.EVALUATOR: t._("evaluator (reports)"),
        Role.COORDINATOR: t._("coordinator"),
        Role.ADMIN: t._("administrator"),
    }
    return names[role]


def refusal_text(t: Translator, problem: InvitationProblem) -> str:
    """Why an invitation grants nothing, politely, with what to do."""
    texts = {
        InvitationProblem.UNKNOWN: t._(
            "This invitation link is not valid. Ask the person who sent it for a new one."
        ),
        InvitationProblem.USED: t._(
            "This invitation has already been used. If you need one, ask for a new link."
        ),
        InvitationProblem.EXPIRED: t._(
            "This invitation has expired. Ask the person who sent it for a new link."
        ),
        InvitationProblem.REVOKED: t._(
            "This invitation was withdrawn. Ask the person who sent it if this is a mistake."
        ),
        InvitationProblem.NOT_OPENED: t._("Please open the invitation link again."),
    }
    return texts[problem]


def is_invitation(payload: str | None) -> bool:
    """Whether a /start parameter is an invitation."""
    return bool(payload) and str(payload).startswith(START_PREFIX)


async def open_link(update: Update, context: PalContext, payload: str) -> None:
    """`/start inv_<token>`: show what the invitation gives, with Accept / No buttons."""
    t = context.t
    token = payload.removeprefix(START_PREFIX)
    try:
        offer = await context.db.write(
            open_invitation,
            token=token,
            telegram_id=context.viewer.telegram_id,
            language=context.viewer.language,
            now=context.services.clock.now(),
        )
    except InvitationRefused as refused:
        log.info(
            "invitation refused person_id=%s problem=%s",
            context.viewer.person_id,
            refused.problem.value,
        )
        await answer(update, context, refusal_text(t, refused.problem))
        return
    lines = [t._("📨 Invitation to the programme team")]
    if offer.programme_name is not None:
        lines.append(
            t._("Role: {role} in the programme “{programme}”.").format(
                role=role_name(t, offer.role), programme=offer.programme_name
            )
        )
    else:
        lines.append(
            t._("Role: {role} of this chat (all programmes).").format(role=role_name(t, offer.role))
        )
    if offer.inviter_name:
        lines.append(t._("Invited by: {name}.").format(name=offer.inviter_name))
    lines.append(
        t._("The invitation is valid until {date}.").format(date=t.date_time(offer.expires_at))
    )
    lines.append(t._("Do you accept?"))
    await show_screen(
        update,
        context,
        "\n".join(lines),
        inline(
            [
                [(t._("✅ Accept"), f"inv:ok:{offer.invitation_id}")],
                [(t._("✖️ No, thank you"), f"inv:no:{offer.invitation_id}")],
            ]
        ),
        new_message=True,
    )


async def on_accept(update: Update, context: PalContext) -> None:
    """`inv:ok:<id>`: take the role (once)."""
    assert context.matches is not None
    t = context.t
    person = context.viewer.person
    if person is None or person.id is None:
        await answer(update, context, refusal_text(t, InvitationProblem.NOT_OPENED), alert=True)
        return
    try:
        accepted = await context.db.write(
            accept_invitation,
            person_id=person.id,
            invitation_id=int(context.matches[0].group(1)),
            now=context.services.clock.now(),
        )
    except InvitationRefused as refused:
        log.info(
            "invitation not accepted person_id=%s problem=%s",
            context.viewer.person_id,
            refused.problem.value,
        )
        await answer(update, context, refusal_text(t, refused.problem), alert=True)
        return
    log.info(
        "invitation accepted person_id=%s role=%s", context.viewer.person_id, accepted.role.value
    )
    if accepted.programme_name is not None:
        text = t._("Done: you are now {role} in the programme “{programme}”.").format(
            role=role_name(t, accepted.role), programme=accepted.programme_name
        )
    else:
        text = t._("Done: you are now {role} of this chat.").format(
            role=role_name(t, accepted.role)
        )
    await show_screen(update, context, text, None)
    chat = update.effective_chat
    assert chat is not None
    if not person.is_onboarded:
        await context.bot.send_message(
            chat.id,
            t._(
                "One more step: send /start to choose your language and the name the team will see."
            ),
        )
        return
    roles = context.viewer.roles | {accepted.role}
    hint = t._("Your tools are in the menu below and in /help.")
    if accepted.role is Role.ADMIN:
        hint = t._("Your tools are in the menu below and in /help. Administrators: /admin.")
    elif accepted.role is Role.COORDINATOR:
        hint = t._(
            "Your tools are in the menu below and in /help. Your programme's team, "
            "settings and surveys: /admin."
        )
    await context.bot.send_message(chat.id, hint, reply_markup=main_menu(t, roles))


async def on_decline(update: Update, context: PalContext) -> None:
    """`inv:no:<id>`: leave it; the link stays valid until it expires."""
    person = context.viewer.person
    if person is not None and person.id is not None:
        await context.db.write(close_dialog, person_id=person.id, kind=DIALOG_KIND)
    await show_screen(
        update,
        context,
        context.t._(
            "All right, nothing has changed. You can open the link again while it is valid."
        ),
        None,
    )


def register(app: PalApplication) -> None:
    """Add the invitation buttons (`inv:` callback data); /start routes the links here."""
    app.add_handler(CallbackQueryHandler(on_accept, pattern=r"^inv:ok:(\d{1,12})$"))
    app.add_handler(CallbackQueryHandler(on_decline, pattern=r"^inv:no:(\d{1,12})$"))
