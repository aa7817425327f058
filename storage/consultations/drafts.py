"""A new consultation as a draft: one answer per step, each checked, Telegram-free.

The draft is a plain dict kept in the author's `Dialog.data` (kind `consultation_draft`)
and written with the answer that changes it, like the activity wizard's. Free text goes
through the wizard's own check (storage.activities.drafts.clean_text: no control or direction
characters, length limits); dates are read by storage.date_input, so the same forms work
(`jutro`, `pt`, `12.12`, `2026-12-12`). A refused answer raises `ConsultationInvalid`
and leaves the draft as it was.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from storage.activities.draft_questions import DraftInvalid
from storage.activities.drafts import clean_text
from storage.date_input import NotUnderstood, parse_date
from storage.models import ConsultationAudience

DIALOG_KIND = "consultation_draft"
TITLE_MAX = 100
QUESTION_MAX = 300
OPTION_MAX = 60
OPTIONS_MIN, OPTIONS_MAX = 2, 10
QUESTIONS_MAX = 8
FREE_ANSWER_MAX = 1000
# A consultation open longer than this is a typo, not a plan.
LONGEST_OPEN_DAYS = 92
FURTHEST_AHEAD_DAYS = 366


class Step(StrEnum):
    """The author's questions; the value is short for callback data."""

    KIND = "k"
    TITLE = "t"
    QUESTION = "q"
    MODE = "m"
    OPTIONS = "o"
    MORE = "a"
    FREE = "f"
    OPENS = "s"
    CLOSES = "e"
    AUDIENCE = "u"
    ACTIVITY = "v"
    RESULTS = "r"
    PREVIEW = "pv"
    TRANSLATION = "l"


TEXT_STEPS = frozenset(
    {Step.TITLE, Step.QUESTION, Step.OPTIONS, Step.FREE, Step.OPENS, Step.CLOSES, Step.TRANSLATION}
)
# Languages the staff may add their own version in (the residents' chat languages).
TRANSLATION_LANGUAGES = ("pl", "uk", "en")


class Kind(StrEnum):
    """One question, or a short needs survey."""

    POLL = "poll"
    SURVEY = "survey"


class More(StrEnum):
    """After a survey question: another one, the open question, or go on."""

    QUESTION = "q"
    FREE = "f"
    DONE = "go"


class Fault(StrEnum):
    """Why an answer was refused; each has its own hint."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    CONTROL = "control"
    TOO_FEW_OPTIONS = "too_few_options"
    TOO_MANY_OPTIONS = "too_many_options"
    SAME_OPTION_TWICE = "same_option_twice"
    TOO_MANY_QUESTIONS = "too_many_questions"
    DATE_NOT_UNDERSTOOD = "date_not_understood"
    DATE_PAST = "date_past"
    DATE_TOO_FAR = "date_too_far"
    CLOSES_BEFORE_OPENS = "closes_before_opens"
    OPEN_TOO_LONG = "open_too_long"
    NOT_A_CHOICE = "not_a_choice"
    INCOMPLETE = "incomplete"
    TRANSLATION_SHAPE = "translation_shape"


class ConsultationInvalid(ValueError):
    """An answer the draft cannot take; `fault` and `params` make the hint."""

    def __init__(self, fault: Fault, **params: Any) -> None:
        super().__init__(fault.value)
        self.fault = fault
        self.params = params


def checked_text(raw: str, *, limit: int, multiline: bool = False) -> str:
    """Staff or resident free text through the wizard's one check, as our own fault."""
    try:
        return clean_text(raw, limit=limit, multiline=multiline)
    except DraftInvalid as exc:
        raise ConsultationInvalid(Fault(exc.problem.value), **exc.params) from None


def parse_options(text: str) -> list[str]:
    """One option per line (numbering and bullets dropped), 2–10, each checked."""
    options: list[str] = []
    for line in text.replace("\r", "\n").split("\n"):
        stripped = line.strip().lstrip("-•*·").strip()
        # "1. Tak" / "2) Nie": the numbering is ours to add.
        head, _, rest = stripped.partition(" ")
        if rest and head.rstrip(".)").isdigit() and head[-1:] in ".)":
            stripped = rest.strip()
        if stripped:
            options.append(checked_text(stripped, limit=OPTION_MAX))
    if len(options) < OPTIONS_MIN:
        raise ConsultationInvalid(Fault.TOO_FEW_OPTIONS, low=OPTIONS_MIN)
    if len(options) > OPTIONS_MAX:
        raise ConsultationInvalid(Fault.TOO_MANY_OPTIONS, high=OPTIONS_MAX, given=len(options))
    folded = [o.casefold() for o in options]
    if len(set(folded)) != len(folded):
        raise ConsultationInvalid(Fault.SAME_OPTION_TWICE)
    return options


