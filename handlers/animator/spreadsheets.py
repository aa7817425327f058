"""Activities from a spreadsheet sent in the chat: preview, then "Import" or "Cancel".

A CSV or XLSX document from an administrator or an animator is checked with the same
parser as `palbot import-activities`; the person sees how many activities it holds, the
first few, and every bad row by line. Good files wait in the database (storage.
sheet_imports) until "Import". `/import` explains the columns and sends the templates.
Callback data: `ss:help`, `ss:tx` / `ss:tc` (templates), `ss:p:<nonce>:<programme>`,
`ss:ok:<nonce>`, `ss:no:<nonce>`.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import InlineKeyboardMarkup, InputFile, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import PalApplication, PalContext
from bot.keyboards import inline
from handlers.admin.menu import staff_actor
from handlers.common import answer
from handlers.resident.activities import show_screen
from storage.activities.import_problems import Problem, ProblemKind, RowError
from storage.activities.importing import MAX_PLACES, ActivityRow
from storage.activities.sheet_imports import (
    PreviewGone,
    SheetPreview,
    cancel_preview,
    choose_programme,
    confirm_import,
)
from storage.activities.sheets import (
    COLUMNS,
    SheetProblem,
    SheetRefused,
    read_activity_sheet,
    sheet_kind,
    template_csv,
    template_xlsx,
)
from storage.models import Role
from storage.people.staff_access import NotAllowed
from translations import Translator
from usecases.spreadsheets import keep_for_preview

log = logging.getLogger(__name__)
ERRORS_SHOWN = 25
MAX_PROGRAMMES_SHOWN = 30


def _is_staff(context: PalContext) -> bool:
    return context.viewer.can(Role.ANIMATOR)


def problem_text(t: Translator, problem: Problem) -> str:
    """One problem of a row, in the person's language."""
    k, column, value, number = problem.kind, problem.column, problem.value, problem.number
    texts = {
        ProblemKind.EMPTY: lambda: t._("the column {column} is empty").format(column=column),
        ProblemKind.TOO_LONG: lambda: t.ngettext(
            "{column} is longer than {n} character",
            "{column} is longer than {n} characters",
            number,
        ).format(column=column, n=number),
        ProblemKind.BAD_TIME: lambda: t._(
            "{column}: “{value}” is not a date and time like 2026-12-01 17:00"
        ).format(column=column, value=value),
        ProblemKind.PLACES_RANGE: lambda: t._("places must be between 1 and {n}").format(
            n=t.number(MAX_PLACES)
        ),
        ProblemKind.PLACES_NOT_NUMBER: lambda: t._(
            "places: “{value}” is not a whole number"
        ).format(value=value),
        ProblemKind.ENDS_BEFORE_START: lambda: t._("ends_at must be after starts_at"),
        ProblemKind.DEADLINE_AFTER_START: lambda: t._(
            "registration_deadline must not be after starts_at"
        ),
        ProblemKind.DUPLICATE: lambda: t._("the same activity as line {n}").format(n=number),
        ProblemKind.FORMULA: lambda: t._("{column} holds a formula: type the value itself").format(
            column=column
        ),
        ProblemKind.HIDDEN_CHARACTER: lambda: t._(
            "{column} contains a control or invisible character ({code}): remove it"
        ).format(column=column, code=value),
        ProblemKind.EMPTY_FILE: lambda: t._("the file is empty"),
        ProblemKind.NO_ROWS: lambda: t._("the file has a header but no activities"),
        ProblemKind.MISSING_COLUMNS: lambda: t._("missing columns: {columns}").format(
            columns=column
        ),
        ProblemKind.NOT_UTF8: lambda: t._(
            "the file is not UTF-8 text: in Excel choose “CSV UTF-8”, or send an XLSX file"
        ),
        ProblemKind.BAD_DATE: lambda: t._(
            "{column}: “{value}” is not a date like 2027-06-30"
        ).format(column=column, value=value),
        ProblemKind.SERIES_TOO_SHORT: lambda: t._(
            "repeat_until must be at least a week after starts_at"
        ),
        ProblemKind.SERIES_TOO_LONG: lambda: t._(
            "a weekly activity can have at most {n} dates: choose an earlier repeat_until"
        ).format(n=number),
        ProblemKind.SKIP_NOT_A_DATE: lambda: t._(
            "skip_dates: {value} is not one of the dates of this weekly activity"
        ).format(value=value),
        ProblemKind.TOO_MANY_ROWS: lambda: t.ngettext(
            "the file has more than {n} row: split it",
            "the file has more than {n} rows: split it",
            number,
        ).format(n=t.number(number)),
    }
    return texts[k]()


