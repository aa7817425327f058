"""`palbot import-activities`: add a programme's activities from a spreadsheet export."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.cli.common import settings_and_engine
from storage.activities.import_problems import ImportRejected
from storage.activities.import_writing import import_activities
from storage.activities.importing import parse_activities_csv
from storage.activities.sheets import SheetRefused, read_activity_sheet
from storage.db import transaction
from storage.text_rule import InvalidText, check_text
from storage.types import utcnow

DESCRIPTION = """\
Add activities to a programme from a CSV or XLSX file (the same check as a
spreadsheet sent to the bot in the chat).

The programme is created if it does not exist and stays open for sign-ups until its
last activity starts. Columns are found by their header names:

  title, category, starts_at, ends_at, venue, places      (required)
  registration_deadline, description                     (optional)

Times are local (PALBOT_TIMEZONE, default Europe/Warsaw): 2026-12-01 17:00,
01.12.2026 17:00 or ISO 8601 (2026-12-01T17:00, with an offset if you like).
UTF-8 with or without BOM; columns separated by ',' or ';' (Polish Excel writes ';').
In an .xlsx file the first sheet is read; date cells may be real dates. Formulas are
refused: type the values.

Every row is checked first: if any row has a problem, nothing is imported and each
bad row is printed with its line number. Importing the same file again adds nothing
twice (an activity is recognised by title, start and venue), so a grown file can be
imported again to add only its new rows.
"""

# The operator's shell may read larger files than the chat accepts.
CLI_MAX_BYTES = 50_000_000
REFUSALS = {
    "too_large": "the file is larger than 50 MB",
    "not_spreadsheet": "not a spreadsheet (use .csv or .xlsx)",
    "old_format": "save it as .xlsx or .csv first",
    "broken": "the workbook cannot be read (damaged or not an .xlsx file)",
    "unpacks_too_large": "the workbook unpacks to far more data than a spreadsheet holds",
}

EXAMPLE = """\
example:
  palbot import-activities zajecia-2026.csv --programme "PAL Osiedle Barwinek 2026"
"""


def add_commands(sub: Any) -> None:
    """Register `import-activities`."""
    parser = sub.add_parser(
        "import-activities",
        help="add a programme's activities from a CSV or XLSX file",
        description=DESCRIPTION,
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="the .csv or .xlsx file to import")
    parser.add_argument(
        "--programme",
        required=True,
        metavar="NAME",
        help="programme name, exactly as residents should see it",
    )
    parser.set_defaults(handler=import_command)


def import_command(args: argparse.Namespace) -> int:
    """Validate the whole file, then import it in one transaction."""
    path: Path = args.file
    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"palbot: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 1
    try:
        name = check_text(str(args.programme), limit=200)
    except InvalidText:
        print(
            "palbot: --programme must have 1 to 200 characters, without control or "
            "invisible formatting characters",
            file=sys.stderr,
        )
        return 2
    settings, engine = settings_and_engine()
    try:
        if path.suffix.lower() == ".xlsx":
            sheet = read_activity_sheet(
                data, file_name=path.name, zone=settings.zone, max_bytes=CLI_MAX_BYTES
            )
            if sheet.errors:
                raise ImportRejected(sheet.errors)
            rows = sheet.rows
        else:
            rows = parse_activities_csv(data, zone=settings.zone)
    except SheetRefused as refused:
        print(f"{path}: nothing imported: {REFUSALS[refused.problem.value]}", file=sys.stderr)
        return 1
    except ImportRejected as rejected:
        print(f"{path}: nothing imported; fix these rows and run again:", file=sys.stderr)
        for error in rejected.errors:
            print(f"  {error}", file=sys.stderr)
        return 1
    with transaction(engine) as session:
        result = import_activities(
            session, programme_name=name, rows=rows, now=utcnow(), zone=settings.zone
        )
        open_until = result.programme.signup_open_until
    engine.dispose()
    if result.programme_created:
        print(f'created programme "{name}"')
    print(f"added {result.added} activities; {result.already_present} already present")
    if open_until is not None:
        local = open_until.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M")
        print(f"sign-ups open until {local} ({settings.timezone})")
    return 0
