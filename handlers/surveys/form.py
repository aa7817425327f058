"""The survey form's screens: intro, one question, summary, change list, done.

Pure functions from a response to (text, keyboard), shared by residents answering in
their own chat and animators entering a paper survey. Callback data (all `sv:`):

    sv:go:<programme>:<i|f>     start or resume one's own survey (intro, invitations)
    sv:a:<response>:<index>:<n> answer question <index> with the n-th button
    sv:k:<response>:<index>     skip question <index>
    sv:b:<response>:<index>     back to the previous question
    sv:s:<response>:<index>     back to the summary from a question opened to change it
    sv:p:<response>             pause
    sv:c:<response>             choose an answer to change (from the summary)
    sv:e:<response>:<index>     open question <index> to change it
    sv:v:<response>             show the summary again
    sv:w:<response>             submit

The index is the question the button was shown for: a press whose index is not where
the response is now (older message, double tap) changes nothing.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from bot.keyboards import inline, shorten
from storage.surveys.questionnaires import (
    Item,
    ItemType,
    Questionnaire,
    SurveyPhase,
    items_for_phase,
)
from storage.surveys.responses import ResponseView
from translations import Translator

Screen = tuple[str, InlineKeyboardMarkup | None]
PHASE_LETTER = {SurveyPhase.INITIAL: "i", SurveyPhase.FINAL: "f"}
LETTER_PHASE = {letter: phase for phase, letter in PHASE_LETTER.items()}
# Telegram's limit is 4096 characters; the summary shortens question texts to fit.
MESSAGE_LIMIT = 4000


def phase_title(t: Translator, phase: SurveyPhase) -> str:
    """`Ankieta początkowa` / `Ankieta końcowa`."""
    return t._("Initial survey") if phase == SurveyPhase.INITIAL else t._("Final survey")


def _header(t: Translator, phase: SurveyPhase, proxy_name: str | None) -> str:
    if proxy_name is not None:
        return t._("📝 Paper survey of {name} · {survey}").format(
            name=proxy_name, survey=phase_title(t, phase)
        )
    return "📝 " + phase_title(t, phase)


def intro_screen(
    t: Translator,
    q: Questionnaire,
    phase: SurveyPhase,
    programme_id: int,
    *,
    lead: str | None = None,
) -> Screen:
    """What the survey is, how long it takes, that it is voluntary, and `Continue`."""
    count = len(items_for_phase(q, phase))
    minutes = q.estimated_minutes(phase)
    parts = [
        f"{_header(t, phase, None)}: {q.title.get(t.language)}",
        q.intro.get(t.language),
        t.ngettext("{n} question, one at a time.", "{n} questions, one at a time.", count).format(
            n=count
        )
        + " "
        + t.ngettext("It takes about {n} minute.", "It takes about {n} minutes.", minutes).format(
            n=minutes
        ),
        t._("Taking part and the surveys are voluntary and never affect benefits."),
        t._(
            "You can skip any question, go back, or pause and finish later: your answers are "
            "kept. Nothing is sent until you press “Submit” at the end."
        ),
    ]
    if lead:
        parts.insert(0, lead)
    markup = inline([[(t._("Continue ➡️"), f"sv:go:{programme_id}:{PHASE_LETTER[phase]}")]])
    return "\n\n".join(parts), markup


def answer_label(t: Translator, item: Item, value: str | None) -> str:
    """How a stored answer reads back: `4 — Raczej się zgadzam`, a text, or skipped."""
    if value is None:
        return t._("skipped")
    if item.type == ItemType.TEXT:
        return f"“{shorten(value, 60)}”"
    for stored, label in item.choices(t.language):
        if stored == value:
            return label
    return value


def question_screen(
    t: Translator,
    view: ResponseView,
    *,
    proxy_name: str | None = None,
    hint: str | None = None,
) -> Screen:
    """One question with its answers as buttons, `3/12`, and Back / Skip / Pause."""
    item = view.current
    assert item is not None and view.response.id is not None
    rid, index = view.response.id, view.response.position
    lines = [
        f"{_header(t, view.phase, proxy_name)} · {index + 1}/{view.total}",
        "",
        item.text.get(t.language),
    ]
    if item.type == ItemType.TEXT:
        lines += [
            "",
            t.ngettext(
                "✍️ Write your answer in one message, at most {n} character.",
                "✍️ Write your answer in one message, at most {n} characters.",
                item.max_length or 0,
            ).format(n=item.max_length),
        ]
    if item.id in view.answers:
        lines += [
            "",
            t._("Your answer so far: {answer}").format(
                answer=answer_label(t, item, view.answers[item.id])
            ),
        ]
    if hint:
        lines += ["", hint]
    current = view.answers.get(item.id)
    rows: list[list[tuple[str, str]]] = [
        [(f"{label} ✓" if value == current else label, f"sv:a:{rid}:{index}:{n}")]
        for n, (value, label) in enumerate(item.choices(t.language), start=1)
    ]
    nav: list[tuple[str, str]] = []
    if view.reached_summary:
        nav.append((t._("⬅️ Back"), f"sv:s:{rid}:{index}"))
    elif index > 0:
        nav.append((t._("⬅️ Back"), f"sv:b:{rid}:{index}"))
    nav.append((t._("⏭ Skip"), f"sv:k:{rid}:{index}"))
    rows.append(nav)
    rows.append([(t._("⏸ Pause"), f"sv:p:{rid}")])
    return "\n".join(lines), inline(rows)


def summary_screen(
    t: Translator,
    view: ResponseView,
    *,
    proxy_name: str | None = None,
    hint: str | None = None,
) -> Screen:
    """Every answer, then Submit, Change an answer and Pause."""
    assert view.response.id is not None
    rid = view.response.id
    head = [f"{_header(t, view.phase, proxy_name)}", "", t._("Check the answers:")]
    tail = [
        "",
        t._(
            "Press “Submit” to send the answers. Until then nothing is sent and any "
            "answer can be changed."
        ),
    ]
    if hint:
        tail += ["", hint]
    limit = 90
    while True:
        body = []
        for n, item in enumerate(view.items, start=1):
            body.append(f"{n}. {shorten(item.text.get(t.language), limit)}")
            body.append("   → " + answer_label(t, item, view.answers.get(item.id)))
        text = "\n".join(head + body + tail)
        if len(text) <= MESSAGE_LIMIT or limit <= 20:
            break
        limit -= 15
    markup = inline(
        [
            [(t._("📨 Submit"), f"sv:w:{rid}")],
            [(t._("✏️ Change an answer"), f"sv:c:{rid}")],
            [(t._("⏸ Pause"), f"sv:p:{rid}")],
        ]
    )
    return text[:4096], markup


def change_screen(t: Translator, view: ResponseView, *, proxy_name: str | None = None) -> Screen:
    """Which answer to change: one button per question."""
    assert view.response.id is not None
    rid = view.response.id
    rows = [
        [(f"{n}. {shorten(item.text.get(t.language), 40)}", f"sv:e:{rid}:{n - 1}")]
        for n, item in enumerate(view.items, start=1)
    ]
    rows.append([(t._("↩️ Back to the summary"), f"sv:v:{rid}")])
    text = f"{_header(t, view.phase, proxy_name)}\n\n" + t._("Which answer do you want to change?")
    return text, inline(rows)


def form_screen(
    t: Translator,
    view: ResponseView,
    *,
    proxy_name: str | None = None,
    hint: str | None = None,
) -> Screen:
    """The screen a response is at: its current question, or the summary."""
    if view.at_summary:
        return summary_screen(t, view, proxy_name=proxy_name, hint=hint)
    return question_screen(t, view, proxy_name=proxy_name, hint=hint)


def submitted_screen(t: Translator, view: ResponseView, *, proxy_name: str | None) -> Screen:
    """Thanks after Submit (or, for an animator, what was saved and a way to the next)."""
    if proxy_name is not None:
        text = t._("✅ Saved. {survey}: {name} (from paper).").format(
            survey=phase_title(t, view.phase), name=proxy_name
        )
        return text, inline([[(t._("📝 Enter another paper survey"), "pp:list")]])
    if view.phase == SurveyPhase.INITIAL:
        text = (
            t._("✅ Thank you! Your answers have been sent.")
            + "\n\n"
            + t._("At the end of the programme we will ask again, to see what has changed.")
        )
    else:
        text = (
            t._("✅ Thank you! Your answers have been sent.")
            + "\n\n"
            + t._("Thank you for taking part in the programme.")
        )
    return text, None


def paused_screen(t: Translator, view: ResponseView, *, proxy_name: str | None) -> Screen:
    """Where to come back after Pause."""
    done = min(view.response.position, view.total)
    progress = t._("{done} of {total} questions done.").format(done=done, total=view.total)
    if proxy_name is not None:
        return progress + "\n\n" + t._("⏸ Saved. Continue any time with /paper."), None
    return (
        progress
        + "\n\n"
        + t._(
            "⏸ Saved. Come back any time: send /survey or press "
            "“📝 Survey” in the menu. Your answers are kept."
        ),
        None,
    )
