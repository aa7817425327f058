"""Check a spreadsheet of activities row by row: all rows or none.

Every row is checked before anything is written (storage.activities.import_writing
writes them); the caller gets each bad row with its line number and reason
(storage.activities.import_problems). Rows carry a stable key (title, start, venue), so
importing the same file again adds nothing twice.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from storage.activities.import_problems import (
    ImportRejected,
    Problem,
    ProblemKind,
    RowError,
    file_error,
)
from storage.activities.series import (
    MAX_DATES,
    SeriesInvalid,
    SeriesProblem,
    WeeklyRule,
    activity_key,
    expand,
)
from storage.text_rule import InvalidText, check_text, forbidden_character

REQUIRED = ("title", "category", "starts_at", "ends_at", "venue", "places")
# A row with `repeat_until` is a weekly series from starts_at to that day; `skip_dates`
# lists its dates that do not happen (public holidays are skipped anyway).
OPTIONAL = ("registration_deadline", "description", "repeat_until", "skip_dates")
MAX_PLACES = 10_000
# A programme year has a few hundred activities; more is a wrong file or a mistake.
MAX_ROWS = 3_000
_LIMITS = {"title": 200, "category": 100, "venue": 300, "description": 2000}
_LOCAL_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S")


@dataclass(frozen=True)
class ActivityRow:
    """One valid row, times in UTC."""

    line: int
    title: str
    category: str
    starts_at: datetime
    ends_at: datetime
    venue: str
    places: int
    registration_deadline: datetime | None
    description: str
    # A weekly series: its last day, the days it skips, and how many dates it has.
    repeat_until: date | None = None
    skip_dates: tuple[date, ...] = ()
    dates: int = 1

    @property
    def import_key(self) -> str:
        """Stable identity: the same activity in a re-imported file has the same key."""
        return activity_key(self.title, self.starts_at, self.venue)

    def weekly_rule(self, zone: ZoneInfo) -> WeeklyRule | None:
        """The series rule of a repeating row, None for a one-off activity."""
        if self.repeat_until is None:
            return None
        start = self.starts_at.astimezone(zone)
        end = self.ends_at.astimezone(zone)
        minutes = int((end.replace(tzinfo=None) - start.replace(tzinfo=None)).total_seconds() // 60)
        return WeeklyRule(start.date(), self.repeat_until, start.time(), minutes, self.skip_dates)


def parse_time(raw: str, zone: ZoneInfo) -> datetime:
    """A local `2026-12-01 17:00` (or `01.12.2026 17:00`, or ISO 8601) as an aware UTC time."""
    text = raw.strip()
    parsed: datetime | None = None
    for fmt in _LOCAL_FORMATS:
        try:
            parsed = datetime.strptime(text, fmt)
            break
        except ValueError:
            continue
    if parsed is None:
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"'{text}' is not a date and time like 2026-12-01 17:00") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRejected([file_error(ProblemKind.NOT_UTF8)]) from None


def _delimiter(header_line: str) -> str:
    # Polish Excel writes ';'; header names never contain either character.
    return ";" if header_line.count(";") > header_line.count(",") else ","


def parse_activities_csv(data: bytes | str, *, zone: ZoneInfo) -> list[ActivityRow]:
    """Check every row; return them all, or raise ImportRejected listing every problem."""
    rows, errors = check_records(*csv_records(data), zone=zone)
    if errors:
        raise ImportRejected(errors)
    return rows


def csv_records(data: bytes | str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and (line, cells) of a CSV export: UTF-8 with or without BOM, ',' or ';'."""
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    try:
        header = next(reader)
    except StopIteration:
        raise ImportRejected([file_error(ProblemKind.EMPTY_FILE)]) from None
    records: list[tuple[int, list[str]]] = []
    line = reader.line_num
    for record in reader:
        # A quoted cell may span lines: a row is numbered by the line it starts on.
        start_line, line = line + 1, reader.line_num
        records.append((start_line, record))
        if len(records) > MAX_ROWS:
            raise ImportRejected([file_error(ProblemKind.TOO_MANY_ROWS, number=MAX_ROWS)])
    return header, records


def check_records(
    header: Sequence[str], records: Iterable[tuple[int, Sequence[str]]], *, zone: ZoneInfo
) -> tuple[list[ActivityRow], list[RowError]]:
    """The one parser behind CSV and XLSX, CLI and chat: good rows and every bad row.

    A missing column, an empty or oversized file raises ImportRejected at once.
    """
    names = [h.strip().lower() for h in header]
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise ImportRejected(
            [
                file_error(
                    ProblemKind.MISSING_COLUMNS,
                    column=", ".join(missing),
                    value=", ".join(n for n in names if n),
                )
            ]
        )
    index = {name: names.index(name) for name in (*REQUIRED, *OPTIONAL) if name in names}
    rows: list[ActivityRow] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for count, (line, record) in enumerate(records, start=1):
        if count > MAX_ROWS:
            raise ImportRejected([file_error(ProblemKind.TOO_MANY_ROWS, number=MAX_ROWS)])
        if not any(cell.strip() for cell in record):
            continue  # spreadsheets often end with empty rows
        cells = {name: (record[i].strip() if i < len(record) else "") for name, i in index.items()}
        problems: list[Problem] = [
            Problem(ProblemKind.FORMULA, name)
            for name, value in cells.items()
            if value.startswith("=")
        ]
        row = None if problems else _check_row(line, cells, zone, problems)
        if row is not None:
            earlier = seen.get(row.import_key)
            if earlier is not None:
                problems.append(Problem(ProblemKind.DUPLICATE, number=earlier))
            seen.setdefault(row.import_key, line)
        if problems:
            errors.append(RowError(line, tuple(problems)))
        elif row is not None:
            rows.append(row)
    if not rows and not errors:
        raise ImportRejected([file_error(ProblemKind.NO_ROWS)])
    return rows, errors