def refusal_text(t: Translator, problem: SheetProblem, max_bytes: int) -> str:
    """Why a whole file was refused; nothing changed."""
    texts = {
        SheetProblem.TOO_LARGE: t._(
            "This file is too large (the limit is {size} MB). Nothing was imported."
        ).format(size=t.number(round(max_bytes / 1_000_000, 1))),
        SheetProblem.NOT_SPREADSHEET: t._(
            "This is not a spreadsheet. Send a CSV or XLSX file (see /import)."
        ),
        SheetProblem.OLD_FORMAT: t._(
            "I read only XLSX and CSV files. Save the sheet as “Excel Workbook (.xlsx)” "
            "or “CSV UTF-8” and send it again."
        ),
        SheetProblem.BROKEN: t._(
            "This workbook cannot be read (damaged or not a real XLSX file). Nothing was imported."
        ),
        SheetProblem.UNPACKS_TOO_LARGE: t._(
            "This workbook unpacks to far more data than a list of activities holds, so I "
            "did not open it. Nothing was imported."
        ),
    }
    return texts[problem]


def _errors_text(t: Translator, file_name: str, good: int, errors: list[RowError]) -> str:
    lines = [
        t.ngettext(
            "📄 {file}: {n} row is correct.", "📄 {file}: {n} rows are correct.", good
        ).format(file=file_name, n=good),
        t.ngettext("{n} row needs fixing:", "{n} rows need fixing:", len(errors)).format(
            n=len(errors)
        ),
    ]
    for error in errors[:ERRORS_SHOWN]:
        lines.append(
            t._("Line {line}: {problems}").format(
                line=error.line, problems="; ".join(problem_text(t, p) for p in error.problems)
            )
        )
    if len(errors) > ERRORS_SHOWN:
        more = len(errors) - ERRORS_SHOWN
        lines.append(t.ngettext("…and {n} more row.", "…and {n} more rows.", more).format(n=more))
    lines += ["", t._("Nothing was imported. Fix these rows and send the file again.")]
    return "\n".join(lines)


def template_buttons(t: Translator) -> InlineKeyboardMarkup:
    """The two template files, offered wherever a file was not right."""
    return inline([[(t._("⬇️ Template (XLSX)"), "ss:tx"), (t._("⬇️ Template (CSV)"), "ss:tc")]])


def _row_line(t: Translator, row: ActivityRow) -> str:
    places = t.ngettext("{n} place", "{n} places", row.places).format(n=row.places)
    line = f"• {t.date_time(row.starts_at)} — {row.title} ({row.venue}), {places}"
    if row.repeat_until is not None:
        line += ", " + t.ngettext(
            "every week until {last}: {n} date", "every week until {last}: {n} dates", row.dates
        ).format(last=t.day(row.repeat_until), n=row.dates)
    return line


def preview_text(t: Translator, preview: SheetPreview) -> str:
    """How many activities, into which programme, the first few."""
    lines = [
        t.ngettext(
            "📄 {file}: {n} activity, all rows are correct.",
            "📄 {file}: {n} activities, all rows are correct.",
            preview.count,
        ).format(file=preview.file_name, n=preview.count)
    ]
    if preview.programme_name is not None:
        lines.append(t._("Programme: {programme}").format(programme=preview.programme_name))
    if preview.already_present:
        lines.append(
            t.ngettext(
                "{n} of them is already there and will not be added twice.",
                "{n} of them are already there and will not be added twice.",
                preview.already_present,
            ).format(n=preview.already_present)
        )
    lines += ["", t._("The first ones:")]
    lines += [_row_line(t, row) for row in preview.first_rows]
    if preview.count > len(preview.first_rows):
        lines.append("…")
    return "\n".join(lines)


