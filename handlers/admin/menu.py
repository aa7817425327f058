"""/admin: programmes, each programme's team, invitations by link, removing people.

Callback data starts with `adm:` — `adm:menu`, `adm:p:<programme>` (a team), `adm:a`
(administrators), `adm:i:<programme|0>:<role>` (new invitation link), `adm:ir:<id>`
(withdraw it), `adm:s:<grant>` then `adm:sr:<grant>` (remove in two taps); a new
programme (`adm:new`) is in handlers.admin.new_programme. Every press is re-checked in the
transaction that acts (storage.people.staff_access), so forged or stale buttons change nothing.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.context import PalApplication, PalContext
from bot.keyboards import back_to_menu_button, inline
from handlers.admin.invitations import role_name
from handlers.common import answer
from handlers.resident.activities import show_screen
from storage.models import Role
from storage.people.invitations import (
    InvitationRefused,
    link_for,
)
from storage.people.staff import (
    CannotRemoveYourself,
    StaffMember,
)
from storage.people.staff_access import (
    GIVEN_BY_ADMINS,
    NotAllowed,
    StaffActor,
)
from translations import Translator
from usecases.programme_team import (
    Team,
    invite_with_name,
    member_and_place,
    menu_programmes,
    remove_and_team,
    team_of,
    withdraw_and_team,
)

log = logging.getLogger(__name__)
Handler = Callable[[Update, PalContext], Awaitable[None]]
H = TypeVar("H", bound=Handler)
MAX_PROGRAMMES_SHOWN = 40
NAME_IN_BUTTON = 40
Rows = list[list[tuple[str, str]]]


def staff_actor(context: PalContext) -> StaffActor:
    """The person using a staff screen, as storage rules see them."""
    person = context.viewer.person
    return StaffActor(
        context.viewer.telegram_id, person.id if person else None, context.settings.admin_ids
    )


def not_allowed_text(context: PalContext) -> str:
    """The refusal for a staff screen or action: who may use it, as the person can act on."""
    if context.viewer.can(Role.COORDINATOR):
        # A coordinator beyond their programmes, or at an administrator's action.
        return context.t._(
            "Only an administrator, or a coordinator of this programme, can do this."
        )
    return context.t._("This is only for administrators and programme coordinators.")


def admin_only(handler: H) -> H:
    """Administrators and coordinators who finished /start; storage decides each action."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: PalContext) -> None:
        if not context.viewer.can(Role.COORDINATOR):
            log.info("admin screen refused person_id=%s", context.viewer.person_id)
            await answer(update, context, not_allowed_text(context), alert=True)
            return
        if not context.viewer.is_onboarded:
            await answer(update, context, context.t._("First, let's get you set up: send /start."))
            return
        await handler(update, context)

    return guarded  # type: ignore[return-value]


def _arg(context: PalContext, group: int = 1) -> int:
    assert context.matches is not None
    return int(context.matches[0].group(group))


async def admin_menu(update: Update, context: PalContext) -> None:
    """/admin and `adm:menu`: the programmes, administrators, a new programme, import.

    Administrators see everything; a coordinator (anyone `may_act` lets run a programme)
    sees just their programmes, each opening its team and settings.
    """
    t = context.t
    if context.viewer.is_onboarded and context.viewer.person is not None:
        is_admin, programmes = await context.db.read(menu_programmes, actor=staff_actor(context))
    else:
        is_admin, programmes = context.viewer.can(Role.ADMIN), []
    if not is_admin and not programmes:
        log.info("admin screen refused person_id=%s", context.viewer.person_id)
        await answer(update, context, not_allowed_text(context), alert=True)
        return
    if not context.viewer.is_onboarded:
        await answer(update, context, t._("First, let's get you set up: send /start."))
        return
    if not is_admin:
        rows: Rows = [
            [(name[:60], f"adm:p:{pid}")] for pid, name in programmes[:MAX_PROGRAMMES_SHOWN]
        ]
        await show_screen(
            update,
            context,
            t._("Your programmes. Choose one to see its team, dates, settings and surveys:"),
            inline([*rows, [back_to_menu_button(t)]]),
        )
        return
    rows = [[(name[:60], f"adm:p:{pid}")] for pid, name in programmes[:MAX_PROGRAMMES_SHOWN]]
    rows += [
        [(t._("👑 Administrators"), "adm:a")],
        [(t._("➕ New programme"), "adm:new")],
        [(t._("🗄 Archived programmes"), "prg:arch"), (t._("📜 Audit trail"), "prg:au:0:0")],
        [(t._("📥 Activities from a spreadsheet"), "ss:help")],
        [back_to_menu_button(t)],
    ]
    text = (
        t._("Administration. Choose a programme to see its team and to invite or remove people:")
        if programmes
        else t._("Administration. There is no programme yet: add one with “New programme”.")
    )
    await show_screen(update, context, text, inline(rows))


