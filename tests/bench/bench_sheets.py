"""Spreadsheet check benchmark: the largest file the chat accepts, parsed as it arrives.

    .venv/bin/python -m tests.bench.bench_sheets              # 3,000 rows (the row limit)
    .venv/bin/python -m tests.bench.bench_sheets --rows 500

Builds an XLSX (real date cells) and a CSV (Polish Excel: BOM, ';') of N activities and
times `read_activity_sheet` on each (best of 3), plus the zip-bomb refusal, which must
cost next to nothing since it happens before openpyxl opens the file. Prints the file
sizes against PALBOT_SPREADSHEET_MAX_BYTES' default (2 MB).
"""

from __future__ import annotations

import argparse
import csv
import io
import time
import zipfile
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from storage.activities.sheets import (
    DEFAULT_MAX_BYTES,
    SheetRefused,
    read_activity_sheet,
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


def _rows(n: int) -> list[list[object]]:
    start = datetime(2027, 1, 4, 17, 0)
    return [
        [
            f"Zajęcia {i}",
            "Spotkania",
            start + timedelta(hours=i),
            start + timedelta(hours=i, minutes=90),
            f"Świetlica {i % 7}",
            10 + i % 20,
            start + timedelta(hours=i - 24),
            "Opis " * 10,
        ]
        for i in range(n)
    ]


def _xlsx(rows: list[list[object]]) -> bytes:
    return xlsx(HEADER, rows)


def _csv(rows: list[list[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(
            [v.strftime("%d.%m.%Y %H:%M") if isinstance(v, datetime) else v for v in row]
        )
    return ("\ufeff" + out.getvalue()).encode()


def _bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * 200_000_000)
    return out.getvalue()


def _best(data: bytes, name: str) -> tuple[float, int]:
    best, rows = float("inf"), 0
    for _ in range(3):
        began = time.perf_counter()
        sheet = read_activity_sheet(data, file_name=name, zone=ZONE, max_bytes=50_000_000)
        best = min(best, time.perf_counter() - began)
        assert not sheet.errors, sheet.errors[:3]
        rows = len(sheet.rows)
    return best, rows


def main() -> None:
    """Run and print figures, then one RESULT line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=3000)
    args = parser.parse_args()
    rows = _rows(args.rows)
    xlsx, text = _xlsx(rows), _csv(rows)
    xlsx_s, n = _best(xlsx, "bench.xlsx")
    csv_s, _ = _best(text, "bench.csv")
    bomb = _bomb()
    began = time.perf_counter()
    try:
        read_activity_sheet(bomb, file_name="bomb.xlsx", zone=ZONE)
    except SheetRefused as refused:
        outcome = refused.problem.value
    bomb_ms = (time.perf_counter() - began) * 1000
    limit = DEFAULT_MAX_BYTES
    print(f"rows: {n}")
    print(
        f"xlsx: {len(xlsx) / 1e6:.2f} MB ({'within' if len(xlsx) <= limit else 'over'} "
        f"the 2 MB chat limit), checked in {xlsx_s:.2f} s"
    )
    print(
        f"csv:  {len(text) / 1e6:.2f} MB ({'within' if len(text) <= limit else 'over'} "
        f"the 2 MB chat limit), checked in {csv_s:.2f} s"
    )
    print(f"zip bomb: {len(bomb) / 1e3:.0f} kB unpacking to 200 MB, {outcome} in {bomb_ms:.1f} ms")
    print(
        f"RESULT rows={n} xlsx_s={xlsx_s:.3f} csv_s={csv_s:.3f} xlsx_bytes={len(xlsx)} "
        f"csv_bytes={len(text)} bomb_ms={bomb_ms:.1f}"
    )


if __name__ == "__main__":
    main()
