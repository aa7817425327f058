"""`palbot audit --since DATE`: print who changed what and when (ids only)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from bot.cli.common import settings_and_engine
from storage.audit import AuditAction, entries_since
from storage.db import read_only


def add_commands(sub: Any) -> None:
    """Register `audit`."""
    parser = sub.add_parser(
        "audit",
        help="print the audit trail of animators' and admins' actions",
        description="Print recorded actions (activity changes, attendance, announcements, "
        "actions for people without Telegram) from a date on, oldest first: local time, "
        "actor's person id, action, subject and details. Only ids and field names are "
        "recorded, never names or message texts.",
    )
    parser.add_argument(
        "--since",
        required=True,
        type=_parse_moment,
        metavar="DATE",
        help="local date (2026-11-30) or date and time (2026-11-30 17:00) to start from",
    )
    parser.add_argument(
        "--until", type=_parse_moment, metavar="DATE", help="stop before this local date/time"
    )
    parser.add_argument(
        "--action",
        action="append",
        metavar="ACTION",
        help="only this action, e.g. "
        + ", ".join(a.value for a in list(AuditAction)[:3])
        + " (repeatable)",
    )
    parser.add_argument("--actor", type=int, metavar="PERSON_ID", help="only this actor")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.set_defaults(handler=run_audit)


def _parse_moment(raw: str) -> datetime:
    """A naive local date or date-time; the zone is applied once settings are loaded."""
    text = raw.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0, 0))
        return datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{raw}' is not a date like 2026-11-30 or 2026-11-30 17:00"
        ) from None


def _aware(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def run_audit(args: argparse.Namespace) -> int:
    """Print audit rows in the chosen period."""
    settings, engine = settings_and_engine()
    zone = settings.zone
    since = _aware(args.since, zone).astimezone(UTC)
    until = _aware(args.until, zone).astimezone(UTC) if args.until else None
    with read_only(engine) as session:
        rows = entries_since(
            session, since=since, until=until, actions=args.action, actor_id=args.actor
        )
    for row in rows:
        local = row.at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
        if args.json:
            print(
                json.dumps(
                    {
                        "at": row.at.isoformat(),
                        "actor_id": row.actor_id,
                        "action": row.action,
                        "subject_type": row.subject_type,
                        "subject_id": row.subject_id,
                        "details": row.details,
                    },
                    ensure_ascii=False,
                    sort_keys=True,
                )
            )
            continue
        actor = "-" if row.actor_id is None else str(row.actor_id)
        subject = row.subject_type + (f":{row.subject_id}" if row.subject_id is not None else "")
        details = json.dumps(row.details, ensure_ascii=False, sort_keys=True)
        print(f"{local}  actor={actor}  {row.action}  {subject}  {details}")
    if not args.json:
        print(f"{len(rows)} entries since {args.since:%Y-%m-%d %H:%M} ({settings.timezone})")
    engine.dispose()
    return 0
