"""Writers: the XLSX workbook (openpyxl) and one CSV file per sheet.

Numbers stay numbers (percentages as Excel percentages, p-values with their own
format); symbols such as `<5` and `x` are text, right-aligned like the numbers they
replace. Headers are bold, columns sized, the title and header rows frozen.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from evaluation.tables import Cell, Sheet, Style

NUMBER_FORMATS = {
    Style.COUNT: "#,##0",
    Style.DECIMAL: "0.00",
    Style.PERCENT: "0.0%",
    # Tiny p-values read as "<0.0001" instead of a misleading 0.0000.
    Style.PVALUE: '[<0.0001]"<0.0001";0.0000',
}
_HEADER_FILL = PatternFill("solid", start_color="FFDDE7F0", end_color="FFDDE7F0")
_FONTS = {
    Style.TITLE: Font(bold=True, size=14),
    Style.SUBTITLE: Font(italic=True),
    Style.HEADER: Font(bold=True),
    Style.SECTION: Font(bold=True),
    Style.NOTE: Font(italic=True, color="FF555555"),
}
# Characters a spreadsheet would run as a formula if a text cell started with them.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe_text(value: str) -> str:
    # Category names are typed by animators: never let one become a formula.
    return "'" + value if value.startswith(_FORMULA_START) else value


def write_workbook(sheets: Iterable[Sheet], path: Path | io.BytesIO) -> None:
    """Write the sheets into one XLSX file (or buffer)."""
    book = Workbook()
    default = book.active
    for sheet in sheets:
        ws = book.create_sheet(title=sheet.title[:31])
        for r, row in enumerate(sheet.rows, start=1):
            for c, cell in enumerate(row, start=1):
                _write_cell(ws.cell(row=r, column=c), cell)
        for column, width in sheet.widths.items():
            ws.column_dimensions[get_column_letter(column + 1)].width = width
        if sheet.frozen_rows or sheet.frozen_columns:
            ws.freeze_panes = ws.cell(row=sheet.frozen_rows + 1,
                                      column=sheet.frozen_columns + 1)
    if default is not None and len(book.sheetnames) > 1:
        book.remove(default)
    if isinstance(path, Path):
        path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


def _write_cell(target: object, cell: Cell) -> None:
    value = cell.value
    if value is None:
        return
    if cell.style is Style.PERCENT and isinstance(value, int | float):
        value = value / 100
    if isinstance(value, str):
        value = _safe_text(value)
    target.value = value  # type: ignore[attr-defined]
    fmt = NUMBER_FORMATS.get(cell.style)
    if fmt and isinstance(value, int | float):
        target.number_format = fmt  # type: ignore[attr-defined]
    font = _FONTS.get(cell.style)
    if font is not None:
        target.font = font  # type: ignore[attr-defined]
    if cell.style is Style.HEADER:
        target.fill = _HEADER_FILL  # type: ignore[attr-defined]
        target.alignment = Alignment(wrap_text=True, vertical="top")  # type: ignore[attr-defined]
    elif cell.style is Style.HIDDEN:
        target.alignment = Alignment(horizontal="right")  # type: ignore[attr-defined]
    elif cell.style is Style.TEXT and isinstance(value, str) and len(value) > 60:
        target.alignment = Alignment(wrap_text=True, vertical="top")  # type: ignore[attr-defined]


def csv_value(cell: Cell) -> str:
    """A cell as CSV text: dot decimals, percentages in percent units, symbols as is."""
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, str):
        return _safe_text(value)
    if isinstance(value, int):
        return str(value)
    if cell.style is Style.PVALUE:
        return f"{value:.4g}"
    if cell.style is Style.PERCENT:
        return f"{value:.1f}"
    return f"{round(value, 4):g}"


def write_csv(sheets: Iterable[Sheet], folder: Path) -> list[Path]:
    """One UTF-8 CSV per sheet (`indicators.csv`, …); returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for sheet in sheets:
        path = folder / f"{sheet.key}.csv"
        # utf-8-sig: Excel opens Polish and Ukrainian letters correctly only with a BOM.
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            for row in sheet.rows:
                writer.writerow([csv_value(c) for c in row])
        written.append(path)
    return written
