"""Staff create a consultation in chat: kind, questions, options, dates, audience, results.

Thin: the draft and its checks are in storage.consultations.drafts, the position in the
author's `Dialog` (kind `consultation_draft`), written with each answer. Callback data:
`anc:new`, `anc:a:<step>:<answer>` (a button answer; typed answers take the same path),
`anc:back:<step>` (the previous question, its answer undone), `anc:tr:<language>` (the
staff's own version of the texts in another language), `anc:pub`, `anc:cancel`.
The list, the card with live counts and paper entry are in handlers.consultations.following.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta

from telegram import Update
from telegram.ext import CallbackQueryHandler

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
from handlers.common import MAX_TEXT_INPUT, answer, too_long
from handlers.consultations import answers as consultation_answers
from handlers.consultations import following as consultation_staff
from handlers.consultations.answers import text_hint
from handlers.dialogs import on_text
from storage.activities.organising import NotYourActivity, managed_activities
from storage.consultations.drafts import (
    DIALOG_KIND,
    OPTION_MAX,
    OPTIONS_MAX,
    OPTIONS_MIN,
    QUESTION_MAX,
    QUESTIONS_MAX,
    TITLE_MAX,
    TRANSLATION_LANGUAGES,
    ConsultationInvalid,
    Fault,
    Kind,
    Step,
    layout,
    title_of,
)
from storage.consultations.running import NotYourConsultation, audience_size
from storage.consultations.wizard import (
    ConsultationDraft,
    NoDraft,
    StaleStep,
    answer_draft,
    back_draft,
    begin_draft,
    current_draft,
    discard_draft,
    publish_draft,
    translate_draft,
)
from storage.models import ConsultationAudience, Dialog, Role
from translations import LANGUAGE_NAMES, Translator

log = logging.getLogger(__name__)


def _hint(t: Translator, error: ConsultationInvalid) -> str:
    f, p = error.fault, error.params
    hints = {
        Fault.TOO_FEW_OPTIONS: t._("Write at least {low} answers, one per line.").format(
            low=OPTIONS_MIN
        ),
        Fault.TOO_MANY_OPTIONS: t._("At most {high} answers, please ({given} given).").format(
            high=OPTIONS_MAX, given=p.get("given", "")
        ),
        Fault.SAME_OPTION_TWICE: t._("Two answers are the same. Make each one different."),
        Fault.TOO_MANY_QUESTIONS: t._("A survey has at most {high} questions.").format(
            high=QUESTIONS_MAX
        ),
        Fault.DATE_NOT_UNDERSTOOD: t._(
            "I did not understand the date. Write e.g. 12.12, tomorrow or Friday."
        ),
        Fault.DATE_PAST: t._("That date has passed. Choose today or a later day."),
        Fault.DATE_TOO_FAR: t._("That is more than a year ahead. Check the year."),
        Fault.CLOSES_BEFORE_OPENS: t._(
            "It must close on or after the day it opens ({date})."
        ).format(date=p["opens"].strftime("%d.%m") if "opens" in p else ""),
        Fault.OPEN_TOO_LONG: t._("A consultation is open for at most {days} days.").format(
            days=p.get("days", "")
        ),
        Fault.NOT_A_CHOICE: t._("Please use the buttons below."),
        Fault.INCOMPLETE: t._("Something is missing. Please start again."),
        Fault.TRANSLATION_SHAPE: t._(
            "The layout does not match: keep the same blocks and "
            "the same number of answers in each."
        ),
    }
    return hints.get(f) or text_hint(t, error)


def _audience_label(t: Translator, audience: str) -> str:
    return {
        ConsultationAudience.PROGRAMME: t._("everyone in the programme"),
        ConsultationAudience.ACTIVITY: t._("people with a place in one activity"),
        ConsultationAudience.EVERYONE: t._("everyone in the chat (all programmes)"),
    }.get(ConsultationAudience(audience), audience)


def _day(t: Translator, iso: object) -> str:
    # Noon UTC falls on the same calendar day in every European zone.
    return t.date(datetime.combine(date.fromisoformat(str(iso)), time(12), tzinfo=UTC))


def summary_lines(t: Translator, draft: dict[str, object]) -> list[str]:
    """The draft as the author checks it before publishing."""
    lines = [f"🗳 {title_of(draft)}"]
    questions = draft.get("questions")
    assert isinstance(questions, list)
    for n, question in enumerate(questions, start=1):
        mode = t._("several answers") if question["multiple"] else t._("one answer")
        lines += ["", f"{n}. {question['text']} ({mode})"]
        lines += [f"   • {option}" for option in question["options"]]
    if draft.get("free"):
        lines += ["", t._("Open question: {text}").format(text=draft["free"])]
    translations = draft.get("translations")
    if isinstance(translations, dict) and translations:
        lines += [
            "",
            t._("Also written in: {languages}. Everyone else gets the text above.").format(
                languages=", ".join(LANGUAGE_NAMES.get(code, code) for code in sorted(translations))
            ),
        ]
    lines += [
        "",
        t._("Open from {opens} to {closes} (until the end of that day).").format(
            opens=_day(t, draft.get("opens")), closes=_day(t, draft.get("closes"))
        ),
        t._("Who is asked: {audience}").format(
            audience=_audience_label(t, str(draft.get("audience")))
        ),
        t._("Residents see the results after it closes.")
        if draft.get("show_results")
        else t._("Only the team sees the results."),
    ]
    return lines


async def _step_screen(
    update: Update, context: PalContext, found: ConsultationDraft, *, note: str | None = None
) -> None:
    t = context.t
    d = found.draft
    step = found.step
    count = len(d.get("questions", []))
    rows: Rows = []
    if step == Step.KIND:
        text = t._("New consultation. What would you like to ask?")
        rows = [
            [(t._("❓ One question"), f"anc:a:k:{Kind.POLL.value}")],
            [(t._("📋 A needs survey (several questions)"), f"anc:a:k:{Kind.SURVEY.value}")],
        ]
    elif step == Step.TITLE:
        text = t._("Write the title of the survey (up to {n} characters).").format(n=TITLE_MAX)
    elif step == Step.QUESTION:
        text = t._("Write question {n} (up to {limit} characters).").format(
            n=count + 1, limit=QUESTION_MAX
        )
    elif step == Step.MODE:
        text = t._("May people choose one answer or several?")
        rows = [[(t._("One answer"), "anc:a:m:1"), (t._("Several answers"), "anc:a:m:n")]]
    elif step == Step.OPTIONS:
        text = t._(
            "Write the answers to choose from, one per line: {low} to {high}, each up "
            "to {limit} characters."
        ).format(low=OPTIONS_MIN, high=OPTIONS_MAX, limit=OPTION_MAX)
    elif step == Step.MORE:
        text = t.ngettext(
            "The survey has {n} question. What next?",
            "The survey has {n} questions. What next?",
            count,
        ).format(n=count)
        if count < QUESTIONS_MAX:
            rows.append([(t._("➕ Another question"), "anc:a:a:q")])
        rows.append([(t._("✍ An open question (answered in writing)"), "anc:a:a:f")])
        rows.append([(t._("Continue ▶"), "anc:a:a:go")])
    elif step == Step.FREE:
        text = t._("Write the open question. Residents answer it in a message or skip it.")
    elif step == Step.OPENS:
        text = t._("When does it open? Choose, or type a date (e.g. 12.12 or Friday).")
        today = context.services.clock.now().astimezone(context.settings.zone).date()
        rows = [
            [
                (t._("Today"), f"anc:a:s:{today.isoformat()}"),
                (t._("Tomorrow"), f"anc:a:s:{(today + timedelta(days=1)).isoformat()}"),
            ]
        ]
    elif step == Step.CLOSES:
        text = t._(
            "Until when can people answer? It closes at the end of that day. Choose, or "
            "type a date."
        )
        opens = date.fromisoformat(str(d["opens"]))
        rows = [
            [
                (
                    t.ngettext("In {n} day", "In {n} days", n).format(n=n),
                    f"anc:a:e:{(opens + timedelta(days=n)).isoformat()}",
                )
                for n in (3, 7, 14)
            ]
        ]
    elif step == Step.AUDIENCE:
        text = t._("Who is asked?")
        rows = [
            [(t._("Everyone in the programme"), "anc:a:u:programme")],
            [(t._("People with a place in an activity"), "anc:a:u:activity")],
        ]
        if actor_of(context).is_admin:
            rows.append([(t._("Everyone in the chat (all programmes)"), "anc:a:u:everyone")])
    elif step == Step.ACTIVITY:
        text = t._("Which activity's participants?")
        items = await context.db.read(
            managed_activities, actor=actor_of(context), now=context.services.clock.now()
        )
        rows = [[(shorten(i.activity.title), f"anc:a:v:{i.activity.id}")] for i in items]
    elif step == Step.RESULTS:
        text = t._("Should residents see the results after it closes?")
        rows = [
            [(t._("Yes, send them the results"), "anc:a:r:y")],
            [(t._("No, only the team sees them"), "anc:a:r:n")],
        ]
    elif step == Step.TRANSLATION:
        name = LANGUAGE_NAMES.get(str(d.get("translating")), "")
        text = "\n\n".join(
            [
                t._(
                    "Send the text in {language} in one message, laid out like this (blank lines "
                    "between the blocks, each answer on its own line):"
                ).format(language=name),
                layout(d),
            ]
        )
    else:
        actor = actor_of(context)
        assert actor.programme_id is not None
        reach = await context.db.read(
            audience_size, draft=d, programme_id=actor.programme_id, author_id=actor.person_id
        )
        text = "\n".join(
            [
                t._("Check the consultation:"),
                "",
                *summary_lines(t, d),
                "",
                t.ngettext(
                    "It goes to {n} person in the chat when it opens.",
                    "It goes to {n} people in the chat when it opens.",
                    reach,
                ).format(n=reach),
            ]
        )
        rows = [[(t._("✅ Publish"), "anc:pub")]]
        rows += [
            [(t._("🌐 Add the text in {language}").format(language=name), f"anc:tr:{code}")]
            for code, name in LANGUAGE_NAMES.items()
            if code != t.language and code in TRANSLATION_LANGUAGES
        ]
    if found.history:
        rows.append([(t._("⬅️ Back"), f"anc:back:{step.value}")])
    rows.append([(t._("✖ Cancel"), "anc:cancel")])
    if note:
        text = f"⚠️ {note}\n\n{text}"
    await screen(update, context, text, inline(rows), new_message=True)


@animator_only
async def on_new(update: Update, context: PalContext) -> None:
    """`anc:new`: begin a new consultation (an unfinished draft is replaced)."""
    try:
        found = await context.db.write(begin_draft, actor=actor_of(context))
    except NotYourConsultation:
        await answer(update, context, context.t._("Join a programme first: send /activities."))
        return
    await _step_screen(update, context, found)


async def _take(update: Update, context: PalContext, step: Step, text: str) -> None:
    actor = actor_of(context)
    try:
        found = await context.db.write(
            answer_draft,
            actor=actor,
            step=step,
            text=text,
            now=context.services.clock.now(),
            zone=context.settings.zone,
        )
    except (NoDraft, StaleStep):
        await answer(
            update, context, context.t._("This button is no longer active. Open the menu again.")
        )
        return
    except ConsultationInvalid as exc:
        log.info("consultation draft answer refused step=%s fault=%s", step.value, exc.fault.value)
        current = await context.db.read(current_draft, person_id=actor.person_id)
        if current is not None:
            await _step_screen(update, context, current, note=_hint(context.t, exc))
        return
    if update.callback_query is not None:
        await answer(update, context, "✔")
    await _step_screen(update, context, found)


@animator_only
async def on_button(update: Update, context: PalContext) -> None:
    """`anc:a:<step>:<answer>`: an answer chosen with a button."""
    assert context.matches is not None
    try:
        step = Step(context.matches[0].group(1))
    except ValueError:
        await refuse_stale(update, context)
        return
    await _take(update, context, step, context.matches[0].group(2))


@on_text(DIALOG_KIND)
async def on_typed(update: Update, context: PalContext, dialog: Dialog) -> None:
    """Free text typed while the draft waits for an answer."""
    message = update.effective_message
    assert message is not None and message.text is not None
    if not context.viewer.can(Role.ANIMATOR):
        await answer(update, context, context.t._("This is only for the programme team."))
        return
    if too_long(message.text):
        await answer(
            update,
            context,
            context.t._(
                "That is too long: {length} characters, at most {limit}. Please shorten it."
            ).format(length=len(message.text), limit=MAX_TEXT_INPUT),
        )
        return
    await _take(update, context, Step(dialog.step), message.text)


@animator_only
async def on_translate(update: Update, context: PalContext) -> None:
    """`anc:tr:<language>`: from the preview, add the texts in another language."""
    assert context.matches is not None
    try:
        found = await context.db.write(
            translate_draft, actor=actor_of(context), language=context.matches[0].group(1)
        )
    except (NoDraft, StaleStep, ConsultationInvalid):
        await answer(
            update, context, context.t._("This button is no longer active. Open the menu again.")
        )
        return
    await _step_screen(update, context, found)


@animator_only
async def on_back(update: Update, context: PalContext) -> None:
    """`anc:back:<step>`: the previous question again, its answer undone."""
    assert context.matches is not None
    try:
        step = Step(context.matches[0].group(1))
        found = await context.db.write(back_draft, actor=actor_of(context), from_step=step)
    except (ValueError, NoDraft, StaleStep):
        await answer(
            update, context, context.t._("This button is no longer active. Open the menu again.")
        )
        return
    await _step_screen(update, context, found)


@animator_only
async def on_publish(update: Update, context: PalContext) -> None:
    """`anc:pub`: create the consultation; it opens now or on its date."""
    t = context.t
    actor = actor_of(context)
    try:
        created = await context.db.write(
            publish_draft, actor=actor, now=context.services.clock.now(), zone=context.settings.zone
        )
    except (NoDraft, StaleStep, NotYourConsultation, NotYourActivity):
        await refuse_stale(update, context)
        return
    except ConsultationInvalid as exc:
        current = await context.db.read(current_draft, person_id=actor.person_id)
        if current is not None:
            await _step_screen(update, context, current, note=_hint(t, exc))
        return
    log.info("consultation created consultation_id=%s by person_id=%s", created.id, actor.person_id)
    opened = created.opened_at is not None
    text = (
        t._("The consultation is open. Residents are getting the first question now.")
        if opened
        else t._("The consultation is saved. It opens on {date}.").format(
            date=t.date_time(created.opens_at)
        )
    )
    await screen(
        update,
        context,
        text,
        inline([[(t._("📊 Answers so far"), f"anc:c:{created.id}")], [menu_button(t)]]),
        new_message=True,
    )


@animator_only
async def on_cancel(update: Update, context: PalContext) -> None:
    """`anc:cancel`: throw the draft away."""
    t = context.t
    await context.db.write(discard_draft, person_id=actor_of(context).person_id)
    await screen(
        update,
        context,
        t._("The consultation draft is discarded."),
        inline([[menu_button(t)]]),
        new_message=True,
    )


def register(app: PalApplication) -> None:
    """Add the staff dialog, the list, cards and paper entry, and residents' answers."""
    app.add_handler(CallbackQueryHandler(on_new, pattern=r"^anc:new$"))
    app.add_handler(CallbackQueryHandler(on_button, pattern=r"^anc:a:([a-z]{1,2}):([\w-]{1,40})$"))
    app.add_handler(CallbackQueryHandler(on_back, pattern=r"^anc:back:([a-z]{1,2})$"))
    app.add_handler(CallbackQueryHandler(on_translate, pattern=r"^anc:tr:([a-z]{2})$"))
    app.add_handler(CallbackQueryHandler(on_publish, pattern=r"^anc:pub$"))
    app.add_handler(CallbackQueryHandler(on_cancel, pattern=r"^anc:cancel$"))
    consultation_staff.register(app)
    consultation_answers.register(app)
