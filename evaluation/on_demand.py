"""The report code's entry points for the bot and the CLI, loaded on first use.

Building a report needs numpy, scipy, matplotlib and openpyxl: about 2.5 s of CPU and
70 MB resident to import. `palbot run` and every command but `report` never build one, so
they import this module instead of the report code itself. Each function imports the
module it calls into when it is first called: deferred because of the libraries' weight,
not to dodge an import cycle (the report code imports nothing that imports this module).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

if TYPE_CHECKING:
    from evaluation.disclosure import DisclosureRules
    from evaluation.export import ReportFiles
    from evaluation.options import ReportOptions
    from evaluation.report import Progress, Report
    from evaluation.source import Periods
    from evaluation.stats import ZeroMethod
    from storage.models import Programme


def disclosure_rules(*, min_count: int, min_n_for_statistics: int) -> DisclosureRules:
    """The disclosure thresholds; raises ValueError (ThresholdTooLow) below the minimum."""
    from evaluation.disclosure import DisclosureRules  # heavy: numpy, scipy

    return DisclosureRules(min_count=min_count, min_n_for_statistics=min_n_for_statistics)


def report_options(
    *,
    language: str,
    year: int | None,
    timezone: str,
    surveys_dir: str | None,
    rules: DisclosureRules | None = None,
    row_level: bool = False,
    zero_method: ZeroMethod = "wilcox",
) -> ReportOptions:
    """What to report and how (default disclosure rules unless given)."""
    from evaluation.options import ReportOptions  # heavy: numpy, scipy

    if rules is None:
        return ReportOptions(
            language=language,
            year=year,
            timezone=timezone,
            surveys_dir=surveys_dir,
            row_level=row_level,
            zero_method=zero_method,
        )
    return ReportOptions(
        language=language,
        year=year,
        rules=rules,
        row_level=row_level,
        timezone=timezone,
        surveys_dir=surveys_dir,
        zero_method=zero_method,
    )


def programme_years(session: Session, programme_id: int, zone: ZoneInfo) -> Periods | None:
    """The years a programme ran, for the evaluator's year buttons."""
    from evaluation.indicator_table import programme_years as years  # heavy: numpy, scipy

    return years(session, programme_id, zone)


def build_report(
    session: Session,
    *,
    programme: Programme,
    now: datetime,
    options: ReportOptions,
    progress: Progress | None = None,
) -> Report:
    """Compute one programme's report (see evaluation.report.build_report)."""
    from evaluation.report import build_report as build  # heavy: numpy, scipy

    return build(session, programme=programme, now=now, options=options, progress=progress)


def report_files(
    engine: Engine, *, programme_id: int, now: datetime, options: ReportOptions
) -> ReportFiles:
    """The workbook and charts an evaluator receives in the chat."""
    from evaluation.export import report_files as files  # heavy: all four libraries

    return files(engine, programme_id=programme_id, now=now, options=options)


def write_workbook(report: Report, path: Path) -> None:
    """Write the report's sheets as an XLSX workbook."""
    from evaluation.workbook import write_workbook as write  # heavy: openpyxl

    write(report.sheets, path)


def write_csv(report: Report, folder: Path) -> list[Path]:
    """Write one CSV file per sheet; returns the paths."""
    from evaluation.workbook import write_csv as write  # heavy: openpyxl

    return write(report.sheets, folder)


def save_charts(report: Report, folder: Path) -> list[Path]:
    """Write the report's charts as PNG files; returns the paths."""
    from evaluation.charts import save_charts as save  # heavy: matplotlib

    return save(report, folder)
