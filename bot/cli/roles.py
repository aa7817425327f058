"""`palbot grant` and `palbot revoke`: give or take roles by Telegram id."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sqlmodel import Session

from bot.cli.common import settings_and_engine
from storage.activities.listing import programme_by_name
from storage.db import transaction
from storage.models import Role
from storage.people.roles import grant, revoke

ROLE_NAMES = [role.value for role in Role]


def add_commands(sub: Any) -> None:
    """Register `grant` and `revoke`."""
    for name, fn, verb in (("grant", _grant, "Give"), ("revoke", _revoke, "Take away")):
        parser = sub.add_parser(
            name,
            help=f"{verb.lower()} a role (animator, evaluator, coordinator, admin)",
            description=f"{verb} a role for a Telegram user id. Animators run activities, "
            "evaluators read pseudonymised reports and coordinators run the whole programme "
            "(its team, settings, surveys and activities), each in the programmes they are "
            "granted (one --programme per grant); admins do everything in every programme.",
        )
        parser.add_argument("role", choices=ROLE_NAMES)
        parser.add_argument("telegram_id", type=int, metavar="TELEGRAM_ID")
        parser.add_argument(
            "--programme",
            metavar="NAME",
            help="the programme the role is for (required for all but admin)"
            if name == "grant"
            else "take the role away in this programme only",
        )
        parser.set_defaults(handler=fn)


class _NoSuchProgramme(LookupError):
    pass


def _programme_id(session: Session, name: str | None) -> int | None:
    """The named programme's id (None if no name given)."""
    if name is None:
        return None
    programme = programme_by_name(session, name)
    if programme is None or programme.id is None:
        raise _NoSuchProgramme(name)
    return programme.id


def _grant(args: argparse.Namespace) -> int:
    role = Role(args.role)
    if role == Role.ADMIN and args.programme is not None:
        print(
            "palbot grant: admin is for every programme; grant coordinator, animator or "
            "evaluator to limit someone to one programme",
            file=sys.stderr,
        )
        return 2
    if role != Role.ADMIN and args.programme is None:
        print(
            f"palbot grant: name the programme the {role.value} works in: --programme NAME "
            "(repeat the command for each programme)",
            file=sys.stderr,
        )
        return 2
    _, engine = settings_and_engine()
    try:
        with transaction(engine) as session:
            added = grant(
                session,
                role=role,
                telegram_id=args.telegram_id,
                programme_id=_programme_id(session, args.programme),
            )
    except _NoSuchProgramme:
        print(f"palbot grant: no programme named {args.programme!r}", file=sys.stderr)
        return 2
    scope = f" for {args.programme}" if args.programme else ""
    print(
        f"{args.role} granted to {args.telegram_id}{scope}"
        if added
        else f"{args.telegram_id} already is {args.role}{scope}"
    )
    return 0


def _revoke(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    try:
        with transaction(engine) as session:
            removed = revoke(
                session,
                role=Role(args.role),
                telegram_id=args.telegram_id,
                programme_id=_programme_id(session, args.programme),
            )
    except _NoSuchProgramme:
        print(f"palbot revoke: no programme named {args.programme!r}", file=sys.stderr)
        return 2
    scope = f" for {args.programme}" if args.programme else ""
    print(
        f"{args.role}{scope} revoked from {args.telegram_id}"
        if removed
        else f"{args.telegram_id} did not have {args.role}{scope}"
    )
    return 0
