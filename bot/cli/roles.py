"""`palbot grant` and `palbot revoke`: give or take roles by Telegram id."""

from __future__ import annotations

import argparse
from typing import Any

from bot.cli.common import settings_and_engine
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
        parser.set_defaults(handler=fn)


def _grant(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with transaction(engine) as session:
        added = grant(session, role=Role(args.role), telegram_id=args.telegram_id)
    print(f"{args.role} granted to {args.telegram_id}" if added else f"{args.telegram_id} "
          f"already is {args.role}")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with transaction(engine) as session:
        removed = revoke(session, role=Role(args.role), telegram_id=args.telegram_id)
    print(f"{args.role} revoked from {args.telegram_id}" if removed else f"{args.telegram_id} "
          f"did not have {args.role}")
    return 0
