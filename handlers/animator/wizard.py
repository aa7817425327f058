"""The new-activity wizard: one question per message, then a preview and Publish.

Thin: the draft and its rules live in storage.activities.drafts; the position and every answer are
in the animator's `Dialog` (kind `animator_wizard`), written with the answer, so the
wizard continues after a restart exactly where it was.

Callback data: `anw:new`, `anw:resume`, `anw:restart`, `anw:a:<step>:<answer>` (a button
answer), `anw:back:<step>`, `anw:next:<step>` (keep the answer, go on), `anw:cancel`,
`anw:chg` (the "Change…" list), `anw:chg:<step>`, `anw:pv` (preview), `anw:pub`.
A button of an earlier question than the current one is refused as stale.
"""

from __future__ import annotations

import logging
from datetime import date
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler

from bot.context import PalApplication, PalContext
from bot.keyboards import inline
from handlers.animator.activity_questions import (
    answer_buttons,
    current_value,
    field_name,
    problem_hint,
    question_text,
    summary_lines,
)
from handlers.animator.common import (
    Rows,
    actor_of,
    animator_only,
    match_step,
    menu_button,
    refuse_no_programme,
    screen,
)
from handlers.common import MAX_TEXT_INPUT, answer, too_long
from handlers.dialogs import on_text
from storage.activities.draft_questions import DIALOG_KIND, QUESTIONS, DraftInvalid, Step
from storage.activities.drafts import next_step, previous_step
from storage.activities.wizard import (
    NoDraft,
    StaleStep,
    Wizard,
    answer_wizard,
    begin_wizard,
    current_wizard,
    discard_wizard,
    move_wizard,
    publish_wizard,
)
from storage.models import Dialog, Role
from translations import Translator

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- screens


def _question(t: Translator, wizard: Wizard, *, zone: ZoneInfo, today: date) -> tuple[str, Rows]:
    step = wizard.step
    number = QUESTIONS.index(step) + 1
    lines = [
        t._("New activity — question {n} of {total}").format(n=number, total=len(QUESTIONS)),
        "",
        question_text(t, step),
    ]
    now_value = current_value(t, step, wizard.draft, zone)
    if now_value is not None:
        lines += ["", t._("Current answer: {value}").format(value=now_value)]
    rows: Rows = [
        [(label, f"anw:a:{step.value}:{code}") for label, code in row]
        for row in answer_buttons(
            t, step, today=today, zone=zone, options=wizard.options.get(step.value, [])
        )
    ]
    if wizard.to_preview:
        rows.append([(t._("↩ Back to the preview"), "anw:pv")])
    else:
        nav: list[tuple[str, str]] = []
        if previous_step(step) is not None:
            nav.append((t._("⬅️ Back"), f"anw:back:{step.value}"))
        if now_value is not None:
            nav.append((t._("Continue ▶"), f"anw:next:{step.value}"))
        if nav:
            rows.append(nav)
    rows.append([(t._("✖ Cancel"), "anw:cancel")])
    return "\n".join(lines), rows


def _preview(t: Translator, wizard: Wizard, zone: ZoneInfo) -> tuple[str, Rows]:
    text = "\n".join([t._("Check the new activity:"), "", *summary_lines(t, wizard.draft, zone)])
    rows: Rows = [
        [(t._("✅ Publish"), "anw:pub")],
        [(t._("✏️ Change…"), "anw:chg")],
        [(t._("✖ Cancel"), "anw:cancel")],
    ]
    return text, rows


async def show(
    update: Update,
    context: PalContext,
    wizard: Wizard,
    *,
    note: str | None = None,
    new_message: bool = True,
) -> None:
    """Ask the current question (a new message each time) or show the preview."""
    t = context.t
    zone = context.settings.zone
    if wizard.step == Step.PREVIEW:
        text, rows = _preview(t, wizard, zone)
    else:
        today = context.services.clock.now().astimezone(zone).date()
        text, rows = _question(t, wizard, zone=zone, today=today)
    if note:
        text = f"{note}\n\n{text}"
    await screen(update, context, text, inline(rows), new_message=new_message)


async def _settle_pressed(update: Update, context: PalContext, summary: str | None) -> None:
    """Close the pressed question: keep its text with the chosen answer, drop its buttons."""
    query = update.callback_query
    if query is None or query.message is None:
        return
    # The press is answered by the screen shown next.
    try:
        text = getattr(query.message, "text", None) or ""
        if summary is not None and text:
            await query.edit_message_text(f"{text}\n\n✔ {summary}", reply_markup=None)
        else:
            await query.edit_message_reply_markup(reply_markup=None)
    except BadRequest:
        log.debug("could not settle the pressed question")


async def _stale(update: Update, context: PalContext) -> None:
    await answer(
        update, context, context.t._("This button is no longer active. Open the menu again.")
    )


def _ids(context: PalContext) -> tuple[int, int | None]:
    actor = actor_of(context)
    return actor.person_id, actor.programme_id


# ---------------------------------------------------------------- handlers


