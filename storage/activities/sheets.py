"""Spreadsheets of activities as people send them: CSV or XLSX bytes in, checked rows out.

Both formats end in storage.activities.importing.check_records, the one parser the command
line shares. Files are refused before any parsing when they are too large, not a
spreadsheet, or an XLSX whose zip would unpack to far more than it weighs (a zip bomb);
cells holding formulas are bad rows, as their values are not what the file shows.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from storage.activities.import_problems import ImportRejected, ProblemKind, RowError, file_error
from storage.activities.importing import (
    MAX_ROWS,
    OPTIONAL,
    REQUIRED,
    ActivityRow,
    check_records,
    csv_records,
)

DEFAULT_MAX_BYTES = 2_000_000
# An XLSX of a few thousand rows unpacks to a few MB; anything far beyond is refused
# before openpyxl sees it. zipfile stops each member at its declared size, so the
# declared sizes checked here are the most that can ever be unpacked.
MAX_UNPACKED_BYTES = 25_000_000
MAX_ZIP_MEMBERS = 200
MAX_COLUMNS = 30
COLUMNS = (*REQUIRED, *OPTIONAL)


class SheetKind(StrEnum):
    """The formats we read."""

    CSV = "csv"
    XLSX = "xlsx"


class SheetProblem(StrEnum):
    """Why a file was refused as a whole (nothing was read from it)."""

    TOO_LARGE = "too_large"
    NOT_SPREADSHEET = "not_spreadsheet"
    OLD_FORMAT = "old_format"  # .xls, .ods, .numbers: save as XLSX or CSV
    BROKEN = "broken"
    UNPACKS_TOO_LARGE = "unpacks_too_large"


class SheetRefused(Exception):
    """The file cannot be read; `problem` says why."""

    def __init__(self, problem: SheetProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


@dataclass(frozen=True)
class ParsedSheet:
    """Every good row and every bad row of a file."""

    kind: SheetKind
    rows: list[ActivityRow]
    errors: list[RowError]


_OLD_FORMATS = (".xls", ".ods", ".numbers", ".xlsb", ".xlsm")


def sheet_kind(file_name: str) -> SheetKind:
    """The format by the file's name; SheetRefused for anything else."""
    name = file_name.strip().lower()
    if name.endswith(".csv"):
        return SheetKind.CSV
    if name.endswith(".xlsx"):
        return SheetKind.XLSX
    if name.endswith(_OLD_FORMATS):
        raise SheetRefused(SheetProblem.OLD_FORMAT)
    raise SheetRefused(SheetProblem.NOT_SPREADSHEET)


def read_activity_sheet(
    data: bytes, *, file_name: str, zone: ZoneInfo, max_bytes: int = DEFAULT_MAX_BYTES
) -> ParsedSheet:
    """Check a CSV or XLSX file: its good rows and every bad row by line."""
    if len(data) > max_bytes:
        raise SheetRefused(SheetProblem.TOO_LARGE)
    kind = sheet_kind(file_name)
    try:
        if kind is SheetKind.CSV:
            if b"\x00" in data[:4096]:
                raise SheetRefused(SheetProblem.NOT_SPREADSHEET)  # a binary file named .csv
            rows, errors = check_records(*csv_records(data), zone=zone)
        else:
            rows, errors = check_records(*xlsx_records(data), zone=zone)
    except ImportRejected as rejected:
        return ParsedSheet(kind, [], rejected.errors)
    return ParsedSheet(kind, rows, errors)


def check_zip(data: bytes) -> None:
    """Refuse an XLSX that is not a zip, is not a workbook, or would unpack too large."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise SheetRefused(SheetProblem.BROKEN) from None
    names = {m.filename for m in members}
    if "xl/workbook.xml" not in names:
        raise SheetRefused(SheetProblem.BROKEN)
    if len(members) > MAX_ZIP_MEMBERS or sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
        raise SheetRefused(SheetProblem.UNPACKS_TOO_LARGE)


def xlsx_records(data: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and (line, cells) of the first sheet of a workbook, as text."""
    check_zip(data)
    # openpyxl loads only when a workbook arrives: `palbot run` starts without it.
    from openpyxl import load_workbook

    try:
        # data_only=False: a formula comes back as its text ("=A1+1") and is refused.
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds (KeyError, ValueError, XML errors)
        raise SheetRefused(SheetProblem.BROKEN) from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise SheetRefused(SheetProblem.BROKEN)
        rows = sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)
        header: list[str] | None = None
        records: list[tuple[int, list[str]]] = []
        for line, values in enumerate(rows, start=1):
            cells = [_cell_text(v) for v in values]
            if header is None:
                header = cells
                continue
            records.append((line, cells))
            if len(records) > MAX_ROWS:
                break  # check_records reports the row limit
    except SheetRefused:
        raise
    except Exception:
        raise SheetRefused(SheetProblem.BROKEN) from None
    finally:
        book.close()
    if header is None:
        raise ImportRejected([file_error(ProblemKind.EMPTY_FILE)])
    return header, records


def _cell_text(value: Any) -> str:
    """A cell as the text the parser reads: real dates as `2026-12-01 17:00`."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S" if value.second else "%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _examples(zone: ZoneInfo, now: datetime) -> list[list[Any]]:
    first = (now.astimezone(zone) + timedelta(days=14)).replace(
        hour=17, minute=0, second=0, microsecond=0, tzinfo=None
    )
    return [
        [
            "Klub seniora",
            "Spotkania",
            first,
            first + timedelta(hours=2),
            "Świetlica, ul. Lipowa 3",
            15,
            first - timedelta(days=1),
            "Herbata i rozmowy",
            # Every week for twelve weeks, without the fifth date.
            (first + timedelta(weeks=11)).date(),
            (first + timedelta(weeks=4)).date(),
        ],
        [
            "Komputer bez tajemnic",
            "Warsztaty",
            first + timedelta(days=2, hours=-7),
            first + timedelta(days=2, hours=-5),
            "Biblioteka, ul. Polna 1",
            8,
            None,
            "",
            None,
            None,
        ],
    ]


def template_csv(zone: ZoneInfo, now: datetime) -> bytes:
    """The import template as CSV with two example rows (UTF-8 with BOM, for Excel)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(COLUMNS)
    for row in _examples(zone, now):
        writer.writerow(
            [
                v.strftime("%Y-%m-%d %H:%M")
                if isinstance(v, datetime)
                else v.isoformat()
                if isinstance(v, date)
                else ""
                if v is None
                else v
                for v in row
            ]
        )
    return ("\ufeff" + out.getvalue()).encode()


def template_xlsx(zone: ZoneInfo, now: datetime) -> bytes:
    """The import template as XLSX with two example rows and real date cells."""
    # openpyxl loads only when someone asks for the template.
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "activities"
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in _examples(zone, now):
        sheet.append(row)
    for row_cells in sheet.iter_rows(min_row=2):
        for cell in row_cells:
            if isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
    widths = (24, 14, 18, 18, 28, 8, 22, 30, 14, 14)
    for letter, width in zip("ABCDEFGHIJ", widths, strict=True):
        sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
