"""The activity questions, their buttons and hints, shared by the wizard and by changes.

Buttons carry answers as short codes (`2026-11-24`, `17:00`, `90 min`, `1d`, or `#2` for
the third offered category or venue); the rules in storage.activities.drafts check them exactly
like typed answers.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from storage.activities.draft_questions import (
    DESCRIPTION_MAX,
    PLACES_MAX,
    PLACES_MIN,
    REPEAT_WEEKS,
    TITLE_MAX,
    TYPICAL_LENGTHS,
    TYPICAL_STARTS,
    DeadlineChoice,
    DraftInvalid,
    Problem,
    RepeatChoice,
    Step,
)
from storage.activities.drafts import deadline_at, ends_at, series_dates, starts_at
from storage.activities.wizard import OPTION_PREFIX
from translations import Translator

TYPICAL_PLACES = (8, 10, 12, 15, 20, 30)


def length_text(t: Translator, minutes: int) -> str:
    """`1 h 30 min` / `2 godz.` for a duration."""
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return t._("{hours} h {minutes} min").format(hours=hours, minutes=rest)
    if hours:
        return t._("{hours} h").format(hours=hours)
    return t._("{minutes} min").format(minutes=rest)


def question_text(t: Translator, step: Step) -> str:
    """The question asked at a step."""
    texts = {
        Step.TITLE: t._(
            "What is the activity called? Type the title (up to {limit} characters)."
        ).format(limit=TITLE_MAX),
        Step.CATEGORY: t._("What kind of activity is it? Choose a category or type a new one."),
        Step.DATE: t._(
            "Which day? Choose below or type a date, e.g. 12.12, 12.12.2026, "
            "“tomorrow” or “Friday”."
        ),
        Step.START: t._(
            "What time does it start? Choose below or type it, e.g. 17, 17:00 or 17.30."
        ),
        Step.END: t._(
            "How long does it last? Choose below, or type the end time (e.g. 19:00) "
            "or the length (e.g. 90 min)."
        ),
        Step.REPEAT: t._(
            "Does it happen once, or every week at this time? For a weekly activity "
            "choose how many weeks, or type the last date and the dates to skip, e.g. "
            "“until 30.06 except 14.04, 5.05”. Public holidays are skipped by themselves."
        ),
        Step.VENUE: t._("Where does it take place? Choose a recent venue or type the address."),
        Step.PLACES: t._(
            "How many places are there? Choose below or type a number from {low} to {high}."
        ).format(low=PLACES_MIN, high=PLACES_MAX),
        Step.DEADLINE: t._(
            "Until when can people sign up? Choose below or type a date and time, e.g. 11.12 18:00."
        ),
        Step.DESCRIPTION: t._(
            "Add a short description: what to bring, who it is for (up to "
            "{limit} characters). Or press “⏭ Skip”."
        ).format(limit=DESCRIPTION_MAX),
    }
    return texts[step]


def field_name(t: Translator, step: Step) -> str:
    """The name of a field in the "Change…" list and the preview."""
    names = {
        Step.TITLE: t._("Title"),
        Step.CATEGORY: t._("Category"),
        Step.DATE: t._("Date"),
        Step.START: t._("Start time"),
        Step.END: t._("Length or end time"),
        Step.REPEAT: t._("Repeats"),
        Step.VENUE: t._("Venue"),
        Step.PLACES: t._("Places"),
        Step.DEADLINE: t._("Sign-up deadline"),
        Step.DESCRIPTION: t._("Description"),
    }
    return names[step]


def current_value(t: Translator, step: Step, draft: dict[str, Any], zone: ZoneInfo) -> str | None:
    """The answer a draft holds for a step, as the animator would read it."""
    if step == Step.TITLE:
        return draft.get("title")
    if step == Step.CATEGORY:
        return draft.get("category")
    if step == Step.DATE and "date" in draft:
        day = date.fromisoformat(draft["date"])
        return t.date(datetime.combine(day, time(12), tzinfo=zone))
    if step == Step.START:
        return draft.get("start")
    if step == Step.END and "minutes" in draft:
        end = ends_at(draft, zone)
        length = length_text(t, int(draft["minutes"]))
        return f"{t.time(end)} ({length})" if end is not None else length
    if step == Step.REPEAT and "repeat" in draft:
        return repeat_text(t, draft, zone)
    if step == Step.VENUE:
        return draft.get("venue")
    if step == Step.PLACES and "places" in draft:
        return str(draft["places"])
    if step == Step.DEADLINE and "deadline" in draft:
        deadline = deadline_at(draft, zone)
        return t.date_time(deadline) if deadline else t._("until the start")
    if step == Step.DESCRIPTION and "description" in draft:
        return draft["description"] or t._("(none)")
    return None


def answer_buttons(
    t: Translator,
    step: Step,
    *,
    today: date,
    zone: ZoneInfo,
    options: list[str],
) -> list[list[tuple[str, str]]]:
    """Buttons with typical answers, as (label, answer code) rows."""
    if step in (Step.CATEGORY, Step.VENUE):
        return [[(option[:60], f"{OPTION_PREFIX}{i}")] for i, option in enumerate(options)]
    if step == Step.DATE:
        noon = time(12)

        def day_label(label: str, day: date) -> str:
            moment = datetime.combine(day, noon, tzinfo=zone)
            return f"{label} · {t.date(moment)}"

        return [
            [(day_label(t._("Today"), today), today.isoformat())],
            [
                (
                    day_label(t._("Tomorrow"), today + timedelta(days=1)),
                    (today + timedelta(days=1)).isoformat(),
                )
            ],
            [
                (
                    day_label(t._("In a week"), today + timedelta(days=7)),
                    (today + timedelta(days=7)).isoformat(),
                )
            ],
        ]
    if step == Step.START:
        return [list((s, s) for s in TYPICAL_STARTS[:3]), list((s, s) for s in TYPICAL_STARTS[3:])]
    if step == Step.END:
        return [[(length_text(t, m), f"{m} min") for m in TYPICAL_LENGTHS]]
    if step == Step.REPEAT:
        return [
            [(t._("Only once"), RepeatChoice.ONCE.value)],
            [
                (t.ngettext("Weekly, {n} week", "Weekly, {n} weeks", n).format(n=n), f"w{n}")
                for n in REPEAT_WEEKS
            ],
        ]
    if step == Step.PLACES:
        return [[(str(n), str(n)) for n in TYPICAL_PLACES]]
    if step == Step.DEADLINE:
        return [
            [(t._("No deadline: until the start"), DeadlineChoice.NONE.value)],
            [
                (t._("1 hour before"), DeadlineChoice.HOUR_BEFORE.value),
                (t._("1 day before"), DeadlineChoice.DAY_BEFORE.value),
            ],
            [(t._("2 days before"), DeadlineChoice.TWO_DAYS_BEFORE.value)],
        ]
    if step == Step.DESCRIPTION:
        return [[(t._("⏭ Skip"), "")]]
    return []


def problem_hint(t: Translator, error: DraftInvalid, zone: ZoneInfo) -> str:
    """A specific hint for a refused answer."""
    p = error.params
    problem = error.problem
    if problem == Problem.EMPTY:
        return t._("This cannot be empty. Please type an answer.")
    if problem == Problem.TOO_LONG:
        return t._(
            "That is too long: {length} characters, at most {limit}. Please shorten it."
        ).format(length=p["length"], limit=p["limit"])
    if problem == Problem.CONTROL:
        return t._("That text contains invisible control characters. Please type it again.")
    if problem == Problem.DATE_NOT_UNDERSTOOD:
        return t._(
            "I did not understand that date. Type it like 12.12 or 12.12.2026, or a "
            "word like “tomorrow” or “Friday”, or press a button."
        )
    if problem == Problem.DATE_PAST:
        return t._("{date} has already passed. Choose today or a later day.").format(
            date=_day(t, p["day"], zone)
        )
    if problem == Problem.DATE_TOO_FAR:
        return t._("{date} is more than two years ahead. Please check the year.").format(
            date=_day(t, p["day"], zone)
        )
    if problem == Problem.TIME_NOT_UNDERSTOOD:
        return t._(
            "I did not understand that time. Type it like 17, 17:00 or 17.30, or press a button."
        )
    if problem == Problem.START_PAST:
        return t._(
            "That moment has already passed (it is now {now}). Choose a later time or another day."
        ).format(now=t.date_time(p["now"]))
    if problem == Problem.END_NOT_UNDERSTOOD:
        return t._(
            "I did not understand. Type the end time like 19:00, or the length like "
            "90 min or 2 h, or press a button."
        )
    if problem == Problem.END_NOT_AFTER_START:
        return t._(
            "The end must be after the start ({start}). Type the end time like 19:00, "
            "or the length like 2 h."
        ).format(start=p["start"])
    if problem == Problem.END_TOO_LATE:
        return t._("An activity can last at most {hours} hours. Please check the end time.").format(
            hours=p["hours"]
        )
    if problem == Problem.PLACES_NOT_NUMBER:
        return t._("Please type the number of places in digits, from {low} to {high}.").format(
            low=p["low"], high=p["high"]
        )
    if problem == Problem.PLACES_RANGE:
        return t._("The number of places must be from {low} to {high}.").format(
            low=p["low"], high=p["high"]
        )
    if problem == Problem.DEADLINE_NOT_UNDERSTOOD:
        return t._(
            "I did not understand that deadline. Type a date and time like 11.12 18:00, "
            "or press a button."
        )
    if problem == Problem.DEADLINE_NOT_BEFORE_START:
        return t._(
            "The sign-up deadline must be before the start ({start}). Choose an earlier "
            "deadline, or change the deadline first."
        ).format(start=t.date_time(p["starts_at"]))
    if problem == Problem.DEADLINE_PAST:
        return t._(
            "That deadline ({deadline}) has already passed. Choose a later one or no deadline."
        ).format(deadline=t.date_time(p["deadline"]))
    if problem == Problem.REPEAT_NOT_UNDERSTOOD:
        return t._(
            "I did not understand. Type the last date and the dates to skip, e.g. "
            "“until 30.06 except 14.04”, or press a button."
        )
    if problem == Problem.REPEAT_TOO_SOON:
        return t._("The last date must be at least a week after the first one.")
    if problem == Problem.REPEAT_TOO_MANY:
        return t._(
            "A weekly activity can have at most {limit} dates. Choose an earlier last date."
        ).format(limit=p["limit"])
    if problem == Problem.REPEAT_SKIP_NOT_A_DATE:
        return t._("{date} is not one of the dates of this activity.").format(
            date=_day(t, p["day"], zone)
        )
    return t._("Some answers are missing. Please answer the question below.")


def _day(t: Translator, day: date, zone: ZoneInfo) -> str:
    return f"{t.date(datetime.combine(day, time(12), tzinfo=zone))} {day.year}"


def repeat_text(t: Translator, draft: dict[str, Any], zone: ZoneInfo) -> str:
    """`Every week until 30.06.2027: 24 dates; skipped: 14.04; public holidays: 6.01`."""
    try:
        found = series_dates(draft, zone)
    except DraftInvalid:
        found = None
    if found is None:
        return t._("Only once")
    last = found.dates[-1].day
    parts = [
        t.ngettext(
            "Every week until {last}: {n} date",
            "Every week until {last}: {n} dates",
            len(found.dates),
        ).format(last=t.day(last), n=len(found.dates))
    ]
    if found.skipped:
        parts.append(
            t._("skipped: {days}").format(days=", ".join(t.short_day(d) for d in found.skipped))
        )
    if found.holidays:
        parts.append(
            t._("public holidays: {days}").format(
                days=", ".join(t.short_day(d) for d in found.holidays)
            )
        )
    return "; ".join(parts)


def summary_lines(t: Translator, draft: dict[str, Any], zone: ZoneInfo) -> list[str]:
    """The draft as the preview shows it, one line per field."""
    start, end = starts_at(draft, zone), ends_at(draft, zone)
    lines = [
        f"📌 {draft.get('title', '—')}",
        t._("Category: {category}").format(category=draft.get("category", "—")),
    ]
    if start is not None and end is not None:
        lines.append(
            t._("When: {date}, {start}–{end}").format(
                date=t.date(start), start=t.time(start), end=t.time(end)
            )
        )
    if draft.get("repeat"):
        lines.append(repeat_text(t, draft, zone))
    lines.append(t._("Where: {venue}").format(venue=draft.get("venue", "—")))
    if "places" in draft:
        places = int(draft["places"])
        lines.append(t.ngettext("{n} place", "{n} places", places).format(n=places))
    deadline = deadline_at(draft, zone)
    lines.append(
        t._("Sign up by {date}.").format(date=t.date_time(deadline))
        if deadline
        else t._("Sign-up open until the start.")
    )
    if draft.get("description"):
        lines += ["", draft["description"]]
    return lines
