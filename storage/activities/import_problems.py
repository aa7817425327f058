"""What can be wrong with an imported spreadsheet: each problem with its row, in words the
chat translates and the command line prints in English."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ProblemKind(StrEnum):
    """What is wrong with a row or the file; the chat translates each, the CLI prints English."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    BAD_TIME = "bad_time"
    PLACES_RANGE = "places_range"
    PLACES_NOT_NUMBER = "places_not_number"
    ENDS_BEFORE_START = "ends_before_start"
    DEADLINE_AFTER_START = "deadline_after_start"
    DUPLICATE = "duplicate"
    FORMULA = "formula"
    HIDDEN_CHARACTER = "hidden_character"
    EMPTY_FILE = "empty_file"
    NO_ROWS = "no_rows"
    MISSING_COLUMNS = "missing_columns"
    NOT_UTF8 = "not_utf8"
    TOO_MANY_ROWS = "too_many_rows"
    BAD_DATE = "bad_date"
    SERIES_TOO_SHORT = "series_too_short"
    SERIES_TOO_LONG = "series_too_long"
    SKIP_NOT_A_DATE = "skip_not_a_date"


@dataclass(frozen=True)
class Problem:
    """One problem: its kind, the column and value concerned, a number (limit or line)."""

    kind: ProblemKind
    column: str = ""
    value: str = ""
    number: int = 0

    def english(self) -> str:
        """The problem in English, for the command line."""
        k, column, value, number = self.kind, self.column, self.value, self.number
        texts = {
            ProblemKind.EMPTY: f"{column} is empty",
            ProblemKind.TOO_LONG: f"{column} is longer than {number} characters",
            ProblemKind.BAD_TIME: f"{column}: '{value}' is not a date and time like "
            "2026-12-01 17:00",
            ProblemKind.PLACES_RANGE: f"places must be between 1 and {number}",
            ProblemKind.PLACES_NOT_NUMBER: f"places: '{value}' is not a whole number",
            ProblemKind.ENDS_BEFORE_START: "ends_at must be after starts_at",
            ProblemKind.DEADLINE_AFTER_START: "registration_deadline must not be after starts_at",
            ProblemKind.DUPLICATE: f"the same activity as line {number}",
            ProblemKind.FORMULA: f"{column} holds a formula; type the value itself",
            ProblemKind.HIDDEN_CHARACTER: f"{column} contains a control or invisible "
            f"formatting character ({value}); remove it",
            ProblemKind.EMPTY_FILE: "the file is empty",
            ProblemKind.NO_ROWS: "the file has a header but no activities",
            ProblemKind.MISSING_COLUMNS: f"missing column(s): {column} (header: {value})",
            ProblemKind.NOT_UTF8: "the file is not UTF-8 text; save it as 'CSV UTF-8' and "
            "try again",
            ProblemKind.TOO_MANY_ROWS: f"the file has more than {number} rows; split it",
            ProblemKind.BAD_DATE: f"{column}: '{value}' is not a date like 2027-06-30",
            ProblemKind.SERIES_TOO_SHORT: "repeat_until must be at least a week after starts_at",
            ProblemKind.SERIES_TOO_LONG: f"a weekly series may have at most {number} dates",
            ProblemKind.SKIP_NOT_A_DATE: f"skip_dates: {value} is not a date of this series",
        }
        return texts[k]


@dataclass(frozen=True)
class RowError:
    """The problems of one line of the file (line 1 is the header)."""

    line: int
    problems: tuple[Problem, ...]

    @property
    def reason(self) -> str:
        """Every problem of the line, in English."""
        return "; ".join(p.english() for p in self.problems)

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


def file_error(
    kind: ProblemKind, *, column: str = "", value: str = "", number: int = 0
) -> RowError:
    """A problem with the whole file, reported on line 1."""
    return RowError(1, (Problem(kind, column, value, number),))


class ImportRejected(ValueError):
    """The file has problems; nothing was imported."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} problem(s)")
        self.errors = errors
