"""/admin, one programme's questionnaire and surveys: choose a shipped questionnaire or
send a YAML file (checked like `palbot check-surveys`, every problem with its line),
see response counts, open the final survey wave (as `palbot open-final-survey`).

Callback data: `prg:s:<p>` (the screen), `prg:sq:<p>:<n>` then `prg:sqy:<p>:<n>` (a shipped
questionnaire, confirmed), `prg:sf:<p>` (send a file) then `prg:sy:<p>:<nonce>` (use the
file sent), `prg:fs:<p>` then `prg:fsy:<p>` (open the final survey, confirmed).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from telegram import Update
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot.context import PalApplication, PalContext
from bot.keyboards import inline
from handlers.admin.menu import not_allowed_text, staff_actor
from handlers.admin.programme_texts import Rows, day_text
from handlers.admin.programmes import arg, staff_screen, stale
from handlers.common import answer
from handlers.dialogs import on_text
from handlers.resident.activities import show_screen
from storage.dialogs import close_dialog, get_dialog
from storage.models import Dialog
from storage.people.staff_access import NotAllowed
from storage.programmes.surveys import (
    FileTooLarge,
    InvalidQuestionnaire,
    OtherQuestionnaireAnswered,
    QuestionnaireSummary,
    keep_sent_file,
    shipped_questionnaires,
    summary,
)
from storage.surveys.questionnaire_files import MAX_FILE_BYTES, questionnaire_cache
from storage.surveys.questionnaires import Problem
from translations import Translator
from usecases.programme_settings import Stale, programme_name_of
from usecases.questionnaire_choice import (
    SURVEY_FILE,
    check_sent_questionnaire,
    choose_programme_questionnaire,
    open_final_survey_as_coordinator,
    questionnaire_screen,
    wait_for_questionnaire_file,
)

log = logging.getLogger(__name__)
PROBLEMS_SHOWN = 25


def summary_text(t: Translator, found: QuestionnaireSummary) -> str:
    """`wellbeing version 2: 8 questions in the initial survey, 9 in the final`."""
    return t._(
        "“{id}” version {version}: {initial} in the initial survey, {final} in the final survey"
    ).format(
        id=found.questionnaire_id,
        version=found.version,
        initial=t.ngettext("{n} question", "{n} questions", found.initial_items).format(
            n=found.initial_items
        ),
        final=t.ngettext("{n} question", "{n} questions", found.final_items).format(
            n=found.final_items
        ),
    )


@staff_screen
async def on_surveys(update: Update, context: PalContext) -> None:
    """`prg:s:<p>`: the questionnaire, response counts and the final survey."""
    t = context.t
    person = context.viewer.person
    assert person is not None and person.id is not None
    programme_id = int(arg(context))
    name, file_name, opened, counts, current = await context.db.write(
        questionnaire_screen,
        actor=staff_actor(context),
        programme_id=programme_id,
        person_id=person.id,
        surveys_dir=context.settings.surveys_dir,
    )
    lines = [
        t._("📋 Surveys of “{name}”").format(name=name),
        t._("Questionnaire: {what} (file {file})").format(
            what=summary_text(t, current) if current else t._("cannot be read"), file=file_name
        ),
        t._("Initial surveys sent: {n}").format(n=counts.initial),
        t._("Final surveys sent: {n}").format(n=counts.final),
        t.ngettext(
            "{n} person answered both (a matched pair)",
            "{n} people answered both (matched pairs)",
            counts.pairs,
        ).format(n=counts.pairs),
        t.ngettext(
            "{n} survey begun and not sent yet",
            "{n} surveys begun and not sent yet",
            counts.started,
        ).format(n=counts.started),
        t._("The final survey is open since {date}.").format(date=day_text(t, opened))
        if opened
        else t._("The final survey is not open yet."),
    ]
    rows: Rows = [
        [(f"📋 {path.stem}", f"prg:sq:{programme_id}:{n}")]
        for n, path in enumerate(shipped_questionnaires()[:20])
    ]
    rows.append([(t._("📤 Send my own questionnaire (YAML)"), f"prg:sf:{programme_id}")])
    rows.append(
        [
            (
                t._("📣 Open the final survey")
                if not opened
                else t._("📣 Invite those not invited yet"),
                f"prg:fs:{programme_id}",
            )
        ]
    )
    rows.append([(t._("↩️ Programme"), f"prg:o:{programme_id}")])
    lines.append(t._("To use another questionnaire, choose a file below or send your own."))
    await show_screen(update, context, "\n".join(lines), inline(rows))


def _shipped(index: int) -> Path | None:
    shipped = shipped_questionnaires()
    return shipped[index] if 0 <= index < len(shipped) else None


@staff_screen
async def on_shipped(update: Update, context: PalContext) -> None:
    """`prg:sq:<p>:<n>`: use this shipped questionnaire?"""
    t = context.t
    programme_id, index = int(arg(context)), int(arg(context, 2))
    path = _shipped(index)
    if path is None:
        await stale(update, context)
        return
    name = await context.db.read(
        programme_name_of, actor=staff_actor(context), programme_id=programme_id
    )
    found = summary(questionnaire_cache.get(path))
    await show_screen(
        update,
        context,
        t._("Use {what} for “{name}”?").format(what=summary_text(t, found), name=name),
        inline(
            [
                [(t._("✅ Yes, use it"), f"prg:sqy:{programme_id}:{index}")],
                [(t._("✖️ Cancel"), f"prg:s:{programme_id}")],
            ]
        ),
    )


async def _chosen(
    update: Update, context: PalContext, programme_id: int, path: Path, nonce: str | None = None
) -> None:
    t = context.t
    person = context.viewer.person
    assert person is not None and person.id is not None
    try:
        found = await context.db.write(
            choose_programme_questionnaire,
            actor=staff_actor(context),
            programme_id=programme_id,
            path=path,
            person_id=person.id,
            nonce=nonce,
            now=context.services.clock.now(),
        )
    except Stale:
        await stale(update, context)
        return
    except OtherQuestionnaireAnswered as other:
        await answer(
            update,
            context,
            t._(
                "Surveys of this programme were already answered with the questionnaire “{id}”. "
                "A different one would make the start and the end incomparable, so it was not "
                "changed."
            ).format(id=other.questionnaire_id),
            alert=True,
        )
        return
    except InvalidQuestionnaire:
        await stale(update, context)
        return
    log.info("questionnaire chosen by person_id=%s", context.viewer.person_id)
    await show_screen(
        update,
        context,
        t._("Done: “{programme}” now uses {what}.").format(
            programme=found[0], what=summary_text(t, found[1])
        ),
        inline([[(t._("📋 Questionnaire and surveys"), f"prg:s:{programme_id}")]]),
    )


@staff_screen
async def on_shipped_confirm(update: Update, context: PalContext) -> None:
    """`prg:sqy:<p>:<n>`: the programme uses the shipped questionnaire (audited)."""
    path = _shipped(int(arg(context, 2)))
    if path is None:
        await stale(update, context)
        return
    await _chosen(update, context, int(arg(context)), path)


@staff_screen
async def on_send_file(update: Update, context: PalContext) -> None:
    """`prg:sf:<p>`: the next YAML document is this programme's questionnaire."""
    t = context.t
    person = context.viewer.person
    assert person is not None and person.id is not None
    programme_id = int(arg(context))
    name = await context.db.write(
        wait_for_questionnaire_file,
        actor=staff_actor(context),
        programme_id=programme_id,
        person_id=person.id,
    )
    await show_screen(
        update,
        context,
        t._(
            "Send the questionnaire for “{name}” as a YAML document (.yaml). I check it first and "
            "show every problem with its line; nothing changes until you confirm."
        ).format(name=name),
        inline([[(t._("✖️ Cancel"), f"prg:s:{programme_id}")]]),
    )


