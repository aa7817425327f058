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
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from evaluation.tables import Cell, Sheet, Style
from storage.text_rule import spreadsheet_cell

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
_WRAP = Alignment(wrap_text=True, vertical="top")
_ALIGN = {Style.HEADER: _WRAP, Style.HIDDEN: Alignment(horizontal="right")}


def write_workbook(sheets: Iterable[Sheet], path: Path | io.BytesIO) -> None:
    """Write the sheets into one XLSX file (or buffer), streaming rows (write-only mode)."""
    # Write-only mode keeps memory flat and is several times faster for the row-level
    # sheet (tens of thousands of rows); styles go on the cells that need them.
    book = Workbook(write_only=True)
    for sheet in sheets:
        ws = book.create_sheet(title=sheet.title[:31])
        for column, width in sheet.widths.items():
            ws.column_dimensions[get_column_letter(column + 1)].width = width
        if sheet.frozen_rows or sheet.frozen_columns:
            ws.freeze_panes = (
                f"{get_column_letter(sheet.frozen_columns + 1)}{sheet.frozen_rows + 1}"
            )
        for row in sheet.rows:
            ws.append([_cell(ws, cell) for cell in row])
    if isinstance(path, Path):
        path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


def _cell(ws: Any, cell: Cell) -> Any:
    value = cell.value
    if value is None:
        return None
    if cell.style is Style.PERCENT and isinstance(value, int | float):
        value = value / 100
    if isinstance(value, str):
        value = spreadsheet_cell(value)
    fmt = NUMBER_FORMATS.get(cell.style) if isinstance(value, int | float) else None
    font = _FONTS.get(cell.style)
    alignment = _ALIGN.get(cell.style)
    if cell.style is Style.TEXT and isinstance(value, str) and len(value) > 60:
        alignment = _WRAP
    if fmt is None and font is None and alignment is None:
        return value
    out = WriteOnlyCell(ws, value=value)
    if fmt is not None:
        out.number_format = fmt
    if font is not None:
        out.font = font
    if alignment is not None:
        out.alignment = alignment
    if cell.style is Style.HEADER:
        out.fill = _HEADER_FILL
    return out


def csv_value(cell: Cell) -> str:
    """A cell as CSV text: dot decimals, percentages in percent units, symbols as is."""
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, str):
        return spreadsheet_cell(value)
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
