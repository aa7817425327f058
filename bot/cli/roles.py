"""`palbot grant` and `palbot revoke`: give or take roles by Telegram id."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.cli.common import settings_and_engine
from storage.activities import programme_by_name
from storage.db import transaction
from storage.models import Role
from storage.roles import grant, revoke

ROLE_NAMES = [role.value for role in Role]


def add_commands(sub: Any) -> None:
    """Register `grant` and `revoke`."""
    for name, fn, verb in (("grant", _grant, "Give"), ("revoke", _revoke, "Take away")):
        parser = sub.add_parser(
            name,
            help=f"{verb.lower()} a role (animator, evaluator, admin)",
            description=f"{verb} a role for a Telegram user id. Animators run activities, "
            "evaluators read pseudonymised reports, admins do everything.",
        )
        parser.add_argument("role", choices=ROLE_NAMES)
        parser.add_argument("telegram_id", type=int, metavar="TELEGRAM_ID")
        if name == "grant":
            parser.add_argument("--programme", metavar="NAME",
                                help="limit the role to one programme (e.g. an evaluator who "
                                "may read only that programme's reports); default: all")
        parser.set_defaults(handler=fn)


def _grant(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with transaction(engine) as session:
        programme_id = None
        if args.programme is not None:
            programme = programme_by_name(session, args.programme)
            if programme is None:
                print(f"palbot grant: no programme named {args.programme!r}", file=sys.stderr)
                return 2
            programme_id = programme.id
        added = grant(session, role=Role(args.role), telegram_id=args.telegram_id,
                      programme_id=programme_id)
    scope = f" for {args.programme}" if args.programme else ""
    print(f"{args.role} granted to {args.telegram_id}{scope}" if added else
          f"{args.telegram_id} already is {args.role}{scope}")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with transaction(engine) as session:
        removed = revoke(session, role=Role(args.role), telegram_id=args.telegram_id)
    print(f"{args.role} revoked from {args.telegram_id}" if removed else f"{args.telegram_id} "
          f"did not have {args.role}")
    return 0
