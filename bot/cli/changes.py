"""`palbot change-activity` and `palbot cancel-activity`: move, relocate or call off.

Everyone holding a place or on the reserve list gets a notice in their own language;
the running bot sends it within a few seconds (it checks the outbox every few seconds).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.cli.common import settings_and_engine
from storage.activities.change_notices import (
    ActivityNotFound,
    ChangeProblem,
    InvalidChange,
    cancel_activity,
    change_activity,
)
from storage.activities.importing import parse_time
from storage.db import transaction
from storage.models import Activity
from storage.types import utcnow

PROBLEMS = {
    ChangeProblem.CANCELLED: "the activity is already cancelled",
    ChangeProblem.STARTED: "the activity has already started",
    ChangeProblem.IN_PAST: "the new start is not in the future",
    ChangeProblem.ENDS_BEFORE_START: "the end must be after the start",
    ChangeProblem.NOTHING: "nothing to change: give --starts-at, --ends-at or --venue with a "
    "new value",
    ChangeProblem.EMPTY_VENUE: "the venue cannot be empty",
}

CHANGE_EXAMPLE = """\
examples:
  palbot change-activity 12 --starts-at "2026-12-01 17:00"
  palbot change-activity 12 --venue "Klub Sąsiedzki, ul. Słoneczna 5"
"""


def add_commands(sub: Any) -> None:
    """Register `change-activity` and `cancel-activity`."""
    change = sub.add_parser(
        "change-activity",
        help="move an activity or change its venue, and tell everyone signed up",
        description="Change an activity's time or venue. Reminders move with it, and "
        "everyone holding a place or on the reserve list gets a notice in their language. "
        "Times are local (PALBOT_TIMEZONE): 2026-12-01 17:00 or ISO 8601. A new start "
        "without --ends-at keeps the activity's length.",
        epilog=CHANGE_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    change.add_argument("activity_id", type=int, metavar="ID", help="the activity's number")
    change.add_argument("--starts-at", metavar="WHEN", help="new local start time")
    change.add_argument("--ends-at", metavar="WHEN", help="new local end time")
    change.add_argument("--venue", metavar="TEXT", help="new venue")
    change.set_defaults(handler=change_command)

    cancel = sub.add_parser(
        "cancel-activity",
        help="call an activity off and tell everyone signed up",
        description="Cancel an activity: no more sign-ups or reminders; everyone holding a "
        "place or on the reserve list gets a notice in their language.",
    )
    cancel.add_argument("activity_id", type=int, metavar="ID", help="the activity's number")
    cancel.set_defaults(handler=cancel_command)


def change_command(args: argparse.Namespace) -> int:
    """Apply the change and queue the notices in one transaction."""
    settings, engine = settings_and_engine()
    try:
        starts_at = parse_time(args.starts_at, settings.zone) if args.starts_at else None
        ends_at = parse_time(args.ends_at, settings.zone) if args.ends_at else None
    except ValueError as exc:
        print(f"palbot: {exc}", file=sys.stderr)
        return 2
    if args.venue is not None and len(args.venue) > 300:
        print("palbot: --venue may have at most 300 characters", file=sys.stderr)
        return 2
    try:
        with transaction(engine) as session:
            notices = change_activity(
                session,
                activity_id=args.activity_id,
                now=utcnow(),
                starts_at=starts_at,
                ends_at=ends_at,
                venue=args.venue,
            )
            activity = session.get(Activity, args.activity_id)
            assert activity is not None
            start, venue = activity.starts_at, activity.venue
    except (ActivityNotFound, InvalidChange) as exc:
        return _refused(args.activity_id, exc)
    finally:
        engine.dispose()
    local = start.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M")
    print(f"activity {args.activity_id} now starts {local} ({settings.timezone}) at {venue}")
    print(f"{notices} people will be told")
    return 0


def cancel_command(args: argparse.Namespace) -> int:
    """Cancel the activity and queue the notices in one transaction."""
    _settings, engine = settings_and_engine()
    try:
        with transaction(engine) as session:
            notices = cancel_activity(session, activity_id=args.activity_id, now=utcnow())
    except (ActivityNotFound, InvalidChange) as exc:
        return _refused(args.activity_id, exc)
    finally:
        engine.dispose()
    print(f"activity {args.activity_id} cancelled; {notices} people will be told")
    return 0


def _refused(activity_id: int, exc: Exception) -> int:
    reason = PROBLEMS[exc.problem] if isinstance(exc, InvalidChange) else "no such activity"
    print(f"palbot: activity {activity_id} not changed: {reason}", file=sys.stderr)
    return 1