def _day(text: str, *, now: datetime, zone: ZoneInfo) -> date:
    today = now.astimezone(zone).date()
    try:
        day = parse_date(text, today=today)
    except NotUnderstood:
        raise ConsultationInvalid(Fault.DATE_NOT_UNDERSTOOD) from None
    if day < today:
        raise ConsultationInvalid(Fault.DATE_PAST, day=day)
    if (day - today).days > FURTHEST_AHEAD_DAYS:
        raise ConsultationInvalid(Fault.DATE_TOO_FAR, day=day)
    return day


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=zone).astimezone(UTC)


def opens_at(draft: dict[str, Any], *, now: datetime, zone: ZoneInfo) -> datetime:
    """When it opens: now if the opening day is today, else that day's start (local)."""
    day = date.fromisoformat(draft["opens"])
    return max(now, _midnight(day, zone))


def closes_at(draft: dict[str, Any], zone: ZoneInfo) -> datetime:
    """When it closes: the end of the closing day (local time)."""
    return _midnight(date.fromisoformat(draft["closes"]) + timedelta(days=1), zone)


def _check_dates(draft: dict[str, Any]) -> None:
    if "opens" not in draft or "closes" not in draft:
        return
    first, last = date.fromisoformat(draft["opens"]), date.fromisoformat(draft["closes"])
    if last < first:
        raise ConsultationInvalid(Fault.CLOSES_BEFORE_OPENS, opens=first)
    if (last - first).days > LONGEST_OPEN_DAYS:
        raise ConsultationInvalid(Fault.OPEN_TOO_LONG, days=LONGEST_OPEN_DAYS)


def _choice(text: str, allowed: set[str]) -> str:
    value = text.strip()
    if value not in allowed:
        raise ConsultationInvalid(Fault.NOT_A_CHOICE)
    return value


def answer(
    draft: dict[str, Any],
    step: Step,
    text: str,
    *,
    now: datetime,
    zone: ZoneInfo,
    is_admin: bool = False,
) -> tuple[dict[str, Any], Step]:
    """The draft with `step` answered, and the step that comes next.

    Button answers arrive as text too (`poll`, `1`, `2026-12-01`, `programme`), so typed
    and pressed answers pass the same checks. Raises ConsultationInvalid, changing nothing.
    """
    d = dict(draft)
    questions: list[dict[str, Any]] = [dict(q) for q in d.get("questions", [])]
    if step == Step.KIND:
        d["kind"] = _choice(text, {k.value for k in Kind})
        return d, Step.TITLE if d["kind"] == Kind.SURVEY else Step.QUESTION
    if step == Step.TITLE:
        d["title"] = checked_text(text, limit=TITLE_MAX)
        return d, Step.QUESTION
    if step == Step.QUESTION:
        if len(questions) >= QUESTIONS_MAX:
            raise ConsultationInvalid(Fault.TOO_MANY_QUESTIONS, high=QUESTIONS_MAX)
        d["pending"] = {"text": checked_text(text, limit=QUESTION_MAX)}
        return d, Step.MODE
    if step == Step.MODE:
        pending = dict(d.get("pending") or {})
        if "text" not in pending:
            raise ConsultationInvalid(Fault.INCOMPLETE)
        pending["multiple"] = _choice(text, {"1", "n"}) == "n"
        d["pending"] = pending
        return d, Step.OPTIONS
    if step == Step.OPTIONS:
        pending = dict(d.get("pending") or {})
        if "multiple" not in pending:
            raise ConsultationInvalid(Fault.INCOMPLETE)
        questions.append(
            {
                "text": pending["text"],
                "multiple": pending["multiple"],
                "options": parse_options(text),
            }
        )
        d["questions"] = questions
        d.pop("pending", None)
        return d, Step.MORE if d.get("kind") == Kind.SURVEY else Step.OPENS
    if step == Step.MORE:
        choice = _choice(text, {m.value for m in More})
        if choice == More.QUESTION:
            if len(questions) >= QUESTIONS_MAX:
                raise ConsultationInvalid(Fault.TOO_MANY_QUESTIONS, high=QUESTIONS_MAX)
            return d, Step.QUESTION
        return d, Step.FREE if choice == More.FREE else Step.OPENS
    if step == Step.FREE:
        d["free"] = checked_text(text, limit=QUESTION_MAX)
        return d, Step.OPENS
    if step == Step.OPENS:
        d["opens"] = _day(text, now=now, zone=zone).isoformat()
        d.pop("closes", None)
        return d, Step.CLOSES
    if step == Step.CLOSES:
        d["closes"] = _day(text, now=now, zone=zone).isoformat()
        _check_dates(d)
        return d, Step.AUDIENCE
    if step == Step.AUDIENCE:
        allowed = {ConsultationAudience.PROGRAMME.value, ConsultationAudience.ACTIVITY.value}
        if is_admin:
            allowed.add(ConsultationAudience.EVERYONE.value)
        d["audience"] = _choice(text, allowed)
        d.pop("activity_id", None)
        if d["audience"] == ConsultationAudience.ACTIVITY:
            return d, Step.ACTIVITY
        return d, Step.RESULTS
    if step == Step.ACTIVITY:
        if not text.strip().isdigit():
            raise ConsultationInvalid(Fault.NOT_A_CHOICE)
        d["activity_id"] = int(text.strip())
        return d, Step.RESULTS
    if step == Step.RESULTS:
        d["show_results"] = _choice(text, {"y", "n"}) == "y"
        return d, Step.PREVIEW
    if step == Step.TRANSLATION:
        language = str(d.get("translating", ""))
        if language not in TRANSLATION_LANGUAGES:
            raise ConsultationInvalid(Fault.INCOMPLETE)
        translations = dict(d.get("translations") or {})
        translations[language] = parse_translation(d, text)
        d["translations"] = translations
        d.pop("translating", None)
        return d, Step.PREVIEW
    raise ValueError(f"step {step} takes no answer")


