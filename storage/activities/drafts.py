"""The new-activity wizard's rules: one answer per step, validated, then published.

A draft is a plain dict kept in the animator's `Dialog.data`, written in the same
transaction as the answer that changes it, so a restart continues at the same step
with every earlier answer. Each step's answer is checked on its own and against the
answers already given (no past start, end after start, deadline before start); a
refused answer raises `DraftInvalid` with a reason the handler turns into a hint and
leaves the draft exactly as it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from storage.activities.draft_questions import (
    CATEGORY_MAX,
    DEADLINE_OFFSETS,
    DESCRIPTION_MAX,
    FURTHEST_AHEAD_DAYS,
    LONGEST_ACTIVITY,
    ONCE_WORDS,
    OPTIONAL_STEPS,
    PLACES_MAX,
    PLACES_MIN,
    QUESTIONS,
    REPEAT_PROBLEMS,
    TITLE_MAX,
    VENUE_MAX,
    DeadlineChoice,
    DraftInvalid,
    Problem,
    RepeatChoice,
    Step,
)
from storage.activities.series import (
    Expansion,
    SeriesInvalid,
    WeeklyRule,
    expand,
    parse_repeat,
)
from storage.date_input import NotUnderstood, parse_date, parse_end, parse_time
from storage.text_rule import InvalidText, TextProblem, check_text


def clean_text(raw: str, *, limit: int, multiline: bool = False) -> str:
    """Trim free text by the text rule (storage.text_rule), as a DraftInvalid if refused.

    Line breaks are kept in a description; in a title, category or venue they become
    spaces, since those end up on one-line buttons.
    """
    try:
        return check_text(raw, limit=limit, multiline=multiline)
    except InvalidText as exc:
        if exc.problem == TextProblem.TOO_LONG:
            raise DraftInvalid(Problem.TOO_LONG, limit=limit, length=exc.length) from None
        raise DraftInvalid(Problem(exc.problem.value)) from None


@dataclass(frozen=True)
class Moments:
    """The instants a draft describes, once date, start and length are known."""

    starts_at: datetime
    ends_at: datetime
    deadline: datetime | None


def _local_date(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date()


def _combine(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def starts_at(draft: dict[str, Any], zone: ZoneInfo) -> datetime | None:
    """The start instant (UTC) once date and start time are answered."""
    if "date" not in draft or "start" not in draft:
        return None
    return _combine(date.fromisoformat(draft["date"]), time.fromisoformat(draft["start"]), zone)


def ends_at(draft: dict[str, Any], zone: ZoneInfo) -> datetime | None:
    """The end instant (UTC) once the length is answered too."""
    start = starts_at(draft, zone)
    if start is None or "minutes" not in draft:
        return None
    # Wall-clock arithmetic: a 17:00–19:00 workshop on the DST night still ends at 19:00.
    local_end = start.astimezone(zone).replace(tzinfo=None) + timedelta(minutes=draft["minutes"])
    return local_end.replace(tzinfo=zone).astimezone(UTC)


def deadline_at(draft: dict[str, Any], zone: ZoneInfo) -> datetime | None:
    """The registration deadline (UTC), or None for "until the start"."""
    chosen = draft.get("deadline")
    if not chosen:
        return None
    if "at" in chosen:
        return datetime.fromisoformat(chosen["at"])
    start = starts_at(draft, zone)
    return None if start is None else start - timedelta(minutes=int(chosen["before_minutes"]))


def _check_start(draft: dict[str, Any], now: datetime, zone: ZoneInfo) -> None:
    start = starts_at(draft, zone)
    if start is not None and start <= now:
        raise DraftInvalid(Problem.START_PAST, now=now)


def _check_deadline(draft: dict[str, Any], now: datetime, zone: ZoneInfo) -> None:
    deadline, start = deadline_at(draft, zone), starts_at(draft, zone)
    if deadline is None or start is None:
        return
    if deadline >= start:
        raise DraftInvalid(Problem.DEADLINE_NOT_BEFORE_START, starts_at=start)
    if deadline <= now:
        raise DraftInvalid(Problem.DEADLINE_PAST, deadline=deadline)


def _answer_date(draft: dict[str, Any], text: str, now: datetime, zone: ZoneInfo) -> None:
    today = _local_date(now, zone)
    try:
        day = parse_date(text, today=today)
    except NotUnderstood:
        raise DraftInvalid(Problem.DATE_NOT_UNDERSTOOD) from None
    if day < today:
        raise DraftInvalid(Problem.DATE_PAST, day=day)
    if (day - today).days > FURTHEST_AHEAD_DAYS:
        raise DraftInvalid(Problem.DATE_TOO_FAR, day=day)
    draft["date"] = day.isoformat()
    _check_start(draft, now, zone)
    _check_deadline(draft, now, zone)
    _refit_repeat(draft, zone)


def _answer_start(draft: dict[str, Any], text: str, now: datetime, zone: ZoneInfo) -> None:
    try:
        at = parse_time(text)
    except NotUnderstood:
        raise DraftInvalid(Problem.TIME_NOT_UNDERSTOOD) from None
    draft["start"] = at.strftime("%H:%M")
    _check_start(draft, now, zone)
    if "minutes" in draft:
        _check_length(draft["minutes"], at)
    _check_deadline(draft, now, zone)


def _check_length(minutes: int, start: time) -> None:
    if minutes <= 0:
        raise DraftInvalid(Problem.END_NOT_AFTER_START, start=start.strftime("%H:%M"))
    if timedelta(minutes=minutes) > LONGEST_ACTIVITY:
        hours = int(LONGEST_ACTIVITY.total_seconds() // 3600)
        raise DraftInvalid(Problem.END_TOO_LATE, hours=hours)


def _answer_end(draft: dict[str, Any], text: str) -> None:
    start = time.fromisoformat(draft["start"])
    try:
        length = parse_end(text, start=start)
    except NotUnderstood:
        raise DraftInvalid(Problem.END_NOT_UNDERSTOOD, start=draft["start"]) from None
    minutes = int(length.total_seconds() // 60)
    _check_length(minutes, start)
    draft["minutes"] = minutes


_PLACES = re.compile(r"^\s*(\d{1,6})(?:\s*[^\d\s].*)?$")


def _answer_places(draft: dict[str, Any], text: str) -> None:
    match = _PLACES.match(text.strip())
    if not match:
        raise DraftInvalid(Problem.PLACES_NOT_NUMBER, low=PLACES_MIN, high=PLACES_MAX)
    places = int(match[1])
    if not PLACES_MIN <= places <= PLACES_MAX:
        raise DraftInvalid(Problem.PLACES_RANGE, low=PLACES_MIN, high=PLACES_MAX, given=places)
    draft["places"] = places


def weekly_rule(draft: dict[str, Any]) -> WeeklyRule | None:
    """The series rule of a draft that repeats weekly (None: once, or not known yet)."""
    repeat = draft.get("repeat")
    if not repeat or "date" not in draft or "start" not in draft or "minutes" not in draft:
        return None
    return WeeklyRule(
        date.fromisoformat(draft["date"]),
        date.fromisoformat(repeat["until"]),
        time.fromisoformat(draft["start"]),
        int(draft["minutes"]),
        tuple(date.fromisoformat(d) for d in repeat.get("skip", ())),
    )


def series_dates(draft: dict[str, Any], zone: ZoneInfo) -> Expansion | None:
    """The dates a repeating draft gives; DraftInvalid if its rule no longer holds."""
    rule = weekly_rule(draft)
    if rule is None:
        return None
    try:
        return expand(rule, zone=zone)
    except SeriesInvalid as invalid:
        raise DraftInvalid(REPEAT_PROBLEMS[invalid.problem], **invalid.params) from None


def _answer_repeat(draft: dict[str, Any], text: str, now: datetime, zone: ZoneInfo) -> None:
    choice = text.strip()
    if choice == RepeatChoice.ONCE.value or choice.casefold() in ONCE_WORDS:
        draft["repeat"] = None
        return
    if "date" not in draft:
        raise DraftInvalid(Problem.INCOMPLETE, step=Step.DATE)
    first = date.fromisoformat(draft["date"])
    skip: tuple[date, ...] = ()
    if choice.startswith("w") and choice[1:].isdigit():
        until = first + timedelta(weeks=int(choice[1:]) - 1)
    else:
        try:
            until, skip = parse_repeat(choice, today=max(first, _local_date(now, zone)))
        except SeriesInvalid:
            raise DraftInvalid(Problem.REPEAT_NOT_UNDERSTOOD) from None
    draft["repeat"] = {"until": until.isoformat(), "skip": [d.isoformat() for d in skip]}
    series_dates(draft, zone)


def _refit_repeat(draft: dict[str, Any], zone: ZoneInfo) -> None:
    """After the date changes, keep the repeat only while it still makes a series."""
    if not draft.get("repeat"):
        return
    first = date.fromisoformat(draft["date"])
    repeat = dict(draft["repeat"])
    repeat["skip"] = [
        d for d in repeat.get("skip", ()) if (date.fromisoformat(d) - first).days % 7 == 0
    ]
    draft["repeat"] = repeat
    try:
        series_dates(draft, zone)
    except DraftInvalid:
        del draft["repeat"]  # asked again


def parse_deadline(text: str, *, now: datetime, zone: ZoneInfo) -> datetime:
    """Read `12.12 18:00`, `jutro 12:00` or a bare date (meaning the end of that day)."""
    today = _local_date(now, zone)
    words = text.strip().split()
    attempts: list[tuple[str, str | None]] = [(text, None)]
    if len(words) >= 2:
        attempts.insert(0, (" ".join(words[:-1]), words[-1]))
        attempts.insert(1, (" ".join(words[:-2]), " ".join(words[-2:])))
    for day_text, time_text in attempts:
        if not day_text:
            continue
        try:
            day = parse_date(day_text, today=today)
            at = parse_time(time_text) if time_text is not None else time(23, 59)
        except NotUnderstood:
            continue
        return _combine(day, at, zone)
    raise DraftInvalid(Problem.DEADLINE_NOT_UNDERSTOOD)


def _answer_deadline(draft: dict[str, Any], text: str, now: datetime, zone: ZoneInfo) -> None:
    choice = text.strip()
    if choice == DeadlineChoice.NONE.value:
        draft["deadline"] = None
        return
    if choice in DEADLINE_OFFSETS:
        minutes = int(DEADLINE_OFFSETS[DeadlineChoice(choice)].total_seconds() // 60)
        draft["deadline"] = {"before_minutes": minutes}
    else:
        draft["deadline"] = {"at": parse_deadline(text, now=now, zone=zone).isoformat()}
    _check_deadline(draft, now, zone)


def answer(
    draft: dict[str, Any], step: Step, text: str, *, now: datetime, zone: ZoneInfo
) -> dict[str, Any]:
    """The draft with `step` answered by `text`; raises DraftInvalid and changes nothing.

    Button answers arrive as text too (`2026-11-24`, `17:00`, `90 min`, `1d`), so typed
    and pressed answers pass the same checks.
    """
    updated = dict(draft)
    if step == Step.TITLE:
        updated["title"] = clean_text(text, limit=TITLE_MAX)
    elif step == Step.CATEGORY:
        updated["category"] = clean_text(text, limit=CATEGORY_MAX)
    elif step == Step.DATE:
        _answer_date(updated, text, now, zone)
    elif step == Step.START:
        _answer_start(updated, text, now, zone)
    elif step == Step.END:
        _answer_end(updated, text)
        _refit_repeat(updated, zone)
    elif step == Step.REPEAT:
        _answer_repeat(updated, text, now, zone)
    elif step == Step.VENUE:
        updated["venue"] = clean_text(text, limit=VENUE_MAX)
    elif step == Step.PLACES:
        _answer_places(updated, text)
    elif step == Step.DEADLINE:
        _answer_deadline(updated, text, now, zone)
    elif step == Step.DESCRIPTION:
        updated["description"] = (
            "" if text == "" else clean_text(text, limit=DESCRIPTION_MAX, multiline=True)
        )
    else:
        raise ValueError(f"step {step} takes no answer")
    return updated


_ANSWER_KEYS: dict[Step, str] = {
    Step.TITLE: "title",
    Step.CATEGORY: "category",
    Step.DATE: "date",
    Step.START: "start",
    Step.END: "minutes",
    Step.REPEAT: "repeat",
    Step.VENUE: "venue",
    Step.PLACES: "places",
    Step.DEADLINE: "deadline",
    Step.DESCRIPTION: "description",
}


def is_answered(draft: dict[str, Any], step: Step) -> bool:
    """Whether the draft holds an answer for a question."""
    return _ANSWER_KEYS.get(step, "") in draft


def next_step(draft: dict[str, Any], after: Step | None = None) -> Step:
    """The first unanswered question after `after` (or from the start), else the preview.

    When editing from the preview, the animator returns to the preview once the draft
    is complete again.
    """
    start = 0 if after is None else QUESTIONS.index(after) + 1
    for step in QUESTIONS[start:]:
        if not is_answered(draft, step):
            return step
    for step in QUESTIONS[:start]:
        if not is_answered(draft, step):
            return step
    return Step.PREVIEW


def previous_step(step: Step) -> Step | None:
    """The question before `step` (None before the first); the preview goes to the last."""
    if step == Step.PREVIEW:
        return QUESTIONS[-1]
    index = QUESTIONS.index(step)
    return QUESTIONS[index - 1] if index > 0 else None


def moments(draft: dict[str, Any], zone: ZoneInfo) -> Moments:
    """Start, end and deadline of a complete draft."""
    start, end = starts_at(draft, zone), ends_at(draft, zone)
    if start is None or end is None:
        raise DraftInvalid(Problem.INCOMPLETE)
    return Moments(start, end, deadline_at(draft, zone))


def validate_complete(draft: dict[str, Any], *, now: datetime, zone: ZoneInfo) -> Moments:
    """Check a whole draft again (time has passed since the questions were answered)."""
    missing = [s for s in QUESTIONS if s not in OPTIONAL_STEPS and not is_answered(draft, s)]
    if missing:
        raise DraftInvalid(Problem.INCOMPLETE, step=missing[0])
    found = moments(draft, zone)
    _check_start(draft, now, zone)
    _check_length(int(draft["minutes"]), time.fromisoformat(draft["start"]))
    _check_deadline(draft, now, zone)
    series_dates(draft, zone)
    if not PLACES_MIN <= int(draft["places"]) <= PLACES_MAX:
        raise DraftInvalid(Problem.PLACES_RANGE, low=PLACES_MIN, high=PLACES_MAX)
    return found
