"""The `palbot` command line: one module per group of subcommands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from bot.cli import (
    activities,
    audit,
    changes,
    invitations,
    offers,
    privacy,
    reports,
    roles,
    run,
    surveys,
)
from bot.settings import SettingsError
from bot.startup import ExitCode, StartupError

Command = Callable[[argparse.Namespace], int]

# Every group of subcommands, in the order `palbot --help` lists them.
COMMAND_GROUPS = (
    run,
    roles,
    activities,
    changes,
    surveys,
    reports,
    audit,
    privacy,
    invitations,
    offers,
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="palbot",
        description="PAL Bot: sign-ups, surveys and reminders for Local Activity Programmes.",
        epilog="Settings come from PALBOT_* environment variables or a .env file "
        "(see .env.example).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in COMMAND_GROUPS:
        group.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `palbot` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    command: Command = args.handler
    try:
        return command(args)
    except SettingsError as exc:
        print(f"palbot: setting problem: {exc}", file=sys.stderr)
        return ExitCode.SETTING
    except StartupError as exc:
        print(f"palbot: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
