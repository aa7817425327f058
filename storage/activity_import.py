"""Import a programme's activities from a spreadsheet export (CSV): all rows or none.

Every row is checked before anything is written; the caller gets each bad row with its
line number and reason. Rows carry a stable key (title, start, venue), so importing the
same file again adds nothing twice.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from storage.activities import programme_by_name
from storage.models import Activity, Programme
from storage.text_rule import InvalidText, check_text, forbidden_character

REQUIRED = ("title", "category", "starts_at", "ends_at", "venue", "places")
OPTIONAL = ("registration_deadline", "description")
MAX_PLACES = 10_000
_LIMITS = {"title": 200, "category": 100, "venue": 300, "description": 2000}
_LOCAL_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S")


@dataclass(frozen=True)
class RowError:
    """A problem with one line of the file (line 1 is the header)."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class ImportRejected(ValueError):
    """The file has problems; nothing was imported."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} problem(s)")
        self.errors = errors


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

    @property
    def import_key(self) -> str:
        """Stable identity: the same activity in a re-imported file has the same key."""
        raw = "\x1f".join(
            (self.title.casefold(), self.starts_at.isoformat(), self.venue.casefold())
        )
        return hashlib.sha256(raw.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class ImportResult:
    """What an import did."""

    programme: Programme
    programme_created: bool
    added: int
    already_present: int


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
            raise ValueError(
                f"'{text}' is not a date and time like 2026-12-01 17:00"
            ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRejected(
            [RowError(1, "the file is not UTF-8 text; save it as 'CSV UTF-8' and try again")]
        ) from None


def _delimiter(header_line: str) -> str:
    # Polish Excel writes ';'; header names never contain either character.
    return ";" if header_line.count(";") > header_line.count(",") else ","


def parse_activities_csv(data: bytes | str, *, zone: ZoneInfo) -> list[ActivityRow]:
    """Check every row; return them all, or raise ImportRejected listing every problem."""
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    try:
        header = next(reader)
    except StopIteration:
        raise ImportRejected([RowError(1, "the file is empty")]) from None
    names = [h.strip().lower() for h in header]
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise ImportRejected(
            [RowError(1, f"missing column(s): {', '.join(missing)} (header: {', '.join(names)})")]
        )
    index = {name: names.index(name) for name in (*REQUIRED, *OPTIONAL) if name in names}
    rows: list[ActivityRow] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    line = reader.line_num
    for record in reader:
        start_line, line = line + 1, reader.line_num
        if not any(cell.strip() for cell in record):
            continue  # spreadsheets often end with empty rows
        cells = {name: (record[i].strip() if i < len(record) else "") for name, i in index.items()}
        problems: list[str] = []
        row = _check_row(start_line, cells, zone, problems)
        if row is not None:
            earlier = seen.get(row.import_key)
            if earlier is not None:
                problems.append(f"the same activity as line {earlier}")
            seen.setdefault(row.import_key, start_line)
        if problems:
            errors.append(RowError(start_line, "; ".join(problems)))
        elif row is not None:
            rows.append(row)
    if errors:
        raise ImportRejected(errors)
    if not rows:
        raise ImportRejected([RowError(1, "the file has a header but no activities")])
    return rows


def _check_row(
    line: int, cells: dict[str, str], zone: ZoneInfo, problems: list[str]
) -> ActivityRow | None:
    for name in ("title", "category", "venue", "starts_at", "ends_at", "places"):
        if not cells.get(name):
            problems.append(f"{name} is empty")
    for name, value in list(cells.items()):
        # The text rule every stored text follows (and PostgreSQL cannot store NUL).
        char = forbidden_character(value, multiline=True)
        if char is not None:
            problems.append(f"{name} contains a control or invisible formatting character "
                            f"(U+{ord(char):04X}); remove it")
            cells[name] = ""
    for name, limit in _LIMITS.items():
        value = cells.get(name, "")
        try:
            cells[name] = check_text(value, limit=limit, multiline=name == "description",
                                     required=False)
        except InvalidText:
            problems.append(f"{name} is longer than {limit} characters")
    times: dict[str, datetime | None] = {}
    for name in ("starts_at", "ends_at", "registration_deadline"):
        value = cells.get(name, "")
        times[name] = None
        if value:
            try:
                times[name] = parse_time(value, zone)
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
    places = 0
    if cells.get("places"):
        try:
            places = int(cells["places"])
            if not 1 <= places <= MAX_PLACES:
                problems.append(f"places must be between 1 and {MAX_PLACES}")
        except ValueError:
            problems.append(f"places: '{cells['places']}' is not a whole number")
    starts, ends, deadline = times["starts_at"], times["ends_at"], times["registration_deadline"]
    if starts and ends and ends <= starts:
        problems.append("ends_at must be after starts_at")
    if starts and deadline and deadline > starts:
        problems.append("registration_deadline must not be after starts_at")
    if problems or starts is None or ends is None:
        return None
    return ActivityRow(
        line=line,
        title=cells["title"],
        category=cells["category"],
        starts_at=starts,
        ends_at=ends,
        venue=cells["venue"],
        places=places,
        registration_deadline=deadline,
        description=cells.get("description", ""),
    )


def import_activities(
    session: Session, *, programme_name: str, rows: list[ActivityRow], now: datetime
) -> ImportResult:
    """Add the rows to the programme (created if missing); rows already present are skipped.

    The programme stays open for sign-ups until the start of its last activity.
    """
    try:
        name = check_text(programme_name, limit=200)
    except InvalidText as exc:
        raise ValueError("the programme name must have 1 to 200 characters, without control "
                         "or invisible formatting characters") from exc
    programme = programme_by_name(session, name)
    created = programme is None
    if programme is None:
        programme = Programme(name=name, created_at=now)
        session.add(programme)
        session.flush()
    assert programme.id is not None
    keys = set(
        session.exec(
            select(Activity.import_key).where(Activity.programme_id == programme.id)
        ).all()
    )
    added = 0
    for row in rows:
        if row.import_key in keys:
            continue
        session.add(
            Activity(
                programme_id=programme.id,
                title=row.title,
                category=row.category,
                description=row.description,
                venue=row.venue,
                starts_at=row.starts_at,
                ends_at=row.ends_at,
                places=row.places,
                registration_deadline=row.registration_deadline,
                import_key=row.import_key,
                created_at=now,
                updated_at=now,
            )
        )
        keys.add(row.import_key)
        added += 1
    last_start = max(row.starts_at for row in rows)
    if programme.signup_open_until is None or programme.signup_open_until < last_start:
        programme.signup_open_until = last_start
        session.add(programme)
    session.flush()
    return ImportResult(programme, created, added, len(rows) - added)
