"""Residents' data rights in the chat: /privacy, /mydata and /forgetme.

Callback data: `pv:data` (send my data), `pv:forget` (ask to confirm erasure),
`pv:fy:<unix time the question was asked>` (erase; the question expires), `pv:fn` (keep).
The person always comes from the update, never from the button.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime, time, timedelta

from babel.dates import format_date
from telegram import InputFile, ReplyKeyboardRemove, Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.context import PalApplication, PalContext
from bot.data_export import render_html, render_json
from bot.keyboards import inline
from handlers.common import answer
from schedules.retention import run_retention
from storage.db import DatabaseUnavailable
from storage.models import Programme
from storage.privacy.erasure import (
    AnswersFate,
    ErasurePreview,
    ErasureReport,
    erase_person,
    erasure_preview,
    scrub_freed_space,
)
from storage.privacy.my_data import PersonNotFound, person_data
from translations import Translator
from usecases.privacy_rights import programme_and_end

log = logging.getLogger(__name__)

# A confirmation left on screen longer than this is not acted on: an old message
# pressed by accident must not erase anyone.
CONFIRMATION_VALID = timedelta(minutes=15)
# Retention runs at night (local time), and once a little after every start.
RETENTION_TIME = time(3, 30)
RETENTION_AFTER_START = timedelta(minutes=2)


def still_fresh(asked_unix: int, now: datetime) -> bool:
    """Whether a confirmation asked at `asked_unix` (from its button) may still be acted on."""
    asked = datetime.fromtimestamp(asked_unix, UTC)
    # A minute of slack for clocks of different processes.
    return timedelta(minutes=-1) <= now - asked <= CONFIRMATION_VALID


_CONFIRM = re.compile(r"^pv:fy:(\d{1,12})$")
UODO = "Prezes Urzędu Ochrony Danych Osobowych, ul. Stawki 2, 00-193 Warszawa, uodo.gov.pl"


# ---------------------------------------------------------------- /privacy


def _retention_text(t: Translator, programme: Programme | None, end: datetime | None) -> str:
    heading = t._("⏳ How long we keep it")
    if programme is None or programme.retention_months is None:
        body = t._(
            "As long as the programme runs and its records must be kept, and no "
            "longer than needed. You can have your data deleted at any time: /forgetme."
        )
        return f"{heading}\n\n{body}"
    months = programme.retention_months
    if end is not None:
        body = t.ngettext(
            "Until {count} month after the programme ends ({end}).",
            "Until {count} months after the programme ends ({end}).",
            months,
        ).format(count=months, end=format_date(t.local(end), "d MMMM y", locale=t.locale))
    else:
        body = t.ngettext(
            "Until {count} month after the programme ends.",
            "Until {count} months after the programme ends.",
            months,
        ).format(count=months)
    then = t._("Then your name and Telegram id are deleted automatically.")
    answers = (
        t._("Your survey answers then stay only under a code, for the programme's reports.")
        if programme.keep_answers_on_erasure
        else t._("Your survey answers are then deleted too.")
    )
    return f"{heading}\n\n{body} {then} {answers}"


def notice_messages(
    t: Translator,
    *,
    controller: str,
    dpo: str,
    programme: Programme | None,
    end: datetime | None,
) -> list[str]:
    """The full information notice (RODO art. 13) as short messages, in order."""
    controller = controller or t._("the social welfare centre that runs your programme")
    dpo = dpo or t._("the data protection officer of that centre (see its website or notice board)")
    return [
        "\n\n".join(
            [
                t._("🔒 About your personal data"),
                t._("Responsible for your data (the controller): {controller}.").format(
                    controller=controller
                ),
                t._("Data protection officer: {contact}.").format(contact=dpo),
            ]
        ),
        "\n\n".join(
            [
                t._("🎯 Why we use your data"),
                t._(
                    "To run the Local Activity Programme: your places in activities, the reserve "
                    "list, reminders and announcements; and to check whether the programme helps "
                    "people (the initial and final surveys)."
                ),
                t._(
                    "Legal basis: a task in the public interest (art. 6(1)(e) GDPR), which the "
                    "social welfare centre carries out under the Social Assistance Act."
                ),
                t._("Taking part and the surveys are voluntary and never affect benefits."),
            ]
        ),
        "\n".join(
            [
                t._("📋 What we keep"),
                t._("• the name you chose for the animators to see"),
                t._("• your Telegram id (to send you messages) and your language"),
                t._("• your sign-ups, reserve list places and attendance"),
                t._("• your survey answers"),
                "",
                t._(
                    "We never ask for and never keep: PESEL, address, health, whether you receive "
                    "social assistance or benefits, your Telegram name, username or photo."
                ),
            ]
        ),
        "\n".join(
            [
                t._("👀 Who sees what"),
                t._("• Animators see your chosen name, your sign-ups and attendance."),
                t._("• Evaluators see only a code instead of your name, and totals."),
                t._("• Messages are delivered by Telegram."),
                t._("• Nobody else gets your data, unless the law requires it."),
            ]
        ),
        _retention_text(t, programme, end),
        "\n".join(
            [
                t._("⚖️ Your rights"),
                t._("• See your data: /mydata"),
                t._("• Delete your data: /forgetme"),
                t._("• Correct your data or limit its use: write to the data protection officer."),
                t._("• Object to the use of your data: write to the data protection officer."),
                t._(
                    "• Complain to the President of the Personal Data Protection Office: {office}."
                ).format(office=UODO),
                "",
                t._("Questions: {contact}.").format(contact=dpo),
            ]
        ),
    ]


def _rights_buttons(t: Translator) -> list[list[tuple[str, str]]]:
    return [[(t._("📄 My data"), "pv:data"), (t._("🗑 Delete my data"), "pv:forget")]]


async def privacy_command(update: Update, context: PalContext) -> None:
    """/privacy: the full notice, for anyone (no sign-up needed to read it)."""
    t = context.t
    chat = update.effective_chat
    if chat is None:
        return
    person = context.viewer.person
    programme, end = await context.db.read(
        programme_and_end, person.programme_id if person else None
    )
    messages = notice_messages(
        t,
        controller=context.settings.controller_name,
        dpo=context.settings.dpo_contact,
        programme=programme,
        end=end,
    )
    for number, text in enumerate(messages, start=1):
        last = number == len(messages)
        await context.bot.send_message(
            chat.id, text, reply_markup=inline(_rights_buttons(t)) if last else None
        )


# ---------------------------------------------------------------- /mydata


async def send_my_data(update: Update, context: PalContext) -> None:
    """Send the two files with everything stored about the person."""
    t = context.t
    chat = update.effective_chat
    person = context.viewer.person
    if chat is None:
        return
    if person is None or person.id is None:
        await answer(update, context, t._("We store nothing about you."))
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
    try:
        data = await context.db.read(
            person_data, person_id=person.id, now=context.services.clock.now()
        )
    except PersonNotFound:
        await answer(update, context, t._("We store nothing about you."))
        return
    stem = t._("my-data")
    await context.bot.send_document(
        chat.id,
        InputFile(render_html(data, t).encode(), filename=f"{stem}.html"),
        caption=t._("Everything we store about you. Open the file to read it."),
    )
    await context.bot.send_document(
        chat.id,
        InputFile(render_json(data).encode(), filename=f"{stem}.json"),
        caption=t._("The same data for computers (JSON)."),
    )
    log.info("person data sent: person_id=%s", person.id)


# ---------------------------------------------------------------- /forgetme


def _answers_line(t: Translator, fate: AnswersFate, *, done: bool) -> str | None:
    if fate == AnswersFate.KEPT:
        return (
            t._(
                "Your survey answers were kept only under a code, with nothing that leads "
                "to you: the programme must report on them."
            )
            if done
            else t._(
                "Your survey answers stay only under a code, with nothing that leads to "
                "you: the programme must report on them."
            )
        )
    if fate == AnswersFate.DELETED:
        return (
            t._("Your survey answers were deleted.")
            if done
            else t._("Your survey answers will be deleted.")
        )
    if fate == AnswersFate.MIXED:
        return (
            t._(
                "Some survey answers were kept only under a code, as their programme "
                "requires; the others were deleted."
            )
            if done
            else t._(
                "Some survey answers stay only under a code, as their programme requires; "
                "the others will be deleted."
            )
        )
    return None


def confirmation_text(t: Translator, preview: ErasurePreview) -> str:
    """What erasure will do, asked before doing it."""
    lines = [
        t._("🗑 Delete your data?"),
        "",
        t._(
            "We will delete your name and Telegram id, and everything that links you to "
            "the programme."
        ),
    ]
    if preview.places_released:
        lines.append(
            t.ngettext(
                "You give up {count} place in an upcoming activity; the next person on the "
                "reserve list gets it.",
                "You give up {count} places in upcoming activities; the next people on the "
                "reserve lists get them.",
                preview.places_released,
            ).format(count=preview.places_released)
        )
    if preview.reserve_positions_left:
        lines.append(
            t.ngettext(
                "You leave {count} reserve list.",
                "You leave {count} reserve lists.",
                preview.reserve_positions_left,
            ).format(count=preview.reserve_positions_left)
        )
    if preview.pending_messages:
        lines.append(t._("Reminders and messages waiting for you will not be sent."))
    answers = _answers_line(t, preview.answers, done=False)
    if answers:
        lines.append(answers)
    lines += [
        "",
        t._(
            "Attendance at past activities stays in the programme's totals, without "
            "your name. This cannot be undone."
        ),
    ]
    return "\n".join(lines)


def done_text(t: Translator, report: ErasureReport) -> str:
    """What erasure did."""
    lines = [t._("✅ Your data has been deleted.")]
    if report.places_released:
        lines.append(
            t.ngettext(
                "{count} place was offered to the next person on the reserve list.",
                "{count} places were offered to the next people on the reserve lists.",
                report.places_released,
            ).format(count=report.places_released)
        )
    answers = _answers_line(t, report.answers, done=True)
    if answers:
        lines.append(answers)
    lines.append(t._("Thank you for taking part. To come back at any time, send /start."))
    return "\n\n".join(lines)


async def forget_me(update: Update, context: PalContext) -> None:
    """/forgetme and the button: show what will happen and ask to confirm."""
    t = context.t
    chat = update.effective_chat
    person = context.viewer.person
    if chat is None:
        return
    if person is None or person.id is None:
        await answer(update, context, t._("We store nothing about you."))
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
    now = context.services.clock.now()
    preview = await context.db.read(erasure_preview, person_id=person.id, now=now)
    await context.bot.send_message(
        chat.id,
        confirmation_text(t, preview),
        reply_markup=inline(
            [
                [(t._("🗑 Yes, delete my data"), f"pv:fy:{int(now.timestamp())}")],
                [(t._("No, keep my data"), "pv:fn")],
            ]
        ),
    )


async def _drop_buttons(update: Update) -> None:
    query = update.callback_query
    if query is None or query.message is None:
        return
    try:
        await query.edit_message_reply_markup(reply_markup=None)
    except TelegramError:
        # Cosmetic: the message may be too old or gone; the action itself is done.
        log.debug("could not remove the confirmation buttons")


async def on_confirm(update: Update, context: PalContext) -> None:
    """`pv:fy:<asked at>`: erase the presser's data if the question is still fresh."""
    t = context.t
    query = update.callback_query
    chat = update.effective_chat
    assert query is not None and query.data is not None
    match = _CONFIRM.match(query.data)
    person = context.viewer.person
    if match is None or chat is None:
        await answer(update, context, t._("This button is no longer active. Open the menu again."))
        return
    if person is None or person.id is None:
        await answer(update, context, t._("We store nothing about you."))
        await _drop_buttons(update)
        return
    now = context.services.clock.now()
    if not still_fresh(int(match.group(1)), now):
        await answer(
            update, context, t._("This question has expired. Send /forgetme again."), alert=True
        )
        await _drop_buttons(update)
        return
    await query.answer()
    report = await context.db.write(erase_person, person_id=person.id, now=now)
    # The erased pages must not linger in SQLite's write-ahead log.
    await asyncio.to_thread(scrub_freed_space, context.db.engine)
    await _drop_buttons(update)
    await context.bot.send_message(
        chat.id, done_text(t, report), reply_markup=ReplyKeyboardRemove()
    )


