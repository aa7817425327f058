"""People without Telegram: the animator adds them, signs them up, marks attendance.

The record is created with storage.people.without_telegram's `create_proxy_participant`;
sign-ups go through the seat rule with `proxy_by_id` (which records who did it),
attendance through storage.activities.attendance, paper surveys through /paper's form
(handlers/surveys/paper.py). The adding dialog (name, phone, paper notice) is the
animator's `Dialog` of kind `animator_proxy`.

Callback data: `anx:list`, `anx:add`, `anx:ph:-` (no phone), `anx:nt:<0|1>`,
`anx:p:<person>`, `anx:su:<person>`, `anx:sa:<person>:<activity>`,
`anx:cx:<person>:<activity>`, `anx:at:<person>:<activity>:<registration>:<1|0>`.
"""

from __future__ import annotations

import logging
from datetime import datetime

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot.context import PalApplication, PalContext
from bot.keyboards import inline, shorten
from handlers.animator.common import (
    Rows,
    activity_label,
    actor_of,
    animator_only,
    menu_button,
    refuse_no_programme,
    screen,
)
from handlers.common import answer
from handlers.dialogs import on_text
from handlers.resident.activities import closed_text
from handlers.resident.onboarding import name_problem_text
from storage.activities.attendance import ActivityCancelled, AttendanceNotOpen, NotOnTheList
from storage.activities.listing import ActivityNotFound, activity_view
from storage.activities.organising import NotYourActivity
from storage.activities.seats import (
    NotRegistered,
    RegistrationClosed,
)
from storage.dialogs import get_dialog, save_dialog
from storage.models import Dialog, Role
from storage.people.acting_for import (
    KIND,
    Card,
    create_from_dialog,
    proxy_attendance,
    proxy_cancel,
    proxy_card,
    proxy_choices,
    proxy_people,
    proxy_sign_up,
)
from storage.people.onboarding import InvalidDisplayName, validate_display_name
from storage.people.without_telegram import (
    InvalidPhone,
    ProxyNotFound,
    normalise_phone,
)
from translations import Translator

log = logging.getLogger(__name__)
# ---------------------------------------------------------------- screens


def card_text(t: Translator, card: Card, now: datetime) -> str:
    """Name, phone, notice, and the person's activities."""
    p = card.person
    lines = [f"🧾 {p.display_name}", t._("Without Telegram — an animator acts for this person.")]
    if p.phone:
        lines.append(t._("Phone: {phone}").format(phone=p.phone))
    lines.append(
        t._("Has the paper notice about personal data.")
        if p.paper_notice_signed
        else t._("Please give them the paper notice “About your personal data”.")
    )
    if not card.entries:
        lines += ["", t._("Not signed up for any activity.")]
    for entry in card.entries:
        a = entry.activity
        if not entry.has_place:
            status = t._("⏳ Reserve list, position {position}").format(position=entry.position)
        elif now >= a.starts_at:
            status = t._("✅ present") if entry.attended else t._("⬜ not marked present")
        else:
            status = t._("✅ has a place")
        lines += ["", f"📌 {a.title}", t.date_time(a.starts_at), status]
    return "\n".join(lines)


def card_rows(t: Translator, card: Card, now: datetime) -> Rows:
    """Sign up, cancel, attendance, paper survey."""
    pid = card.person.id
    rows: Rows = [[(t._("➕ Sign up for an activity"), f"anx:su:{pid}")]]
    for entry in card.entries:
        a = entry.activity
        if now < a.starts_at:
            rows.append(
                [
                    (
                        t._("Cancel the place: {title}").format(title=shorten(a.title, 30)),
                        f"anx:cx:{pid}:{a.id}",
                    )
                ]
            )
        elif entry.has_place:
            value = 0 if entry.attended else 1
            label = (
                t._("⬜ Not present: {title}") if entry.attended else t._("✅ Present: {title}")
            ).format(title=shorten(a.title, 30))
            rows.append([(label, f"anx:at:{pid}:{a.id}:{entry.registration_id}:{value}")])
    rows.append(
        [(t._("📝 Paper survey"), f"pp:who:{pid}"), (t._("📞 Phone number"), f"ano:ph:{pid}")]
    )  # handlers/animator_outreach
    rows.append([(t._("🗑 Delete this person's data"), f"pv:ax:{pid}")])  # handlers/privacy_proxy
    rows.append([(t._("◀ People without Telegram"), "anx:list"), menu_button(t)])
    return rows