def _check_row(
    line: int, cells: dict[str, str], zone: ZoneInfo, problems: list[Problem]
) -> ActivityRow | None:
    for name in ("title", "category", "venue", "starts_at", "ends_at", "places"):
        if not cells.get(name):
            problems.append(Problem(ProblemKind.EMPTY, name))
    for name, value in list(cells.items()):
        # The text rule every stored text follows (and PostgreSQL cannot store NUL).
        char = forbidden_character(value, multiline=True)
        if char is not None:
            problems.append(Problem(ProblemKind.HIDDEN_CHARACTER, name, f"U+{ord(char):04X}"))
            cells[name] = ""
    for name, limit in _LIMITS.items():
        try:
            cells[name] = check_text(
                cells.get(name, ""), limit=limit, multiline=name == "description", required=False
            )
        except InvalidText:
            problems.append(Problem(ProblemKind.TOO_LONG, name, number=limit))
    times: dict[str, datetime | None] = {}
    for name in ("starts_at", "ends_at", "registration_deadline"):
        value = cells.get(name, "")
        times[name] = None
        if value:
            try:
                times[name] = parse_time(value, zone)
            except ValueError:
                problems.append(Problem(ProblemKind.BAD_TIME, name, value[:40]))
    places = 0
    if cells.get("places"):
        try:
            places = int(cells["places"])
            if not 1 <= places <= MAX_PLACES:
                problems.append(Problem(ProblemKind.PLACES_RANGE, number=MAX_PLACES))
        except ValueError:
            problems.append(Problem(ProblemKind.PLACES_NOT_NUMBER, value=cells["places"][:40]))
    starts, ends, deadline = times["starts_at"], times["ends_at"], times["registration_deadline"]
    if starts and ends and ends <= starts:
        problems.append(Problem(ProblemKind.ENDS_BEFORE_START))
    if starts and deadline and deadline > starts:
        problems.append(Problem(ProblemKind.DEADLINE_AFTER_START))
    repeat_until = _date_cell(cells, "repeat_until", problems)
    skip_dates = _skip_dates(cells, problems)
    if problems or starts is None or ends is None:
        return None
    row = ActivityRow(
        line=line,
        title=cells["title"],
        category=cells["category"],
        starts_at=starts,
        ends_at=ends,
        venue=cells["venue"],
        places=places,
        registration_deadline=deadline,
        description=cells.get("description", ""),
        repeat_until=repeat_until,
        skip_dates=skip_dates,
    )
    rule = row.weekly_rule(zone)
    if rule is None:
        return row
    try:
        count = len(expand(rule, zone=zone).dates)
    except SeriesInvalid as invalid:
        problems.append(_series_problem(invalid))
        return None
    return replace(row, dates=count)


_SERIES_PROBLEMS = {
    SeriesProblem.END_TOO_SOON: ProblemKind.SERIES_TOO_SHORT,
    SeriesProblem.TOO_MANY: ProblemKind.SERIES_TOO_LONG,
    SeriesProblem.SKIP_NOT_A_DATE: ProblemKind.SKIP_NOT_A_DATE,
}


def _series_problem(invalid: SeriesInvalid) -> Problem:
    day = invalid.params.get("day")
    return Problem(
        _SERIES_PROBLEMS.get(invalid.problem, ProblemKind.BAD_DATE),
        "repeat_until",
        day.isoformat() if isinstance(day, date) else "",
        MAX_DATES,
    )


_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M")


def parse_day(raw: str) -> date:
    """A calendar day written `2027-06-30` or `30.06.2027` (a real date cell's midnight too)."""
    text = raw.strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def _date_cell(cells: dict[str, str], name: str, problems: list[Problem]) -> date | None:
    value = cells.get(name, "")
    if not value:
        return None
    try:
        return parse_day(value)
    except ValueError:
        problems.append(Problem(ProblemKind.BAD_DATE, name, value[:40]))
        return None


# Commas, semicolons or spaces, but not the space before a real date cell's `00:00`.
_SKIP_SEPARATOR = re.compile(r"[,;]+\s*|\s+(?!\d{1,2}:\d{2})")


def _skip_dates(cells: dict[str, str], problems: list[Problem]) -> tuple[date, ...]:
    days: list[date] = []
    for part in _SKIP_SEPARATOR.split(cells.get("skip_dates", "")):
        if not part:
            continue
        try:
            days.append(parse_day(part))
        except ValueError:
            problems.append(Problem(ProblemKind.BAD_DATE, "skip_dates", part[:40]))
    return tuple(days)