async def on_keep(update: Update, context: PalContext) -> None:
    """`pv:fn`: nothing changes."""
    await answer(update, context, context.t._("Nothing was deleted."))
    await _drop_buttons(update)


async def retention_job(context: PalContext) -> None:
    """The JobQueue's daily retention run (ids only in the logs)."""
    try:
        await run_retention(
            context.db,
            now=context.services.clock.now(),
            protected_telegram_ids=context.settings.admin_ids,
        )
    except DatabaseUnavailable:
        log.warning("retention: database unavailable; the next run will catch up")


async def schedule_retention(app: PalApplication) -> None:
    """Rebuild the retention jobs on start: daily at night, and once soon after start."""
    jobs = app.job_queue
    if jobs is None:
        log.warning("no job queue: retention will not run automatically (use palbot purge)")
        return
    zone = app.bot_data["services"].settings.zone
    jobs.run_daily(retention_job, time=RETENTION_TIME.replace(tzinfo=zone), name="retention")
    jobs.run_once(retention_job, when=RETENTION_AFTER_START, name="retention-after-start")


def register(app: PalApplication) -> None:
    """Add /privacy, /mydata, /forgetme and their buttons; schedule retention."""
    app.bot_data["services"].on_start.append(schedule_retention)

    app.add_handler(CommandHandler("privacy", privacy_command))
    app.add_handler(CommandHandler("mydata", send_my_data))
    app.add_handler(CommandHandler("forgetme", forget_me))
    app.add_handler(CallbackQueryHandler(send_my_data, pattern=r"^pv:data$"))
    app.add_handler(CallbackQueryHandler(forget_me, pattern=r"^pv:forget$"))
    app.add_handler(CallbackQueryHandler(on_confirm, pattern=r"^pv:fy:"))
    app.add_handler(CallbackQueryHandler(on_keep, pattern=r"^pv:fn$"))
