"""Spreadsheets as people send them: XLSX and CSV through the one parser, and bad files."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from storage.activities.import_problems import ProblemKind
from storage.activities.sheets import (
    SheetKind,
    SheetProblem,
    SheetRefused,
    read_activity_sheet,
    template_csv,
    template_xlsx,
)
from tests.support.workbooks import xlsx

ZONE = ZoneInfo("Europe/Warsaw")
HEADER = [
    "title",
    "category",
    "starts_at",
    "ends_at",
    "venue",
    "places",
    "registration_deadline",
    "description",
]


def _xlsx(rows: list[list[object]], header: list[str] = HEADER) -> bytes:
    return xlsx(header, rows)


def _refusal(data: bytes, name: str, **kw: int) -> SheetProblem:
    with pytest.raises(SheetRefused) as caught:
        read_activity_sheet(data, file_name=name, zone=ZONE, **kw)
    return caught.value.problem


def test_xlsx_with_real_dates_and_numbers() -> None:
    start = datetime(2026, 12, 1, 17, 0)
    data = _xlsx(
        [
            [
                "Klub seniora",
                "Spotkania",
                start,
                datetime(2026, 12, 1, 19, 0),
                "Świetlica",
                15.0,
                datetime(2026, 11, 30, 12, 0),
                "Herbata",
            ],
            [
                "Komputer",
                "Warsztaty",
                "02.12.2026 10:00",
                "2026-12-02 12:00",
                "Biblioteka",
                8,
                None,
                None,
            ],
            [None, None, None, None, None, None, None, None],
        ]
    )
    sheet = read_activity_sheet(data, file_name="Zajęcia.XLSX", zone=ZONE)
    assert sheet.kind is SheetKind.XLSX and sheet.errors == []
    first, second = sheet.rows
    assert first.starts_at == datetime(2026, 12, 1, 16, 0, tzinfo=UTC)  # 17:00 in Warsaw
    assert first.places == 15 and first.registration_deadline is not None
    assert (second.line, second.places, second.description) == (3, 8, "")


def test_xlsx_bad_rows_by_line_and_formulas() -> None:
    start = datetime(2026, 12, 1, 17, 0)
    data = _xlsx(
        [
            ["Klub", "Spotkania", start, datetime(2026, 12, 1, 19, 0), "Świetlica", 15],
            ["Klub", "", start, datetime(2026, 12, 1, 16, 0), "Świetlica 2", "dużo"],
            ["Suma", "Spotkania", start, datetime(2026, 12, 1, 19, 0), "Sala", "=2*5"],
            ["Klub", "Spotkania", start, datetime(2026, 12, 1, 19, 0), "Świetlica", 15],
        ]
    )
    sheet = read_activity_sheet(data, file_name="a.xlsx", zone=ZONE)
    assert [r.line for r in sheet.rows] == [2]
    by_line = {e.line: [p.kind for p in e.problems] for e in sheet.errors}
    assert by_line == {
        3: [ProblemKind.EMPTY, ProblemKind.PLACES_NOT_NUMBER, ProblemKind.ENDS_BEFORE_START],
        4: [ProblemKind.FORMULA],
        5: [ProblemKind.DUPLICATE],
    }
    assert sheet.errors[1].problems[0].column == "places"
    assert sheet.errors[2].problems[0].number == 2


def test_csv_from_polish_excel_with_bom_and_semicolons() -> None:
    text = (
        "\ufefftitle;category;starts_at;ends_at;venue;places\r\n"
        "Klub;Spotkania;01.12.2026 17:00;01.12.2026 19:00;Świetlica;15\r\n"
        "Zły;Spotkania;jutro;01.12.2026 19:00;Świetlica;15\r\n"
        'Formuła;Spotkania;01.12.2026 17:00;01.12.2026 19:00;=HYPERLINK("x");15\r\n'
    )
    sheet = read_activity_sheet(text.encode(), file_name="zajecia.csv", zone=ZONE)
    assert sheet.kind is SheetKind.CSV and [r.title for r in sheet.rows] == ["Klub"]
    assert [(e.line, e.problems[0].kind) for e in sheet.errors] == [
        (3, ProblemKind.BAD_TIME),
        (4, ProblemKind.FORMULA),
    ]
    assert "jutro" in str(sheet.errors[0])


def test_missing_columns_and_empty_files_are_reported_on_line_one() -> None:
    sheet = read_activity_sheet(b"name;date\nx;y\n", file_name="a.csv", zone=ZONE)
    assert [(e.line, e.problems[0].kind) for e in sheet.errors] == [
        (1, ProblemKind.MISSING_COLUMNS)
    ]
    empty = read_activity_sheet(b"", file_name="a.csv", zone=ZONE)
    assert empty.errors[0].problems[0].kind is ProblemKind.EMPTY_FILE
    header_only = read_activity_sheet(_xlsx([]), file_name="a.xlsx", zone=ZONE)
    assert header_only.errors[0].problems[0].kind is ProblemKind.NO_ROWS
    latin = read_activity_sheet("title;Zażółć\n".encode("cp1250"), file_name="a.csv", zone=ZONE)
    assert latin.errors[0].problems[0].kind is ProblemKind.NOT_UTF8


def test_large_broken_and_foreign_files_are_refused() -> None:
    assert _refusal(b"x" * 2_000_001, "a.csv") is SheetProblem.TOO_LARGE
    assert _refusal(b"x" * 101, "a.csv", max_bytes=100) is SheetProblem.TOO_LARGE
    assert _refusal(b"%PDF-1.4", "umowa.pdf") is SheetProblem.NOT_SPREADSHEET
    assert _refusal(b"\x89PNG\x00\x00", "a.csv") is SheetProblem.NOT_SPREADSHEET
    assert _refusal(b"\xd0\xcf\x11\xe0", "stary.xls") is SheetProblem.OLD_FORMAT
    assert _refusal(b"not a zip at all", "a.xlsx") is SheetProblem.BROKEN
    plain_zip = io.BytesIO()
    with zipfile.ZipFile(plain_zip, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert _refusal(plain_zip.getvalue(), "a.xlsx") is SheetProblem.BROKEN
    # A valid zip skeleton whose workbook part is garbage.
    garbage = io.BytesIO()
    with zipfile.ZipFile(garbage, "w") as archive:
        archive.writestr("[Content_Types].xml", "<x/>")
        archive.writestr("xl/workbook.xml", "<<<")
    assert _refusal(garbage.getvalue(), "a.xlsx") is SheetProblem.BROKEN


def test_a_zip_bomb_is_refused_before_openpyxl_opens_it() -> None:
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * 40_000_000)
    data = bomb.getvalue()
    assert len(data) < 100_000  # small to send, 40 MB to unpack
    assert _refusal(data, "a.xlsx") is SheetProblem.UNPACKS_TOO_LARGE


def test_templates_read_back_without_problems() -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    for name, data in (("t.csv", template_csv(ZONE, now)), ("t.xlsx", template_xlsx(ZONE, now))):
        sheet = read_activity_sheet(data, file_name=name, zone=ZONE)
        assert sheet.errors == [] and len(sheet.rows) == 2, name
        assert all(r.starts_at > now for r in sheet.rows)
        # The first example is a weekly series of twelve weeks without its fifth date.
        assert [r.dates for r in sheet.rows] == [11, 1], name
    assert template_csv(ZONE, now).startswith("\ufefftitle;category".encode())
