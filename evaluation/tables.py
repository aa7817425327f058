"""The report as plain tables: what the workbook, the CSV files and the chat all render.

Cells carry a style that says what the value is (a count, a percentage, a p-value, a
hidden count…), so each writer formats numbers as numbers and symbols as text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from evaluation.disclosure import Hidden


class Style(StrEnum):
    """What a cell holds, which decides its format."""

    TITLE = "title"
    SUBTITLE = "subtitle"
    HEADER = "header"
    SECTION = "section"
    TEXT = "text"
    NOTE = "note"
    COUNT = "count"
    DECIMAL = "decimal"
    PERCENT = "percent"
    PVALUE = "pvalue"
    HIDDEN = "hidden"


CellValue = str | int | float | None


@dataclass(frozen=True)
class Cell:
    """One cell: a value and what kind of value it is."""

    value: CellValue
    style: Style = Style.TEXT


def text(value: str | None, style: Style = Style.TEXT) -> Cell:
    """A text cell."""
    return Cell(value, style)


def count(value: int | Hidden | None) -> Cell:
    """A count, or the symbol that replaces it."""
    if isinstance(value, Hidden):
        return Cell(value.symbol, Style.HIDDEN)
    return Cell(value, Style.COUNT)


def number(value: float | Hidden | None, style: Style = Style.DECIMAL) -> Cell:
    """A decimal, percentage (in percent units) or p-value; None stays empty."""
    if isinstance(value, Hidden):
        return Cell(value.symbol, Style.HIDDEN)
    return Cell(value, style)


Row = list[Cell]


@dataclass
class Sheet:
    """One sheet of the workbook (and one CSV file)."""

    key: str
    title: str
    rows: list[Row] = field(default_factory=list)
    # Rows from the top that stay visible when scrolling (title and table header).
    frozen_rows: int = 0
    frozen_columns: int = 0
    widths: dict[int, int] = field(default_factory=dict)

    def add(self, *cells: Cell) -> None:
        """Append a row."""
        self.rows.append(list(cells))

    def blank(self) -> None:
        """Append an empty row."""
        self.rows.append([])

    def texts(self) -> list[str]:
        """Every cell as text (for tests that scan outputs)."""
        return [str(c.value) for row in self.rows for c in row if c.value is not None]
