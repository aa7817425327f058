"""Spreadsheets as people send them: an XLSX workbook of one sheet, built with openpyxl."""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook


def xlsx(header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    """An XLSX file: the header, then the rows (dates as real date cells)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