def layout(draft: dict[str, Any]) -> str:
    """The texts in the layout a translation is sent in: blocks separated by a blank line
    (the survey's title; each question with its answers below it; the open question)."""
    blocks = [str(draft["title"])] if draft.get("title") else []
    blocks += [
        "\n".join([str(q["text"]), *map(str, q["options"])]) for q in draft.get("questions", [])
    ]
    if draft.get("free"):
        blocks.append(str(draft["free"]))
    return "\n\n".join(blocks)


def parse_translation(draft: dict[str, Any], text: str) -> dict[str, Any]:
    """The staff's version of every text, in `layout`'s shape, each line checked."""
    raw = [b for b in text.replace("\r", "\n").split("\n\n") if b.strip()]
    blocks = [[line.strip() for line in b.split("\n") if line.strip()] for b in raw]
    questions: list[dict[str, Any]] = list(draft.get("questions", []))
    expected = ([1] if draft.get("title") else []) + [1 + len(q["options"]) for q in questions]
    expected += [1] if draft.get("free") else []
    if [len(b) for b in blocks] != expected:
        raise ConsultationInvalid(Fault.TRANSLATION_SHAPE, layout=expected)
    found: dict[str, Any] = {}
    if draft.get("title"):
        found["title"] = checked_text(blocks.pop(0)[0], limit=TITLE_MAX)
    found["questions"] = [
        {
            "text": checked_text(block[0], limit=QUESTION_MAX),
            "options": [checked_text(o, limit=OPTION_MAX) for o in block[1:]],
        }
        for block in blocks[: len(questions)]
    ]
    if draft.get("free"):
        found["free"] = checked_text(blocks[-1][0], limit=QUESTION_MAX)
    if "title" not in found:
        found["title"] = title_of({"questions": found["questions"]})  # a poll: its question
    return found


def begin_translation(draft: dict[str, Any], language: str) -> dict[str, Any]:
    """The draft waiting for the staff's version in `language`."""
    if language not in TRANSLATION_LANGUAGES:
        raise ConsultationInvalid(Fault.NOT_A_CHOICE)
    return {**draft, "translating": language}


def localized(
    title: str,
    questions: list[dict[str, Any]],
    free: str | None,
    translations: dict[str, Any],
    language: str,
) -> tuple[str, list[dict[str, Any]], str | None]:
    """Title, questions and open question in `language` where the staff gave them."""
    version = translations.get(language)
    if not version:
        return title, questions, free
    merged = [
        {**q, "text": v["text"], "options": list(v["options"])}
        for q, v in zip(questions, version.get("questions", []), strict=False)
    ]
    merged += questions[len(merged) :]
    return (
        str(version.get("title") or title),
        merged,
        str(version["free"]) if free is not None and version.get("free") else free,
    )


def title_of(draft: dict[str, Any]) -> str:
    """The survey's title, or the single question itself (cut for the list)."""
    if draft.get("title"):
        return str(draft["title"])
    questions = draft.get("questions") or [{}]
    text = str(questions[0].get("text", "")).replace("\n", " ")
    return text if len(text) <= TITLE_MAX else text[: TITLE_MAX - 1].rstrip() + "…"


def validate_complete(draft: dict[str, Any], *, now: datetime, zone: ZoneInfo) -> None:
    """Check the whole draft again before publishing (a day may have passed)."""
    if (
        not draft.get("questions")
        or "closes" not in draft
        or "audience" not in draft
        or ("show_results" not in draft)
    ):
        raise ConsultationInvalid(Fault.INCOMPLETE)
    if draft["audience"] == ConsultationAudience.ACTIVITY and "activity_id" not in draft:
        raise ConsultationInvalid(Fault.INCOMPLETE)
    today = now.astimezone(zone).date()
    if date.fromisoformat(draft["closes"]) < today:
        raise ConsultationInvalid(Fault.DATE_PAST, day=date.fromisoformat(draft["closes"]))
    _check_dates(draft)