async def _show_preview(
    update: Update, context: PalContext, preview: SheetPreview, *, new_message: bool
) -> None:
    t = context.t
    await show_screen(
        update,
        context,
        preview_text(t, preview),
        inline(
            [
                [(t._("✅ Import"), f"ss:ok:{preview.nonce}")],
                [(t._("✖️ Cancel"), f"ss:no:{preview.nonce}")],
            ]
        ),
        new_message=new_message,
    )


async def on_document(update: Update, context: PalContext) -> None:
    """A document: from the team, a spreadsheet of activities to check and preview."""
    message = update.effective_message
    assert message is not None and message.document is not None
    t = context.t
    if not _is_staff(context):
        log.info("spreadsheet refused (no role) person_id=%s", context.viewer.person_id)
        await answer(update, context, t._("This is only for the programme team."))
        return
    person = context.viewer.person
    if person is None or person.id is None or not person.is_onboarded:
        await answer(update, context, t._("First, let's get you set up: send /start."))
        return
    document = message.document
    max_bytes = context.settings.spreadsheet_max_bytes
    file_name = document.file_name or ""
    try:
        # Name and size first: a wrong or huge file is refused without downloading it.
        sheet_kind(file_name)
        if document.file_size is not None and document.file_size > max_bytes:
            raise SheetRefused(SheetProblem.TOO_LARGE)
        file = await context.bot.get_file(document.file_id)
        data = bytes(await file.download_as_bytearray())
        sheet = await asyncio.to_thread(
            read_activity_sheet,
            data,
            file_name=file_name,
            zone=context.settings.zone,
            max_bytes=max_bytes,
        )
    except SheetRefused as refused:
        log.info(
            "spreadsheet refused person_id=%s problem=%s",
            context.viewer.person_id,
            refused.problem.value,
        )
        await message.reply_text(
            refusal_text(t, refused.problem, max_bytes), reply_markup=template_buttons(t)
        )
        return
    log.info(
        "spreadsheet checked person_id=%s rows=%s bad=%s",
        context.viewer.person_id,
        len(sheet.rows),
        len(sheet.errors),
    )
    if sheet.errors:
        await message.reply_text(
            _errors_text(t, file_name, len(sheet.rows), sheet.errors),
            reply_markup=template_buttons(t),
        )
        return
    programmes, preview = await context.db.write(
        keep_for_preview, actor=staff_actor(context), file_name=file_name, rows=sheet.rows
    )
    if preview is None:
        await message.reply_text(
            t._(
                "There is no programme you can add activities to yet. An administrator can "
                "create one in /admin."
            )
        )
        return
    if preview.programme_id is not None:
        await _show_preview(update, context, preview, new_message=True)
        return
    rows = [
        [(name[:60], f"ss:p:{preview.nonce}:{pid}")]
        for pid, name in programmes[:MAX_PROGRAMMES_SHOWN]
    ]
    rows.append([(t._("✖️ Cancel"), f"ss:no:{preview.nonce}")])
    await message.reply_text(
        t.ngettext(
            "📄 {file}: {n} activity, all rows are correct.",
            "📄 {file}: {n} activities, all rows are correct.",
            preview.count,
        ).format(file=preview.file_name, n=preview.count)
        + "\n\n"
        + t._("Which programme are they for?"),
        reply_markup=inline(rows),
    )


async def _refuse_stale(update: Update, context: PalContext) -> None:
    await answer(
        update,
        context,
        context.t._("This file is no longer waiting to be imported. Send it again."),
        alert=True,
    )


async def on_choose_programme(update: Update, context: PalContext) -> None:
    """`ss:p:<nonce>:<programme>`: the programme of the waiting file."""
    assert context.matches is not None
    if not _is_staff(context):
        await answer(update, context, context.t._("This is only for the programme team."))
        return
    nonce, programme_id = context.matches[0].group(1), int(context.matches[0].group(2))
    try:
        preview = await context.db.write(
            choose_programme, actor=staff_actor(context), nonce=nonce, programme_id=programme_id
        )
    except PreviewGone:
        await _refuse_stale(update, context)
        return
    except NotAllowed:
        await answer(
            update, context, context.t._("You cannot add activities to this programme."), alert=True
        )
        return
    await _show_preview(update, context, preview, new_message=False)