@on_text(SURVEY_FILE)
async def on_text_instead(update: Update, context: PalContext, dialog: Dialog) -> None:
    """Text while a questionnaire file is awaited."""
    await answer(
        update,
        context,
        context.t._(
            "Please send the questionnaire as a file (a document ending in .yaml), or press "
            "“Cancel”."
        ),
    )


def problem_lines(t: Translator, problems: list[Problem]) -> list[str]:
    """Every problem with its line, as `palbot check-surveys` prints them."""
    lines = [
        t.ngettext("The file has {n} problem:", "The file has {n} problems:", len(problems)).format(
            n=len(problems)
        )
    ]
    for problem in problems[:PROBLEMS_SHOWN]:
        where = (t._("line {n}").format(n=problem.line) + ": ") if problem.line else ""
        lines.append(f"• {where}{problem.location}: {problem.message}")
    if len(problems) > PROBLEMS_SHOWN:
        lines.append(t._("… and {n} more.").format(n=len(problems) - PROBLEMS_SHOWN))
    lines.append(t._("Fix the file and send it again."))
    return lines


def sent_folder(context: PalContext) -> Path:
    """Where questionnaires sent in the chat are kept (they are read at each survey)."""
    return (Path(context.settings.surveys_dir or "surveys") / "sent").resolve()


