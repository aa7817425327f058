"""The evaluator menu: choose a programme and a year, receive the workbook and charts.

Evaluators see only the programmes they are assigned to (admins see all); every button
is re-checked against that on the server, so forged callback data gets a refusal. The
report is built in a worker thread on its own read-only snapshot (SQLite WAL readers do
not block sign-ups), at most two at a time, so the event loop keeps serving everyone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from telegram import InputFile, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.context import PalApplication, PalContext
from bot.keyboards import back_to_menu_button, inline
from evaluation import on_demand  # the report code (numpy, scipy…) loads on first use
from handlers.common import answer, requires_role
from storage.models import Role
from usecases.evaluator import readable_programme, visible_programmes

if TYPE_CHECKING:
    from evaluation.export import ReportFiles

log = logging.getLogger(__name__)
MAX_PROGRAMMES_SHOWN = 40
# Reports are CPU- and memory-heavy; two at once keeps a small server responsive.
CONCURRENT_REPORTS = 2
ALL_YEARS = 0


@requires_role(Role.EVALUATOR)
async def evaluator_command(update: Update, context: PalContext) -> None:
    """/evaluator and the Evaluator menu button: the list of programmes."""
    t = context.t
    programmes = await context.db.read(visible_programmes, context.viewer.access)
    chat = update.effective_chat
    if chat is None:
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
    if not programmes:
        await context.bot.send_message(
            chat.id, t._("No programme is assigned to you yet. Ask an administrator to assign one.")
        )
        return
    rows: list[Sequence[tuple[str, str]]] = [
        [(name[:60], f"ev:p:{pid}")] for pid, name in programmes[:MAX_PROGRAMMES_SHOWN]
    ]
    rows.append([back_to_menu_button(t)])
    await context.bot.send_message(
        chat.id,
        t._(
            "Evaluator menu. Choose a programme for the report (indicators, before/after "
            "comparison and charts; no names or Telegram ids):"
        ),
        reply_markup=inline(rows),
    )


async def _checked(
    update: Update, context: PalContext, programme_id: int
) -> tuple[str, list[int]] | None:
    """The programme's name and years if the viewer may read it; else refuse and None."""
    found = await context.db.read(
        readable_programme, context.viewer.access, programme_id, context.settings.timezone
    )
    if found is None:
        log.info("evaluator refused programme_id=%s", programme_id)
        await answer(
            update,
            context,
            context.t._(
                "You are not assigned to this programme, so its report is not available to you."
            ),
            alert=True,
        )
    return found


@requires_role(Role.EVALUATOR)
async def on_programme(update: Update, context: PalContext) -> None:
    """`ev:p:<id>`: choose the year (or all years) of the report."""
    query = update.callback_query
    assert query is not None and query.data is not None
    programme_id = int(query.data.split(":")[2])
    found = await _checked(update, context, programme_id)
    if found is None:
        return
    await query.answer()
    name, years = found
    t = context.t
    rows: list[Sequence[tuple[str, str]]] = [
        [(t._("All years"), f"ev:y:{programme_id}:{ALL_YEARS}")]
    ]
    if len(years) > 1:
        buttons = [(str(year), f"ev:y:{programme_id}:{year}") for year in years]
        rows += [buttons[i : i + 4] for i in range(0, len(buttons), 4)]
    rows.append([back_to_menu_button(t)])
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(
        chat.id,
        t._("{programme}: which period should the report cover?").format(programme=name),
        reply_markup=inline(rows),
    )


def _slots(context: PalContext) -> asyncio.Semaphore:
    slots = context.services.extras.get("evaluation_slots")
    if not isinstance(slots, asyncio.Semaphore):
        slots = asyncio.Semaphore(CONCURRENT_REPORTS)
        context.services.extras["evaluation_slots"] = slots
    return slots


@requires_role(Role.EVALUATOR)
async def on_year(update: Update, context: PalContext) -> None:
    """`ev:y:<id>:<year>`: build the report and send it as files."""
    query = update.callback_query
    assert query is not None and query.data is not None
    _, _, raw_id, raw_year = query.data.split(":")
    programme_id, year = int(raw_id), int(raw_year)
    found = await _checked(update, context, programme_id)
    if found is None:
        return
    name, years = found
    t = context.t
    if year != ALL_YEARS and year not in years:
        await answer(update, context, t._("This button is no longer active. Open the menu again."))
        return
    await query.answer()
    chat = update.effective_chat
    assert chat is not None
    period = t._("all years") if year == ALL_YEARS else str(year)
    status = await context.bot.send_message(
        chat.id,
        t._("Preparing the report for {programme} ({period}). This can take a moment.").format(
            programme=name, period=period
        ),
    )
    options = on_demand.report_options(
        language=t.language,
        year=None if year == ALL_YEARS else year,
        timezone=context.settings.timezone,
        surveys_dir=context.settings.surveys_dir,
    )
    log.info("evaluation report: programme_id=%s year=%s", programme_id, year)
    async with _slots(context):
        files = await asyncio.to_thread(
            on_demand.report_files,
            context.db.engine,
            programme_id=programme_id,
            now=context.services.clock.now(),
            options=options,
        )
    await _send(context, chat.id, files, name, period)
    await status.edit_text(t._("The report is ready."))


async def _send(
    context: PalContext, chat_id: int, files: ReportFiles, name: str, period: str
) -> None:
    t = context.t
    lines = [
        t._(
            "Report: {programme} ({period}). Numbers of people under {n} are shown as "
            "{symbol}; the Definitions sheet explains every number."
        ).format(
            programme=name,
            period=period,
            n=files.report.rules.min_count,
            symbol=files.report.rules.small_symbol,
        )
    ]
    lines += files.report.summary
    await context.bot.send_document(
        chat_id,
        InputFile(files.workbook, filename=files.workbook_name),
        caption="\n".join(lines)[:1000],
    )
    for filename, image in files.charts.items():
        await context.bot.send_document(chat_id, InputFile(image, filename=filename))


def register(app: PalApplication) -> None:
    """Add /evaluator and its buttons (`ev:` callback data)."""
    app.add_handler(CommandHandler("evaluator", evaluator_command))
    app.add_handler(CallbackQueryHandler(evaluator_command, pattern=r"^ev:menu$"))
    app.add_handler(CallbackQueryHandler(on_programme, pattern=r"^ev:p:\d{1,12}$"))
    app.add_handler(CallbackQueryHandler(on_year, pattern=r"^ev:y:\d{1,12}:\d{1,4}$"))