def _name(t: Translator, member: StaffMember) -> str:
    return member.display_name or t._("(no name yet)")


async def show_team(update: Update, context: PalContext, programme_id: int | None) -> None:
    """Read and show the team of a programme (None: administrators)."""
    try:
        team = await context.db.read(
            team_of,
            actor=staff_actor(context),
            programme_id=programme_id,
            now=context.services.clock.now(),
        )
    except NotAllowed:
        await answer(update, context, not_allowed_text(context), alert=True)
        return
    await render_team(update, context, team)


async def render_team(
    update: Update,
    context: PalContext,
    team: Team,
    *,
    toast: str | None = None,
    new_message: bool = False,
) -> None:
    """The team screen with its buttons: remove, withdraw, invite."""
    t = context.t
    programme_id = team.programme_id
    lines = [
        t._("Team of “{programme}”:").format(programme=team.programme_name)
        if team.programme_name is not None
        else t._("Administrators (all programmes):")
    ]
    for member in team.members:
        you = " " + t._("(you)") if member.is_you else ""
        lines.append(f"• {_name(t, member)} — {role_name(t, member.role)}{you}")
    if not team.members:
        lines.append(t._("Nobody yet."))
    rows: Rows = [
        [(f"✖️ {_name(t, m)[:NAME_IN_BUTTON]} — {role_name(t, m.role)}", f"adm:s:{m.grant_id}")]
        for m in team.members
        if team.removable(m)
    ]
    if team.pending:
        lines += [
            "",
            t.ngettext(
                "{n} invitation is waiting:", "{n} invitations are waiting:", len(team.pending)
            ).format(n=len(team.pending)),
        ]
        for waiting in team.pending:
            lines.append(
                t._("• {role}, valid until {date}").format(
                    role=role_name(t, waiting.role), date=t.short_date_time(waiting.expires_at)
                )
            )
            if team.appoints_coordinators or waiting.role not in GIVEN_BY_ADMINS:
                rows.append(
                    [
                        (
                            t._("↩️ Withdraw: {role}, {date}").format(
                                role=role_name(t, waiting.role),
                                date=t.short_date_time(waiting.expires_at),
                            ),
                            f"adm:ir:{waiting.invitation_id}",
                        )
                    ]
                )
    if team.members:
        lines += ["", t._("To remove someone, tap their name.")]
    if programme_id is None:
        rows.append([(t._("➕ Invite an administrator"), "adm:i:0:admin")])
    else:
        if team.appoints_coordinators:
            rows.append([(t._("➕ Invite a coordinator"), f"adm:i:{programme_id}:coordinator")])
        rows.append([(t._("➕ Invite an animator"), f"adm:i:{programme_id}:animator")])
        rows.append([(t._("➕ Invite an evaluator"), f"adm:i:{programme_id}:evaluator")])
        rows.append([(t._("⚙️ Programme: dates, settings, surveys"), f"prg:o:{programme_id}")])
    rows.append([(t._("↩️ Administration"), "adm:menu")])
    await show_screen(
        update, context, "\n".join(lines), inline(rows), toast=toast, new_message=new_message
    )


@admin_only
async def on_programme(update: Update, context: PalContext) -> None:
    """`adm:p:<id>`: a programme's team."""
    await show_team(update, context, _arg(context))


@admin_only
async def on_admins(update: Update, context: PalContext) -> None:
    """`adm:a`: the administrators."""
    await show_team(update, context, None)


