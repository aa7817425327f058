"""`palbot import-activities`: add a programme's activities from a spreadsheet export."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.cli.common import settings_and_engine
from storage.activity_import import ImportRejected, import_activities, parse_activities_csv
from storage.db import transaction
from storage.text_rule import InvalidText, check_text
from storage.types import utcnow

DESCRIPTION = """\
Add activities to a programme from a CSV file (a spreadsheet saved as CSV).

The programme is created if it does not exist and stays open for sign-ups until its
last activity starts. Columns are found by their header names:

  title, category, starts_at, ends_at, venue, places      (required)
  registration_deadline, description                     (optional)

Times are local (PALBOT_TIMEZONE, default Europe/Warsaw): 2026-12-01 17:00,
01.12.2026 17:00 or ISO 8601 (2026-12-01T17:00, with an offset if you like).
UTF-8 with or without BOM; columns separated by ',' or ';' (Polish Excel writes ';').

Every row is checked first: if any row has a problem, nothing is imported and each
bad row is printed with its line number. Importing the same file again adds nothing
twice (an activity is recognised by title, start and venue), so a grown file can be
imported again to add only its new rows.
"""

EXAMPLE = """\
example:
  palbot import-activities zajecia-2026.csv --programme "PAL Osiedle Barwinek 2026"
"""


def add_commands(sub: Any) -> None:
    """Register `import-activities`."""
    parser = sub.add_parser(
        "import-activities",
        help="add a programme's activities from a CSV file",
        description=DESCRIPTION,
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", type=Path, metavar="FILE.csv", help="the CSV file to import")
    parser.add_argument(
        "--programme", required=True, metavar="NAME",
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
        print("palbot: --programme must have 1 to 200 characters, without control or "
              "invisible formatting characters", file=sys.stderr)
        return 2
    settings, engine = settings_and_engine()
    try:
        rows = parse_activities_csv(data, zone=settings.zone)
    except ImportRejected as rejected:
        print(f"{path}: nothing imported; fix these rows and run again:", file=sys.stderr)
        for error in rejected.errors:
            print(f"  {error}", file=sys.stderr)
        return 1
    with transaction(engine) as session:
        result = import_activities(session, programme_name=name, rows=rows, now=utcnow())
        open_until = result.programme.signup_open_until
    engine.dispose()
    if result.programme_created:
        print(f"created programme \"{name}\"")
    print(f"added {result.added} activities; {result.already_present} already present")
    if open_until is not None:
        local = open_until.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M")
        print(f"sign-ups open until {local} ({settings.timezone})")
    return 0