@animator_only
async def on_new(update: Update, context: PalContext) -> None:
    """`anw:new`: start the wizard, or offer to resume an unfinished draft."""
    person_id, programme_id = _ids(context)
    t = context.t
    if programme_id is None:
        await refuse_no_programme(update, context)
        return
    wizard, existed = await context.db.write(
        begin_wizard, person_id=person_id, programme_id=programme_id, restart=False
    )
    if existed and wizard.draft:
        title = wizard.draft.get("title") or "—"
        await screen(
            update,
            context,
            t._("You have an unfinished draft: {title}. Continue it or start again?").format(
                title=title
            ),
            inline(
                [
                    [(t._("Continue the draft"), "anw:resume")],
                    [(t._("Start again"), "anw:restart")],
                    [menu_button(t)],
                ]
            ),
        )
        return
    await show(update, context, wizard)


@animator_only
async def on_resume(update: Update, context: PalContext) -> None:
    """`anw:resume` / `anw:restart`: continue the draft, or throw it away and begin."""
    assert context.matches is not None
    restart = context.matches[0].group(1) == "restart"
    person_id, programme_id = _ids(context)
    wizard, _ = await context.db.write(
        begin_wizard, person_id=person_id, programme_id=programme_id, restart=restart
    )
    await _settle_pressed(update, context, None)
    await show(update, context, wizard)


async def _take_answer(
    update: Update, context: PalContext, step: Step, text: str, shown: str | None
) -> None:
    t = context.t
    zone = context.settings.zone
    person_id, programme_id = _ids(context)
    try:
        wizard = await context.db.write(
            answer_wizard,
            person_id=person_id,
            programme_id=programme_id,
            step=step,
            text=text,
            now=context.services.clock.now(),
            zone=zone,
        )
    except NoDraft:
        await _stale(update, context)
        return
    except StaleStep:
        await _stale(update, context)
        return
    except DraftInvalid as exc:
        log.info(
            "wizard answer refused person_id=%s step=%s problem=%s",
            person_id,
            step.value,
            exc.problem.value,
        )
        current = await context.db.read(current_wizard, person_id)
        if current is not None:
            await show(update, context, current, note="⚠️ " + problem_hint(t, exc, zone))
        return
    await _settle_pressed(update, context, shown)
    await show(update, context, wizard)


@animator_only
async def on_button_answer(update: Update, context: PalContext) -> None:
    """`anw:a:<step>:<answer>`: a typical answer chosen with a button."""
    assert context.matches is not None
    step = match_step(context)
    if step is None:
        await _stale(update, context)
        return
    await _take_answer(update, context, step, context.matches[0].group(2), _pressed_label(update))


def _pressed_label(update: Update) -> str | None:
    """The text of the button that was pressed, to leave under the settled question."""
    query = update.callback_query
    if query is None or query.message is None:
        return None
    markup = getattr(query.message, "reply_markup", None)
    if markup is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == query.data:
                return str(button.text)
    return None


@on_text(DIALOG_KIND, role=Role.ANIMATOR)
async def on_typed_answer(update: Update, context: PalContext, dialog: Dialog) -> None:
    """Free text typed while the wizard waits for an answer."""
    message = update.effective_message
    assert message is not None and message.text is not None
    if too_long(message.text):
        t = context.t
        wizard = Wizard.of(dialog)
        await show(
            update,
            context,
            wizard,
            note="⚠️ "
            + t._(
                "That is too long: {length} characters, at most {limit}. Please shorten it."
            ).format(length=len(message.text), limit=MAX_TEXT_INPUT),
        )
        return
    await _take_answer(update, context, Step(dialog.step), message.text, None)


@animator_only
async def on_move(update: Update, context: PalContext) -> None:
    """`anw:back:<step>` / `anw:next:<step>`: go back, or keep the answer and go on."""
    assert context.matches is not None
    direction, raw_step = context.matches[0].group(1), context.matches[0].group(2)
    try:
        step = Step(raw_step)
    except ValueError:
        await _stale(update, context)
        return
    person_id, programme_id = _ids(context)
    if direction == "back":
        target = previous_step(step)
    else:
        # Walking forward through answers given earlier, one question at a time.
        index = QUESTIONS.index(step) if step in QUESTIONS else len(QUESTIONS)
        target = QUESTIONS[index + 1] if index + 1 < len(QUESTIONS) else Step.PREVIEW
        current = await context.db.read(current_wizard, person_id)
        if (
            current is not None
            and target == Step.PREVIEW
            and next_step(current.draft) != (Step.PREVIEW)
        ):
            target = next_step(current.draft)
    if target is None:
        await _stale(update, context)
        return
    try:
        wizard = await context.db.write(
            move_wizard,
            person_id=person_id,
            programme_id=programme_id,
            from_step=step,
            to_step=target,
        )
    except (NoDraft, StaleStep):
        await _stale(update, context)
        return
    await _settle_pressed(update, context, None)
    await show(update, context, wizard)