@admin_only
async def on_invite(update: Update, context: PalContext) -> None:
    """`adm:i:<programme|0>:<role>`: a new one-time link to forward to the person."""
    assert context.matches is not None
    t = context.t
    programme_id = _arg(context) or None
    role = Role(context.matches[0].group(2))
    if (role is Role.ADMIN) != (programme_id is None):
        await answer(update, context, t._("This button is no longer active. Open the menu again."))
        return
    valid_for = timedelta(days=context.settings.invitation_valid_days)
    try:
        made, name = await context.db.write(
            invite_with_name,
            actor=staff_actor(context),
            role=role,
            programme_id=programme_id,
            now=context.services.clock.now(),
            valid_for=valid_for,
        )
    except NotAllowed:
        await answer(update, context, not_allowed_text(context), alert=True)
        return
    log.info("invitation created person_id=%s role=%s", context.viewer.person_id, role.value)
    link = link_for(context.bot.username, made)
    where = (
        t._("{role} in “{programme}”").format(role=role_name(t, role), programme=name)
        if name is not None
        else role_name(t, role)
    )
    text = "\n\n".join(
        [
            t._("Invitation: {what}.").format(what=where),
            t._("Send this link to the person. It works once, until {date}:").format(
                date=t.date_time(made.expires_at)
            ),
            link,
            t._("Until it is used you can withdraw it on the team screen."),
        ]
    )
    back = f"adm:p:{programme_id}" if programme_id is not None else "adm:a"
    await show_screen(update, context, text, inline([[(t._("↩️ Team"), back)]]), new_message=True)


@admin_only
async def on_withdraw(update: Update, context: PalContext) -> None:
    """`adm:ir:<id>`: withdraw an invitation nobody has used yet."""
    t = context.t
    try:
        team = await context.db.write(
            withdraw_and_team,
            actor=staff_actor(context),
            invitation_id=_arg(context),
            now=context.services.clock.now(),
        )
    except NotAllowed:
        await answer(update, context, not_allowed_text(context), alert=True)
        return
    except InvitationRefused:
        await answer(update, context, t._("This invitation is no longer waiting."), alert=True)
        return
    await render_team(update, context, team, toast=t._("The invitation was withdrawn."))


@admin_only
async def on_member(update: Update, context: PalContext) -> None:
    """`adm:s:<grant>`: first tap of "remove" — are you sure?"""
    t = context.t
    grant_id = _arg(context)
    try:
        member, programme = await context.db.read(
            member_and_place, actor=staff_actor(context), grant_id=grant_id
        )
    except NotAllowed:
        await answer(update, context, t._("This person is no longer on the team."), alert=True)
        return
    question = (
        t._("Remove {name} ({role}) from the team of “{programme}”?").format(
            name=_name(t, member), role=role_name(t, member.role), programme=programme
        )
        if programme is not None
        else t._("Take the role “{role}” away from {name}?").format(
            name=_name(t, member), role=role_name(t, member.role)
        )
    )
    back = f"adm:p:{member.programme_id}" if member.programme_id is not None else "adm:a"
    await show_screen(
        update,
        context,
        question + "\n" + t._("Their sign-ups and everything they did stay; only the role goes."),
        inline([[(t._("✖️ Yes, remove"), f"adm:sr:{grant_id}")], [(t._("↩️ No, go back"), back)]]),
    )


@admin_only
async def on_remove(update: Update, context: PalContext) -> None:
    """`adm:sr:<grant>`: second tap — the role is taken away (audited)."""
    t = context.t
    try:
        member, team = await context.db.write(
            remove_and_team,
            actor=staff_actor(context),
            grant_id=_arg(context),
            now=context.services.clock.now(),
        )
    except NotAllowed:
        await answer(update, context, t._("This person is no longer on the team."), alert=True)
        return
    except CannotRemoveYourself:
        await answer(
            update,
            context,
            t._("You cannot take the administrator role away from yourself."),
            alert=True,
        )
        return
    log.info("staff removed by person_id=%s role=%s", context.viewer.person_id, member.role.value)
    await render_team(
        update, context, team, toast=t._("Removed: {name}.").format(name=_name(t, member))
    )


def register(app: PalApplication) -> None:
    """Add /admin and its buttons (`adm:` callback data)."""
    app.add_handler(CommandHandler("admin", admin_menu))
    app.add_handler(CallbackQueryHandler(admin_menu, pattern=r"^adm:menu$"))
    app.add_handler(CallbackQueryHandler(on_programme, pattern=r"^adm:p:(\d{1,12})$"))
    app.add_handler(CallbackQueryHandler(on_admins, pattern=r"^adm:a$"))
    app.add_handler(
        CallbackQueryHandler(
            on_invite, pattern=r"^adm:i:(\d{1,12}):(coordinator|animator|evaluator|admin)$"
        )
    )
    app.add_handler(CallbackQueryHandler(on_withdraw, pattern=r"^adm:ir:(\d{1,12})$"))
    app.add_handler(CallbackQueryHandler(on_member, pattern=r"^adm:s:(\d{1,12})$"))
    app.add_handler(CallbackQueryHandler(on_remove, pattern=r"^adm:sr:(\d{1,12})$"))
