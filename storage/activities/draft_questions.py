"""The new-activity wizard's questions and answers as data: steps in order, limits,
button choices, and why an answer is refused (shared by the wizard and by changes)."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Any

from storage.activities.series import SeriesProblem

TITLE_MAX = 100
CATEGORY_MAX = 60
VENUE_MAX = 200
DESCRIPTION_MAX = 2000
PLACES_MIN, PLACES_MAX = 1, 500
# Longer than this is a typo (a 19-hour "workshop"), not a plan.
LONGEST_ACTIVITY = timedelta(hours=12)
# Further ahead than this is a typo in the year.
FURTHEST_AHEAD_DAYS = 2 * 366

DIALOG_KIND = "animator_wizard"


class Step(StrEnum):
    """The wizard's questions, in order; the value is short for callback data."""

    TITLE = "t"
    CATEGORY = "c"
    DATE = "d"
    START = "s"
    END = "e"
    REPEAT = "r"
    VENUE = "v"
    PLACES = "p"
    DEADLINE = "l"
    DESCRIPTION = "x"
    PREVIEW = "pv"


QUESTIONS: tuple[Step, ...] = (
    Step.TITLE,
    Step.CATEGORY,
    Step.DATE,
    Step.START,
    Step.END,
    Step.REPEAT,
    Step.VENUE,
    Step.PLACES,
    Step.DEADLINE,
    Step.DESCRIPTION,
)
OPTIONAL_STEPS = frozenset({Step.REPEAT, Step.DEADLINE, Step.DESCRIPTION})
# What a published activity's "Change…" offers: a date of a series stays one date.
CHANGEABLE: tuple[Step, ...] = tuple(s for s in QUESTIONS if s != Step.REPEAT)


class Problem(StrEnum):
    """Why an answer was refused; each has its own hint."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    CONTROL = "control"
    DATE_NOT_UNDERSTOOD = "date_not_understood"
    DATE_PAST = "date_past"
    DATE_TOO_FAR = "date_too_far"
    TIME_NOT_UNDERSTOOD = "time_not_understood"
    START_PAST = "start_past"
    END_NOT_UNDERSTOOD = "end_not_understood"
    END_NOT_AFTER_START = "end_not_after_start"
    END_TOO_LATE = "end_too_late"
    PLACES_NOT_NUMBER = "places_not_number"
    PLACES_RANGE = "places_range"
    DEADLINE_NOT_UNDERSTOOD = "deadline_not_understood"
    DEADLINE_NOT_BEFORE_START = "deadline_not_before_start"
    DEADLINE_PAST = "deadline_past"
    REPEAT_NOT_UNDERSTOOD = "repeat_not_understood"
    REPEAT_TOO_SOON = "repeat_too_soon"
    REPEAT_TOO_MANY = "repeat_too_many"
    REPEAT_SKIP_NOT_A_DATE = "repeat_skip_not_a_date"
    INCOMPLETE = "incomplete"


class DraftInvalid(ValueError):
    """An answer the draft cannot take; `problem` and `params` make the hint."""

    def __init__(self, problem: Problem, **params: Any) -> None:
        super().__init__(problem.value)
        self.problem = problem
        self.params = params


class DeadlineChoice(StrEnum):
    """Registration-deadline buttons; typed dates and times are also accepted."""

    NONE = "none"
    HOUR_BEFORE = "1h"
    DAY_BEFORE = "1d"
    TWO_DAYS_BEFORE = "2d"


DEADLINE_OFFSETS = {
    DeadlineChoice.HOUR_BEFORE: timedelta(hours=1),
    DeadlineChoice.DAY_BEFORE: timedelta(days=1),
    DeadlineChoice.TWO_DAYS_BEFORE: timedelta(days=2),
}


class RepeatChoice(StrEnum):
    """Repeat buttons: once, or every week for a number of weeks (`w8`)."""

    ONCE = "once"


REPEAT_WEEKS: tuple[int, ...] = (4, 8, 12)
# Typed instead of pressing "Only once".
ONCE_WORDS = frozenset(
    {"raz", "jeden raz", "tylko raz", "jednorazowo", "once", "only once", "один раз", "одноразово"}
)
REPEAT_PROBLEMS = {
    SeriesProblem.NOT_UNDERSTOOD: Problem.REPEAT_NOT_UNDERSTOOD,
    SeriesProblem.END_TOO_SOON: Problem.REPEAT_TOO_SOON,
    SeriesProblem.TOO_MANY: Problem.REPEAT_TOO_MANY,
    SeriesProblem.SKIP_NOT_A_DATE: Problem.REPEAT_SKIP_NOT_A_DATE,
}

# Typical answers offered as buttons.
TYPICAL_STARTS: tuple[str, ...] = ("10:00", "12:00", "15:00", "16:00", "17:00", "18:00")
TYPICAL_LENGTHS: tuple[int, ...] = (60, 90, 120, 180)  # minutes
