"""The `palbot` command line: one module per group of subcommands."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from types import ModuleType

from bot.settings import SettingsError
from bot.startup import ExitCode, StartupError

Command = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every subcommand."""
    from bot.cli import roles, run

    parser = argparse.ArgumentParser(
        prog="palbot",
        description="PAL Bot: sign-ups, surveys and reminders for Local Activity Programmes.",
        epilog="Settings come from PALBOT_* environment variables or a .env file "
        "(see .env.example).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (run, roles):
        module.add_commands(sub)
    for extra in _optional_modules():
        extra.add_commands(sub)
    return parser


def _optional_modules() -> list[ModuleType]:
    # Feature areas add their commands here as they land.
    found = []
    for name in (
        "activities",
        "changes",
        "surveys",
        "reports",
        "audit",
        "privacy",
        "webhook",
        "invitations",
        "offers",
    ):
        try:
            found.append(importlib.import_module(f"bot.cli.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"bot.cli.{name}":
                raise
    return found


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
