"""Attendance: the animator's checklist, the check-in code with its QR, and /checkin.

The checklist is one message edited in place. Each button carries the value it sets
(`ana:t:<activity>:<registration>:<1|0>:<page>`), never "toggle", and the message is
drawn again from the database after every tap, so two animators ticking the same list
see each other's marks and cannot undo them by accident.

Callback data: `ana:<id>` (the checklist), `ana:p:<id>:<page>`, `ana:t:…` (a tap),
`ana:code:<id>` (the code and its QR). Residents: `/checkin 4821`, or the QR's deep
link `/start ci_<activity>_<code>` (read here, ahead of onboarding's /start).
"""

from __future__ import annotations

import io
import logging

from telegram import InputFile, Update
from telegram.ext import ApplicationHandlerStop, CallbackQueryHandler, CommandHandler, filters

from bot.context import PalApplication, PalContext
from bot.keyboards import inline, shorten
from handlers.animator.common import (
    Rows,
    actor_of,
    animator_only,
    menu_button,
    refuse_stale,
    screen,
)
from handlers.common import answer, requires_onboarding
from storage.activities.attendance import (
    ActivityCancelled,
    AttendanceNotOpen,
    CheckinPaused,
    Checklist,
    CodeNotValidNow,
    NoPlaceHere,
    NotOnTheList,
    WrongCode,
    checkin_code,
    checklist,
    self_check_in,
    set_attendance,
)
from storage.activities.organising import NotYourActivity
from translations import Translator

log = logging.getLogger(__name__)
PAGE = 24
# Ahead of onboarding's /start (group 0), so a check-in link is not just "the menu".
DEEP_LINK_GROUP = -5