async def on_questionnaire_file(update: Update, context: PalContext) -> None:
    """A YAML document: the questionnaire awaited for a programme, checked and previewed."""
    message = update.effective_message
    assert message is not None and message.document is not None
    t = context.t
    person = context.viewer.person
    dialog = (
        await context.db.read(get_dialog, person_id=person.id, kind=SURVEY_FILE)
        if person is not None and person.id is not None
        else None
    )
    if dialog is None:
        await answer(
            update,
            context,
            t._(
                "To change a programme's questionnaire, open /admin, choose the programme, then "
                "“Questionnaire and surveys”."
            )
            if context.viewer.roles
            else not_allowed_text(context),
        )
        return
    document = message.document
    programme_id = int(dialog.data["pid"])
    try:
        if document.file_size is not None and document.file_size > MAX_FILE_BYTES:
            raise FileTooLarge(document.file_size)
        file = await context.bot.get_file(document.file_id)
        content = bytes(await file.download_as_bytearray())
        path = await asyncio.to_thread(keep_sent_file, content, folder=sent_folder(context))
        found, problems, nonce = await context.db.write(
            check_sent_questionnaire, actor=staff_actor(context), dialog=dialog, path=path
        )
    except FileTooLarge:
        await message.reply_text(
            t._("This file is too large for a questionnaire (at most 256 kB).")
        )
        return
    except NotAllowed:
        await context.db.write(close_dialog, person_id=dialog.person_id, kind=SURVEY_FILE)
        await answer(update, context, not_allowed_text(context))
        return
    log.info(
        "questionnaire file checked person_id=%s problems=%s",
        context.viewer.person_id,
        len(problems),
    )
    cancel = (t._("✖️ Cancel"), f"prg:s:{programme_id}")
    if found is None:
        await message.reply_text(
            "\n".join(problem_lines(t, problems)), reply_markup=inline([[cancel]])
        )
        return
    await message.reply_text(
        t._("The file is correct: {what}. Use it for this programme?").format(
            what=summary_text(t, found)
        ),
        reply_markup=inline(
            [[(t._("✅ Yes, use it"), f"prg:sy:{programme_id}:{nonce}")], [cancel]]
        ),
    )


@staff_screen
async def on_file_confirm(update: Update, context: PalContext) -> None:
    """`prg:sy:<p>:<nonce>`: use the file just checked (checked again, audited)."""
    await _chosen(update, context, int(arg(context)), Path(), nonce=arg(context, 2))


@staff_screen
async def on_final(update: Update, context: PalContext) -> None:
    """`prg:fs:<p>`: open the final survey?"""
    t = context.t
    programme_id = int(arg(context))
    name = await context.db.read(
        programme_name_of, actor=staff_actor(context), programme_id=programme_id
    )
    await show_screen(
        update,
        context,
        t._(
            "Open the final survey of “{name}”? Everyone with a sent initial survey, or with a "
            "place or attendance in its activities, gets an invitation (once). People without "
            "Telegram are counted: enter their paper surveys with /paper."
        ).format(name=name),
        inline(
            [
                [(t._("✅ Yes, open it"), f"prg:fsy:{programme_id}")],
                [(t._("✖️ Cancel"), f"prg:s:{programme_id}")],
            ]
        ),
    )


@staff_screen
async def on_final_confirm(update: Update, context: PalContext) -> None:
    """`prg:fsy:<p>`: open it and invite everyone it is for (once per person)."""
    t = context.t
    programme_id = int(arg(context))
    done = await context.db.write(
        open_final_survey_as_coordinator,
        actor=staff_actor(context),
        programme_id=programme_id,
        person_id=context.viewer.person.id if context.viewer.person else None,
        now=context.services.clock.now(),
    )
    log.info(
        "final survey opened by person_id=%s invited=%s", context.viewer.person_id, done.invited
    )
    lines = [
        t._("The final survey is open now.")
        if done.opened_now
        else t._("The final survey was already open."),
        t.ngettext("Invited now: {n} person", "Invited now: {n} people", done.invited).format(
            n=done.invited
        ),
        t._("Invited before (not again): {n}").format(n=done.already_invited),
        t._("Already answered: {n}").format(n=done.already_answered),
        t._("Without Telegram (enter their paper surveys with /paper): {n}").format(
            n=done.without_telegram
        ),
    ]
    await show_screen(
        update,
        context,
        "\n".join(lines),
        inline([[(t._("📋 Questionnaire and surveys"), f"prg:s:{programme_id}")]]),
    )


def register(app: PalApplication) -> None:
    """Add the surveys screens and the YAML document reader (before the spreadsheets')."""
    pid = r"(\d{1,12})"
    app.add_handler(
        MessageHandler(
            filters.Document.FileExtension("yaml") | filters.Document.FileExtension("yml"),
            on_questionnaire_file,
        )
    )
    for callback, pattern in (
        (on_surveys, rf"^prg:s:{pid}$"),
        (on_shipped, rf"^prg:sq:{pid}:(\d{{1,2}})$"),
        (on_shipped_confirm, rf"^prg:sqy:{pid}:(\d{{1,2}})$"),
        (on_send_file, rf"^prg:sf:{pid}$"),
        (on_file_confirm, rf"^prg:sy:{pid}:([0-9a-f]{{8}})$"),
        (on_final, rf"^prg:fs:{pid}$"),
        (on_final_confirm, rf"^prg:fsy:{pid}$"),
    ):
        app.add_handler(CallbackQueryHandler(callback, pattern=pattern))