async def show_card(
    update: Update,
    context: PalContext,
    person_id: int,
    *,
    toast: str | None = None,
    new_message: bool = False,
) -> None:
    """The person's card, or a refusal for someone the animator may not act for."""
    t = context.t
    now = context.services.clock.now()
    try:
        card = await context.db.read(
            proxy_card, actor=actor_of(context), person_id=person_id, now=now
        )
    except ProxyNotFound:
        await answer(update, context, t._("This person is not on your list."), alert=True)
        return
    await screen(
        update,
        context,
        card_text(t, card, now),
        inline(card_rows(t, card, now)),
        toast=toast,
        new_message=new_message,
    )


def _person_id(context: PalContext) -> int:
    assert context.matches is not None
    return int(context.matches[0].group(1))


# ---------------------------------------------------------------- the list and adding


@animator_only
async def on_list(update: Update, context: PalContext) -> None:
    """`anx:list`: the programme's people without Telegram."""
    t = context.t
    people = await context.db.read(proxy_people, actor=actor_of(context))
    rows: Rows = [[(shorten(p.display_name or "—", 40), f"anx:p:{p.id}")] for p in people]
    rows.append([(t._("➕ Add a person without Telegram"), "anx:add")])
    rows.append([menu_button(t)])
    text = t._(
        "🧾 People without Telegram. An animator signs them up, marks their attendance "
        "and enters their paper surveys; all of it is recorded as done for them."
    )
    if not people:
        text += "\n\n" + t._("No one without Telegram has been added yet.")
    await screen(update, context, text, inline(rows))


@animator_only
async def on_add(update: Update, context: PalContext) -> None:
    """`anx:add`: ask for the person's name."""
    actor = actor_of(context)
    t = context.t
    if actor.programme_id is None:
        await refuse_no_programme(update, context)
        return
    await context.db.write(
        save_dialog, person_id=actor.person_id, kind=KIND, step="name", data={}, awaits_text=True
    )
    await screen(
        update,
        context,
        t._(
            "Type the name the team knows this person by (at most 60 characters), for example "
            "“Pani Zofia”. Only the team sees it; reports use a code."
        ),
        inline([[(t._("✖ Cancel"), "anx:list")]]),
        new_message=True,
    )


def _phone_question(t: Translator) -> tuple[str, Rows]:
    return (
        t._(
            "Phone number, if the person wants calls about activities (e.g. 600 123 456). "
            "Or press “⏭ Skip”."
        ),
        [[(t._("⏭ Skip"), "anx:ph:-")]],
    )


@on_text(KIND, role=Role.ANIMATOR)
async def on_typed(update: Update, context: PalContext, dialog: Dialog) -> None:
    """The name, then the phone number."""
    message = update.effective_message
    assert message is not None and message.text is not None
    t = context.t
    if dialog.step == "name":
        try:
            name = validate_display_name(message.text[:200])
        except InvalidDisplayName as exc:
            await answer(update, context, name_problem_text(t, exc.problem))
            return
        await context.db.write(
            save_dialog,
            person_id=dialog.person_id,
            kind=KIND,
            step="phone",
            data={"name": name},
            awaits_text=True,
        )
        text, rows = _phone_question(t)
        await screen(update, context, text, inline(rows), new_message=True)
        return
    if dialog.step == "phone":
        try:
            phone = normalise_phone(message.text[:40])
        except InvalidPhone:
            await answer(
                update,
                context,
                t._(
                    "That does not look like a phone number. Type digits, e.g. 600 123 456, or "
                    "press “⏭ Skip”."
                ),
            )
            return
        await _ask_notice(update, context, dialog, phone)