def checklist_screen(
    t: Translator, found: Checklist, page: int, now_opened: bool
) -> tuple[str, Rows]:
    """The checklist text and one button per person holding a place."""
    a = found.activity
    pages = max(1, -(-len(found.rows) // PAGE))
    page = min(max(page, 0), pages - 1)
    lines = [
        t._("✅ Attendance: {title}").format(title=a.title),
        t.date_time(a.starts_at),
        t._("Present: {attended} of {taken}.").format(
            attended=found.attended, taken=len(found.rows)
        ),
    ]
    if not found.rows:
        lines.append(t._("Nobody holds a place in this activity."))
    elif not now_opened:
        lines.append(
            t._("You can mark attendance from {date}.").format(date=t.date_time(found.opens_at))
        )
    else:
        lines.append(t._("Tap a name to mark the person present; tap again to undo."))
    if any(row.without_telegram for row in found.rows):
        lines.append(t._("🧾 = without Telegram"))
    if pages > 1:
        lines.append(t._("Page {page} of {pages}").format(page=page + 1, pages=pages))
    rows: Rows = []
    for row in found.rows[page * PAGE : (page + 1) * PAGE]:
        mark = "✅" if row.attended else "⬜"
        paper = " 🧾" if row.without_telegram else ""
        value = 0 if row.attended else 1
        rows.append(
            [
                (
                    f"{mark} {shorten(row.display_name, 40)}{paper}",
                    f"ana:t:{a.id}:{row.registration_id}:{value}:{page}",
                )
            ]
        )
    nav: list[tuple[str, str]] = []
    if page > 0:
        nav.append((t._("◀ Previous"), f"ana:p:{a.id}:{page - 1}"))
    nav.append((t._("🔄 Refresh"), f"ana:p:{a.id}:{page}"))
    if page + 1 < pages:
        nav.append((t._("Next ▶"), f"ana:p:{a.id}:{page + 1}"))
    rows.append(nav)
    rows.append([(t._("🔢 Check-in code"), f"ana:code:{a.id}")])
    rows.append([(t._("⬅️ Back"), f"an:a:{a.id}"), menu_button(t)])
    return "\n".join(lines), rows


async def show_checklist(
    update: Update,
    context: PalContext,
    activity_id: int,
    page: int = 0,
    *,
    toast: str | None = None,
) -> None:
    """Draw the checklist from the database (a new message, or the pressed one edited)."""
    t = context.t
    try:
        found = await context.db.read(checklist, activity_id=activity_id, actor=actor_of(context))
    except NotYourActivity:
        await refuse_stale(update, context)
        return
    opened = context.services.clock.now() >= found.opens_at
    text, rows = checklist_screen(t, found, page, opened)
    await screen(update, context, text, inline(rows), toast=toast)


@animator_only
async def on_checklist(update: Update, context: PalContext) -> None:
    """`ana:<id>` / `ana:p:<id>:<page>`: the attendance checklist."""
    assert context.matches is not None
    page = context.matches[0].group(2)
    await show_checklist(update, context, int(context.matches[0].group(1)), int(page or 0))


@animator_only
async def on_tap(update: Update, context: PalContext) -> None:
    """`ana:t:<activity>:<registration>:<1|0>:<page>`: set one person's attendance."""
    assert context.matches is not None
    t = context.t
    activity_id, registration_id, value, page = (int(g) for g in context.matches[0].groups())
    actor = actor_of(context)
    try:
        await context.db.write(
            set_attendance,
            activity_id=activity_id,
            registration_id=registration_id,
            attended=bool(value),
            actor=actor,
            now=context.services.clock.now(),
        )
    except NotYourActivity:
        await refuse_stale(update, context)
        return
    except AttendanceNotOpen as exc:
        await answer(
            update,
            context,
            t._("You can mark attendance from {date}.").format(date=t.date_time(exc.opens_at)),
            alert=True,
        )
        return
    except ActivityCancelled:
        await answer(update, context, t._("This activity has been called off."), alert=True)
        return
    except NotOnTheList:
        # The person gave up the place meanwhile: show the list as it is now.
        await show_checklist(
            update, context, activity_id, page, toast=t._("This person no longer holds a place.")
        )
        return
    log.info(
        "attendance set activity_id=%s registration_id=%s attended=%s by person_id=%s",
        activity_id,
        registration_id,
        bool(value),
        actor.person_id,
    )
    await show_checklist(
        update,
        context,
        activity_id,
        page,
        toast=t._("Marked present.") if value else t._("Mark removed."),
    )


# ---------------------------------------------------------------- the code


def checkin_link(bot_username: str, activity_id: int, code: str) -> str:
    """The deep link the QR code holds."""
    return f"https://t.me/{bot_username}?start=ci_{activity_id}_{code}"


def qr_png(link: str) -> bytes:
    """A QR code of the link, as PNG bytes."""
    import qrcode  # heavy: Pillow (about 5 MB resident), only when a code is shown

    image = qrcode.make(link, box_size=10, border=3)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@animator_only
async def on_code(update: Update, context: PalContext) -> None:
    """`ana:code:<id>`: the 4-digit code, its validity, and a QR code to scan."""
    t = context.t
    assert context.matches is not None and update.effective_chat is not None
    activity_id = int(context.matches[0].group(1))
    try:
        found = await context.db.write(
            checkin_code,
            activity_id=activity_id,
            actor=actor_of(context),
            now=context.services.clock.now(),
        )
    except NotYourActivity:
        await refuse_stale(update, context)
        return
    except ActivityCancelled:
        await answer(update, context, t._("This activity has been called off."), alert=True)
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
    caption = t._(
        "Check-in code for {title}: {code}\n\nValid from {start} to {end}.\n"
        "Residents send /checkin {code} or scan this QR code with their phone."
    ).format(
        title=found.activity.title,
        code=found.code,
        start=t.date_time(found.valid_from),
        end=t.time(found.valid_until),
    )
    png = qr_png(checkin_link(context.bot.username, activity_id, found.code))
    await context.bot.send_photo(
        update.effective_chat.id,
        InputFile(png, filename=f"checkin-{activity_id}.png"),
        caption=caption,
        reply_markup=inline(
            [
                [(t._("✅ Attendance"), f"ana:{activity_id}")],
                [(t._("⬅️ Back"), f"an:a:{activity_id}"), menu_button(t)],
            ]
        ),
    )


# ---------------------------------------------------------------- residents


async def _check_in(
    update: Update, context: PalContext, code: str, activity_id: int | None
) -> None:
    t = context.t
    person = context.viewer.person
    assert person is not None and person.id is not None
    try:
        result = await context.db.write(
            self_check_in,
            person_id=person.id,
            code=code,
            now=context.services.clock.now(),
            activity_id=activity_id,
        )
    except CheckinPaused as exc:
        text = t._(
            "Too many wrong codes. Try again after {time}, or ask the animator to mark you present."
        ).format(time=t.time(exc.until))
    except WrongCode as exc:
        text = (
            t._("This code does not match any of your activities. Check it with the animator.")
            + " "
            + t.ngettext(
                "You can try {n} more time.", "You can try {n} more times.", exc.left
            ).format(n=exc.left)
        )
    except CodeNotValidNow as exc:
        now = context.services.clock.now()
        text = (
            t._("Check-in for {title} opens at {time}.").format(
                title=exc.activity.title, time=t.date_time(exc.valid_from)
            )
            if now < exc.valid_from
            else t._("Check-in for {title} has ended.").format(title=exc.activity.title)
        )
    except NoPlaceHere as exc:
        text = t._(
            "You do not have a place in {title}, so you cannot check in. Please talk "
            "to the animator."
        ).format(title=exc.activity.title)
    else:
        log.info(
            "self check-in person_id=%s activity_id=%s changed=%s",
            person.id,
            result.activity.id,
            result.changed,
        )
        text = (
            t._("✅ You are checked in: {title}. Welcome!")
            if result.changed
            else t._("You are already checked in: {title}.")
        ).format(title=result.activity.title)
    await answer(update, context, text)


@requires_onboarding
async def checkin_command(update: Update, context: PalContext) -> None:
    """/checkin 4821: a resident confirms they are here."""
    args = context.args or []
    if len(args) != 1:
        await answer(
            update,
            context,
            context.t._("Send the code the animator shows, like this: /checkin 4821"),
        )
        return
    await _check_in(update, context, args[0][:8], None)


async def on_checkin_link(update: Update, context: PalContext) -> None:
    """/start ci_<activity>_<code>: the QR code's deep link."""
    if not context.viewer.is_onboarded:
        return  # onboarding's /start takes it from here; the code can be typed later
    assert context.matches is not None
    await _check_in(update, context, context.matches[0].group(2), int(context.matches[0].group(1)))
    raise ApplicationHandlerStop


def register(app: PalApplication) -> None:
    """Add the checklist, the code, /checkin and the deep-link reader."""
    app.add_handler(
        CallbackQueryHandler(on_checklist, pattern=r"^ana:(?:p:)?(\d{1,12})(?::(\d{1,3}))?$")
    )
    app.add_handler(
        CallbackQueryHandler(on_tap, pattern=r"^ana:t:(\d{1,12}):(\d{1,12}):([01]):(\d{1,3})$")
    )
    app.add_handler(CallbackQueryHandler(on_code, pattern=r"^ana:code:(\d{1,12})$"))
    app.add_handler(CommandHandler("checkin", checkin_command))
    app.add_handler(
        CommandHandler(
            "start", on_checkin_link, filters=filters.Regex(r"^/start ci_(\d{1,12})_(\d{4})$")
        ),
        group=DEEP_LINK_GROUP,
    )
