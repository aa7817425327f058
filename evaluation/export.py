"""Building a report end to end from an engine: one read-only snapshot in, files out.

Used by `palbot report` (files on disk) and the chat's evaluator menu (bytes to send).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from evaluation.charts import figures
from evaluation.options import ReportOptions
from evaluation.report import Progress, Report, build_report
from evaluation.source import report_session
from evaluation.workbook import write_workbook
from storage.models import Programme


class ProgrammeNotFound(LookupError):
    """No programme with that id or name."""


@dataclass(frozen=True)
class ReportFiles:
    """A finished report as files: the workbook and the chart images, by file name."""

    report: Report
    workbook_name: str
    workbook: bytes
    charts: dict[str, bytes]


def file_stem(programme_name: str, year: int | None) -> str:
    """`raport-PAL-Osiedle-Słoneczne-2025` — safe in every file system, letters kept."""
    name = re.sub(r"[^\w]+", "-", programme_name).strip("-")[:60] or "programme"
    return f"raport-{name}-{year if year else 'all'}"


def load_report(
    session: Session,
    *,
    programme_id: int,
    now: datetime,
    options: ReportOptions,
    progress: Progress | None = None,
) -> Report:
    """Build the report of one programme in an open (read-only) session."""
    programme = session.get(Programme, programme_id)
    if programme is None:
        raise ProgrammeNotFound(str(programme_id))
    return build_report(session, programme=programme, now=now, options=options, progress=progress)


def report_files(
    engine: Engine,
    *,
    programme_id: int,
    now: datetime,
    options: ReportOptions,
) -> ReportFiles:
    """Everything an evaluator receives in the chat, built from one snapshot."""
    with report_session(engine) as session:
        report = load_report(session, programme_id=programme_id, now=now, options=options)
    stem = file_stem(report.programme_name, options.year)
    buffer = io.BytesIO()
    write_workbook(report.sheets, buffer)
    charts = {}
    for chart, figure in figures(report).items():
        image = io.BytesIO()
        figure.savefig(image, format="png", dpi=150, metadata={"Software": None})
        charts[f"{stem}-{chart}.png"] = image.getvalue()
    return ReportFiles(report, f"{stem}.xlsx", buffer.getvalue(), charts)
