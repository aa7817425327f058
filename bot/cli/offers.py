"""`palbot offer-windows`: how a programme offers freed places from the reserve list."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any

from bot.cli.common import settings_and_engine
from storage.activities.listing import programme_by_name
from storage.activities.offers import windows_for
from storage.db import transaction
from storage.setting_values import parse_duration

DEFAULT = "default"


def add_commands(sub: Any) -> None:
    """Add `offer-windows`."""
    windows = sub.add_parser(
        "offer-windows",
        help="show or set how long a freed place is offered to one person, and when the "
        "last-minute first-tap round starts, for one programme",
    )
    windows.add_argument("--programme", required=True, metavar="NAME")
    windows.add_argument(
        "--offer-time",
        metavar="DURATION|0|default",
        help="e.g. 12h or 90m; 0 gives freed places at once",
    )
    windows.add_argument(
        "--first-come",
        metavar="DURATION|default",
        help="e.g. 2h: from then on, the first tap on the reserve list wins",
    )
    windows.set_defaults(handler=_offer_windows)


def _checked(raw: str | None, option: str) -> tuple[bool, str | None]:
    """(valid, value to store) for one option; `default` stores None."""
    if raw is None:
        return True, None
    if raw == DEFAULT:
        return True, None
    try:
        parse_duration(raw)
    except ValueError as exc:
        print(f"palbot: {option}: {exc}")
        return False, None
    return True, raw.strip()


def _offer_windows(args: argparse.Namespace) -> int:
    ok_time, offer_time = _checked(args.offer_time, "--offer-time")
    ok_first, first_come = _checked(args.first_come, "--first-come")
    if not (ok_time and ok_first):
        return 2
    settings, engine = settings_and_engine()
    with transaction(engine) as session:
        programme = programme_by_name(session, args.programme)
        if programme is None:
            print(f"palbot: no programme named {args.programme!r}")
            return 1
        if args.offer_time is not None:
            programme.offer_time = offer_time
        if args.first_come is not None:
            programme.offer_first_come = first_come
        session.add(programme)
        session.flush()
        windows = windows_for(programme, settings.programme_defaults().offer_windows)
    if windows.immediate:
        print(f"{args.programme}: freed places are given at once to the first in line")
    else:
        print(
            f"{args.programme}: a freed place is offered for {_hours(windows.offer_time)} "
            f"to the first in line; within {_hours(windows.first_come)} of the start, "
            "the first tap on the reserve list wins"
        )
    return 0


def _hours(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"