async def on_import(update: Update, context: PalContext) -> None:
    """`ss:ok:<nonce>`: import the waiting rows (none twice)."""
    assert context.matches is not None
    t = context.t
    if not _is_staff(context):
        await answer(update, context, t._("This is only for the programme team."))
        return
    try:
        done = await context.db.write(
            confirm_import,
            actor=staff_actor(context),
            nonce=context.matches[0].group(1),
            now=context.services.clock.now(),
            zone=context.settings.zone,
        )
    except PreviewGone:
        await _refuse_stale(update, context)
        return
    except NotAllowed:
        await answer(
            update, context, t._("You cannot add activities to this programme."), alert=True
        )
        return
    log.info("spreadsheet imported person_id=%s added=%s", context.viewer.person_id, done.added)
    lines = [
        t.ngettext(
            "Imported into “{programme}”: {n} new activity.",
            "Imported into “{programme}”: {n} new activities.",
            done.added,
        ).format(programme=done.programme_name, n=done.added)
    ]
    if done.already_present:
        lines.append(
            t.ngettext(
                "{n} was already there and was not added again.",
                "{n} were already there and were not added again.",
                done.already_present,
            ).format(n=done.already_present)
        )
    await show_screen(update, context, "\n".join(lines), None)


async def on_cancel(update: Update, context: PalContext) -> None:
    """`ss:no:<nonce>`: forget the waiting file."""
    assert context.matches is not None
    if not _is_staff(context):
        await answer(update, context, context.t._("This is only for the programme team."))
        return
    try:
        await context.db.write(
            cancel_preview, actor=staff_actor(context), nonce=context.matches[0].group(1)
        )
    except PreviewGone:
        await _refuse_stale(update, context)
        return
    await show_screen(update, context, context.t._("Cancelled. Nothing was imported."), None)


async def import_help(update: Update, context: PalContext) -> None:
    """/import and `ss:help`: the columns, and the templates to fill in."""
    t = context.t
    if not _is_staff(context):
        await answer(update, context, t._("This is only for the programme team."), alert=True)
        return
    text = "\n".join(
        [
            t._("📥 Activities from a spreadsheet"),
            t._("Send me an XLSX or CSV file as a document. The first row names the columns:"),
            ", ".join(COLUMNS),
            t._(
                "The last two may stay empty. Times are local, like 2026-12-01 17:00 or "
                "01.12.2026 17:00; in XLSX real date cells work too. Formulas are not read: "
                "type the values."
            ),
            t._(
                "I check every row first and show you what I found; nothing is added until "
                "you press “Import”. Sending the same file again adds nothing twice."
            ),
        ]
    )
    await show_screen(update, context, text, template_buttons(t))


async def on_template(update: Update, context: PalContext) -> None:
    """`ss:tx` / `ss:tc`: the template file with two example rows."""
    assert context.matches is not None
    if not _is_staff(context):
        await answer(
            update, context, context.t._("This is only for the programme team."), alert=True
        )
        return
    query = update.callback_query
    if query is not None:
        await query.answer()
    chat = update.effective_chat
    assert chat is not None
    zone, now = context.settings.zone, context.services.clock.now()
    if context.matches[0].group(1) == "x":
        data = await asyncio.to_thread(template_xlsx, zone, now)
        name = "activities-template.xlsx"
    else:
        data, name = template_csv(zone, now), "activities-template.csv"
    await context.bot.send_document(
        chat.id,
        InputFile(data, filename=name),
        caption=context.t._(
            "Fill in the rows (the two examples can be replaced) and send the file back to me."
        ),
    )


def register(app: PalApplication) -> None:
    """Add /import, the document reader and its buttons (`ss:` callback data)."""
    app.add_handler(CommandHandler("import", import_help))
    app.add_handler(MessageHandler(filters.Document.ALL, on_document))
    app.add_handler(CallbackQueryHandler(import_help, pattern=r"^ss:help$"))
    app.add_handler(CallbackQueryHandler(on_template, pattern=r"^ss:t(x|c)$"))
    app.add_handler(
        CallbackQueryHandler(on_choose_programme, pattern=r"^ss:p:([0-9a-f]{8}):(\d{1,12})$")
    )
    app.add_handler(CallbackQueryHandler(on_import, pattern=r"^ss:ok:([0-9a-f]{8})$"))
    app.add_handler(CallbackQueryHandler(on_cancel, pattern=r"^ss:no:([0-9a-f]{8})$"))
