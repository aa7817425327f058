"""`palbot report`: the evaluation workbook (and CSV files, charts) for one programme.

The database is opened read-only and never migrated from here: a report cannot change
what it reports on.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import Session, select
from tqdm import tqdm  # type: ignore[import-untyped]

from bot.settings import load_settings
from evaluation import on_demand
from evaluation.source import read_only_engine, report_session
from schedules.clock import SystemClock
from storage.activities.listing import programme_by_name
from storage.models import Programme
from translations import SUPPORTED_LANGUAGES

if TYPE_CHECKING:
    from evaluation.report import Report


def add_commands(sub: Any) -> None:
    """Register `report`."""
    parser = sub.add_parser(
        "report",
        help="write the evaluation workbook of a programme",
        description="Write the evaluation report of one programme: indicators by year and "
        "activity category, the before/after self-assessment comparison (matched pairs "
        "only) and definitions, as an XLSX workbook; optionally CSV files and PNG charts. "
        "Counts of fewer than 5 people are hidden; no names or Telegram ids are written.",
    )
    parser.add_argument(
        "--programme", required=True, metavar="NAME", help="the programme's exact name"
    )
    parser.add_argument(
        "--year",
        type=_year,
        metavar="YYYY",
        help="only this calendar year (default: every year it ran)",
    )
    parser.add_argument(
        "--out", required=True, type=Path, metavar="FILE.xlsx", help="where to write the workbook"
    )
    parser.add_argument("--charts", type=Path, metavar="DIR", help="also write PNG charts here")
    parser.add_argument("--csv", type=Path, metavar="DIR", help="also write one CSV per sheet")
    parser.add_argument(
        "--row-level",
        action="store_true",
        help="add pseudonymised responses (participant codes) and a codebook",
    )
    parser.add_argument(
        "--language",
        choices=SUPPORTED_LANGUAGES,
        default=None,
        help="language of labels (default: PALBOT_DEFAULT_LANGUAGE, pl)",
    )
    parser.add_argument(
        "--min-count",
        type=int,
        default=5,
        metavar="N",
        help="hide counts of people below N (at least 3; default 5)",
    )
    parser.add_argument(
        "--min-pairs",
        type=int,
        default=10,
        metavar="N",
        help="show statistics from N pairs up (at least 3; default 10)",
    )
    parser.add_argument(
        "--zero-method",
        choices=("wilcox", "pratt"),
        default="wilcox",
        help="how the Wilcoxon test treats pairs with no change",
    )
    parser.set_defaults(handler=report)


def _year(raw: str) -> int:
    value = int(raw) if raw.isdigit() else 0
    if not 2000 <= value <= 2100:
        raise argparse.ArgumentTypeError(f"'{raw}' is not a year like 2025")
    return value


def report(args: argparse.Namespace) -> int:
    """Build the report and write the requested files."""
    if args.out.suffix.lower() != ".xlsx":
        print("palbot report: --out must end in .xlsx", file=sys.stderr)
        return 2
    try:
        rules = on_demand.disclosure_rules(
            min_count=args.min_count, min_n_for_statistics=args.min_pairs
        )
    except ValueError as exc:  # ThresholdTooLow
        print(f"palbot report: {exc}", file=sys.stderr)
        return 2
    settings = load_settings()
    options = on_demand.report_options(
        language=args.language or settings.default_language,
        year=args.year,
        rules=rules,
        row_level=args.row_level,
        timezone=settings.timezone,
        surveys_dir=settings.surveys_dir,
        zero_method=args.zero_method,
    )
    steps = 5 + (1 if args.row_level else 0) + bool(args.csv) + bool(args.charts)
    started = time.perf_counter()
    engine = read_only_engine(settings.database_url)
    try:
        with tqdm(total=steps, desc="report", unit="step", disable=None, file=sys.stderr) as bar:

            def advance(name: str) -> None:
                bar.set_postfix_str(name)
                bar.update(1)

            try:
                with report_session(engine) as session:
                    programme = programme_by_name(session, args.programme)
                    if programme is None:
                        return _unknown_programme(session, args.programme)
                    advance("snapshot")
                    built = on_demand.build_report(
                        session, programme=programme, now=_now(), options=options, progress=advance
                    )
            except (OperationalError, ProgrammingError) as exc:
                print(
                    f"palbot report: cannot read the database ({type(exc.orig).__name__}); "
                    "check PALBOT_DATABASE_URL and that `palbot run` has created it",
                    file=sys.stderr,
                )
                return 1
            written = _write(built, args, advance)
    finally:
        engine.dispose()
    elapsed = time.perf_counter() - started
    for path in written:
        print(f"wrote {path}")
    for line in built.summary:
        print(f"note: {line}")
    print(f"done in {elapsed:.1f} s")
    return 0


def _now() -> datetime:
    return SystemClock().now()


def _write(built: Report, args: argparse.Namespace, advance: Callable[[str], None]) -> list[Path]:
    args.out.parent.mkdir(parents=True, exist_ok=True)
    on_demand.write_workbook(built, args.out)
    written = [args.out]
    advance("workbook")
    if args.csv:
        written += on_demand.write_csv(built, args.csv)
        advance("csv")
    if args.charts:
        written += on_demand.save_charts(built, args.charts)
        advance("charts")
    return written


def _unknown_programme(session: Session, name: str) -> int:
    names = session.exec(select(Programme.name).order_by(Programme.name)).all()
    print(f"palbot report: no programme named {name!r}", file=sys.stderr)
    if names:
        print("programmes: " + "; ".join(names), file=sys.stderr)
    return 2