@animator_only
async def on_change_list(update: Update, context: PalContext) -> None:
    """`anw:chg`: which field to change, from the preview."""
    t = context.t
    person_id, _ = _ids(context)
    wizard = await context.db.read(current_wizard, person_id)
    if wizard is None or wizard.step != Step.PREVIEW:
        await _stale(update, context)
        return
    rows: Rows = [[(field_name(t, step), f"anw:chg:{step.value}")] for step in QUESTIONS]
    rows.append([(t._("↩ Back to the preview"), "anw:pv")])
    await screen(update, context, t._("What would you like to change?"), inline(rows))


@animator_only
async def on_change_field(update: Update, context: PalContext) -> None:
    """`anw:chg:<step>`: ask that question again, then return to the preview."""
    step = match_step(context)
    if step is None:
        await _stale(update, context)
        return
    person_id, programme_id = _ids(context)
    try:
        wizard = await context.db.write(
            move_wizard,
            person_id=person_id,
            programme_id=programme_id,
            from_step=Step.PREVIEW,
            to_step=step,
            to_preview=True,
        )
    except (NoDraft, StaleStep):
        await _stale(update, context)
        return
    await _settle_pressed(update, context, None)
    await show(update, context, wizard)


@animator_only
async def on_preview(update: Update, context: PalContext) -> None:
    """`anw:pv`: back to the preview without changing anything."""
    person_id, programme_id = _ids(context)
    current = await context.db.read(current_wizard, person_id)
    if current is None or next_step(current.draft) != Step.PREVIEW:
        await _stale(update, context)
        return
    wizard = await context.db.write(
        move_wizard,
        person_id=person_id,
        programme_id=programme_id,
        from_step=None,
        to_step=Step.PREVIEW,
        to_preview=False,
    )
    await _settle_pressed(update, context, None)
    await show(update, context, wizard)


@animator_only
async def on_publish(update: Update, context: PalContext) -> None:
    """`anw:pub`: publish; the activity is in /activities at once."""
    t = context.t
    zone = context.settings.zone
    person_id, programme_id = _ids(context)
    if programme_id is None:
        await _stale(update, context)
        return
    try:
        published = await context.db.write(
            publish_wizard,
            person_id=person_id,
            programme_id=programme_id,
            now=context.services.clock.now(),
            zone=zone,
        )
    except (NoDraft, StaleStep):
        await _stale(update, context)
        return
    except DraftInvalid as exc:
        # Time passed since the answers were given (e.g. the start is now in the past).
        current = await context.db.read(current_wizard, person_id)
        if current is not None:
            await show(
                update,
                context,
                current,
                note="⚠️ "
                + problem_hint(t, exc, zone)
                + "\n"
                + t._("Press “Change…” to correct it."),
            )
        return
    log.info("activity published activity_id=%s dates=%s", published.activity_id, published.dates)
    await _settle_pressed(update, context, None)
    text = t._(
        "Published: {title}. Residents can now find it under “Activities” and sign up."
    ).format(title=published.title)
    if published.dates > 1:
        text = t.ngettext(
            "Published: {title}, every week, {n} date. Residents can now find it under "
            "“Activities” and sign up for all dates or for one.",
            "Published: {title}, every week, {n} dates. Residents can now find it under "
            "“Activities” and sign up for all dates or for one.",
            published.dates,
        ).format(title=published.title, n=published.dates)
    await screen(
        update,
        context,
        text,
        inline(
            [
                [(t._("Open the activity"), f"an:a:{published.activity_id}")],
                [(t._("📣 Announce it"), f"anb:new:{published.activity_id}")],
                [menu_button(t)],
            ]
        ),
        new_message=True,
    )


@animator_only
async def on_cancel(update: Update, context: PalContext) -> None:
    """`anw:cancel`: throw the draft away; nothing is published."""
    t = context.t
    person_id, _ = _ids(context)
    await context.db.write(discard_wizard, person_id=person_id)
    await _settle_pressed(update, context, None)
    await screen(
        update,
        context,
        t._("The draft is discarded. Nothing was published."),
        inline([[menu_button(t)]]),
        new_message=True,
    )


def register(app: PalApplication) -> None:
    """Add the wizard's buttons (its typed answers arrive through @on_text)."""
    app.add_handler(CallbackQueryHandler(on_new, pattern=r"^anw:new$"))
    app.add_handler(CallbackQueryHandler(on_resume, pattern=r"^anw:(resume|restart)$"))
    app.add_handler(
        CallbackQueryHandler(on_button_answer, pattern=r"^anw:a:([a-z]{1,2}):(.{0,40})$")
    )
    app.add_handler(CallbackQueryHandler(on_move, pattern=r"^anw:(back|next):([a-z]{1,2})$"))
    app.add_handler(CallbackQueryHandler(on_change_list, pattern=r"^anw:chg$"))
    app.add_handler(CallbackQueryHandler(on_change_field, pattern=r"^anw:chg:([a-z]{1,2})$"))
    app.add_handler(CallbackQueryHandler(on_preview, pattern=r"^anw:pv$"))
    app.add_handler(CallbackQueryHandler(on_publish, pattern=r"^anw:pub$"))
    app.add_handler(CallbackQueryHandler(on_cancel, pattern=r"^anw:cancel$"))
