"""`palbot first-admin-link`: the one shell step of a fresh install.

It prints a one-time link (the same invitations as /admin makes) whose opener becomes an
administrator; everything else — programmes, teams, activities — is done in the chat.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from typing import Any

import httpx

from bot.cli.common import settings_and_engine
from bot.settings import Settings, SettingsError
from storage.db import transaction
from storage.people.invitations import create_first_admin_invitation, link_for
from storage.types import utcnow

DESCRIPTION = """\
Print a one-time link that makes whoever opens it (and presses "Accept") an
administrator of the bot. Send it to the programme's first administrator, for example
the coordinator at the social welfare centre. It works once and expires after
PALBOT_INVITATION_VALID_DAYS days (default 7); run the command again for a new one.

The bot's @username is asked from Telegram with PALBOT_TOKEN, unless --bot-username
is given.
"""


def add_commands(sub: Any) -> None:
    """Register `first-admin-link`."""
    parser = sub.add_parser(
        "first-admin-link",
        help="print a one-time link that makes its opener an administrator",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--bot-username",
        metavar="NAME",
        help="the bot's @username (without @), if Telegram cannot be asked",
    )
    parser.add_argument(
        "--days",
        type=int,
        metavar="N",
        help="valid for N days (default PALBOT_INVITATION_VALID_DAYS)",
    )
    parser.set_defaults(handler=first_admin_link)


def bot_username(settings: Settings) -> str:
    """The bot's username from getMe (the token stays out of every message)."""
    if settings.token is None:
        raise SettingsError(
            "PALBOT_TOKEN: required to ask Telegram for the bot's username (or give --bot-username)"
        )
    url = f"{settings.api_url}/bot{settings.token.get_secret_value()}/getMe"
    try:
        response = httpx.get(url, timeout=15)
        body = response.json()
    except (httpx.HTTPError, ValueError):
        raise SettingsError(
            "PALBOT_API_URL: Telegram could not be reached to ask for the "
            "bot's username (or give --bot-username)"
        ) from None
    if not body.get("ok") or not body.get("result", {}).get("username"):
        raise SettingsError("PALBOT_TOKEN: Telegram did not accept the token")
    return str(body["result"]["username"])


def first_admin_link(args: argparse.Namespace) -> int:
    """Create the invitation and print its link."""
    days = args.days
    if days is not None and not 1 <= days <= 90:
        print("palbot first-admin-link: --days must be between 1 and 90", file=sys.stderr)
        return 2
    settings, engine = settings_and_engine()
    username = (args.bot_username or "").lstrip("@") or bot_username(settings)
    valid_for = timedelta(days=days or settings.invitation_valid_days)
    with transaction(engine) as session:
        made = create_first_admin_invitation(session, now=utcnow(), valid_for=valid_for)
    engine.dispose()
    local = made.expires_at.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M")
    print(link_for(username, made))
    print(
        f"one-time administrator link, valid until {local} ({settings.timezone})", file=sys.stderr
    )
    return 0