async def _ask_notice(
    update: Update, context: PalContext, dialog: Dialog, phone: str | None
) -> None:
    t = context.t
    data = {**dialog.data, "phone": phone}
    await context.db.write(
        save_dialog,
        person_id=dialog.person_id,
        kind=KIND,
        step="notice",
        data=data,
        awaits_text=False,
    )
    await screen(
        update,
        context,
        t._("Has {name} received the paper notice “About your personal data”?").format(
            name=data.get("name", "")
        ),
        inline([[(t._("✅ Yes, they have it"), "anx:nt:1"), (t._("❌ Not yet"), "anx:nt:0")]]),
        new_message=update.callback_query is None,
    )


@animator_only
async def on_no_phone(update: Update, context: PalContext) -> None:
    """`anx:ph:-`: no phone number."""
    person_id = actor_of(context).person_id
    dialog = await context.db.read(get_dialog, person_id=person_id, kind=KIND)
    if dialog is None or dialog.step != "phone":
        await answer(
            update, context, context.t._("This button is no longer active. Open the menu again.")
        )
        return
    await _ask_notice(update, context, dialog, None)


@animator_only
async def on_notice(update: Update, context: PalContext) -> None:
    """`anx:nt:<0|1>`: create the record and show the person's card."""
    t = context.t
    assert context.matches is not None
    try:
        person = await context.db.write(
            create_from_dialog, actor=actor_of(context), signed=context.matches[0].group(1) == "1"
        )
    except (InvalidDisplayName, InvalidPhone):
        person = None
    if person is None or person.id is None:
        await answer(update, context, t._("This button is no longer active. Open the menu again."))
        return
    log.info(
        "proxy participant created person_id=%s by person_id=%s",
        person.id,
        actor_of(context).person_id,
    )
    await show_card(
        update, context, person.id, toast=t._("Added: {name}.").format(name=person.display_name)
    )


# ---------------------------------------------------------------- acting for the person


@animator_only
async def on_card(update: Update, context: PalContext) -> None:
    """`anx:p:<person>`: the person's card."""
    await show_card(update, context, _person_id(context))


@animator_only
async def on_choose_activity(update: Update, context: PalContext) -> None:
    """`anx:su:<person>`: which activity to sign the person up for."""
    t = context.t
    person_id = _person_id(context)
    try:
        activities = await context.db.read(
            proxy_choices,
            actor=actor_of(context),
            person_id=person_id,
            now=context.services.clock.now(),
        )
    except ProxyNotFound:
        await answer(update, context, t._("This person is not on your list."), alert=True)
        return
    rows: Rows = [[(activity_label(t, a), f"anx:sa:{person_id}:{a.id}")] for a in activities]
    rows.append([(t._("⬅️ Back"), f"anx:p:{person_id}")])
    await screen(
        update,
        context,
        t._("Sign up for which activity?")
        if activities
        else t._("There are no upcoming activities."),
        inline(rows),
    )


@animator_only
async def on_sign_up(update: Update, context: PalContext) -> None:
    """`anx:sa:<person>:<activity>`: the seat rule, on the person's behalf."""
    t = context.t
    assert context.matches is not None
    person_id, activity_id = int(context.matches[0].group(1)), int(context.matches[0].group(2))
    now = context.services.clock.now()
    try:
        confirmed, position = await context.db.write(
            proxy_sign_up,
            actor=actor_of(context),
            person_id=person_id,
            activity_id=activity_id,
            now=now,
        )
    except ProxyNotFound:
        await answer(update, context, t._("This person is not on your list."), alert=True)
        return
    except ActivityNotFound:
        await answer(update, context, t._("This activity no longer exists."), alert=True)
        return
    except RegistrationClosed:
        view = await context.db.read(
            activity_view, activity_id=activity_id, person_id=None, now=now
        )
        await answer(
            update,
            context,
            closed_text(t, view.closed, view.activity.registration_deadline),
            alert=True,
        )
        return
    log.info(
        "proxy sign-up person_id=%s activity_id=%s by person_id=%s",
        person_id,
        activity_id,
        actor_of(context).person_id,
    )
    toast = (
        t._("Done: the person has a place.")
        if confirmed
        else t._("No free places: the person is on the reserve list (position {position}).").format(
            position=position
        )
    )
    await show_card(update, context, person_id, toast=toast)


@animator_only
async def on_cancel_place(update: Update, context: PalContext) -> None:
    """`anx:cx:<person>:<activity>`: give the place back for the person."""
    t = context.t
    assert context.matches is not None
    person_id, activity_id = int(context.matches[0].group(1)), int(context.matches[0].group(2))
    try:
        await context.db.write(
            proxy_cancel,
            actor=actor_of(context),
            person_id=person_id,
            activity_id=activity_id,
            now=context.services.clock.now(),
        )
    except ProxyNotFound:
        await answer(update, context, t._("This person is not on your list."), alert=True)
        return
    except (NotRegistered, ActivityNotFound):
        await show_card(update, context, person_id, toast=t._("Nothing to cancel."))
        return
    except RegistrationClosed:
        await answer(
            update,
            context,
            t._("This activity has already started, so the place can no longer be given back."),
            alert=True,
        )
        return
    log.info(
        "proxy cancel person_id=%s activity_id=%s by person_id=%s",
        person_id,
        activity_id,
        actor_of(context).person_id,
    )
    await show_card(update, context, person_id, toast=t._("The place was given back."))


@animator_only
async def on_attendance(update: Update, context: PalContext) -> None:
    """`anx:at:<person>:<activity>:<registration>:<1|0>`: mark present or not."""
    t = context.t
    assert context.matches is not None
    person_id, activity_id, registration_id, value = (int(g) for g in context.matches[0].groups())
    try:
        await context.db.write(
            proxy_attendance,
            actor=actor_of(context),
            person_id=person_id,
            activity_id=activity_id,
            registration_id=registration_id,
            attended=bool(value),
            now=context.services.clock.now(),
        )
    except (ProxyNotFound, NotYourActivity):
        await answer(
            update,
            context,
            t._("This activity is not available to you. Open the animator menu again."),
            alert=True,
        )
        return
    except AttendanceNotOpen as exc:
        await answer(
            update,
            context,
            t._("You can mark attendance from {date}.").format(date=t.date_time(exc.opens_at)),
            alert=True,
        )
        return
    except (ActivityCancelled, NotOnTheList):
        await show_card(update, context, person_id, toast=t._("Nothing to mark."))
        return
    await show_card(
        update, context, person_id, toast=t._("Marked present.") if value else t._("Mark removed.")
    )


def register(app: PalApplication) -> None:
    """Add the people-without-Telegram buttons (typed answers arrive through @on_text)."""
    app.add_handler(CallbackQueryHandler(on_list, pattern=r"^anx:list$"))
    app.add_handler(CallbackQueryHandler(on_add, pattern=r"^anx:add$"))
    app.add_handler(CallbackQueryHandler(on_no_phone, pattern=r"^anx:ph:-$"))
    app.add_handler(CallbackQueryHandler(on_notice, pattern=r"^anx:nt:([01])$"))
    app.add_handler(CallbackQueryHandler(on_card, pattern=r"^anx:p:(\d{1,12})$"))
    app.add_handler(CallbackQueryHandler(on_choose_activity, pattern=r"^anx:su:(\d{1,12})$"))
    app.add_handler(CallbackQueryHandler(on_sign_up, pattern=r"^anx:sa:(\d{1,12}):(\d{1,12})$"))
    app.add_handler(
        CallbackQueryHandler(on_cancel_place, pattern=r"^anx:cx:(\d{1,12}):(\d{1,12})$")
    )
    app.add_handler(
        CallbackQueryHandler(
            on_attendance, pattern=r"^anx:at:(\d{1,12}):(\d{1,12}):(\d{1,12}):([01])$"
        )
    )
