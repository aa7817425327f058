"""Every command the bot knows, in the order /help lists them, and who may use it.

One table: /help and Telegram's command list are built from it, so a new command is one
line here plus its `CommandHandler` in the feature's `register`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from storage.models import Role
from storage.people.roles import has_role
from translations import Translator


@dataclass(frozen=True)
class CommandInfo:
    """A command for /help and Telegram's list; `role` None means every resident."""

    command: str
    describe: Callable[[Translator], str]
    role: Role | None = None


COMMANDS: tuple[CommandInfo, ...] = (
    # Residents, in the order they meet them.
    CommandInfo("start", lambda t: t._("Start, or show the main menu")),
    CommandInfo("activities", lambda t: t._("Browse activities and sign up")),
    CommandInfo("my", lambda t: t._("Your places and reserve-list positions")),
    CommandInfo("programmes", lambda t: t._("Your programmes: join another, or leave one")),
    CommandInfo("language", lambda t: t._("Change the language")),
    CommandInfo("help", lambda t: t._("What this chat can do")),
    CommandInfo("privacy", lambda t: t._("how we use your personal data")),
    CommandInfo("mydata", lambda t: t._("get everything we store about you")),
    CommandInfo("forgetme", lambda t: t._("delete your data from the chat")),
    CommandInfo("checkin", lambda t: t._("Confirm you are here, with the animator's code")),
    CommandInfo("survey", lambda t: t._("Answer the survey about how you are doing")),
    CommandInfo("consultations", lambda t: t._("Consultations: give your opinion")),
    # The programme team.
    CommandInfo(
        "animator",
        lambda t: t._("Animator menu: activities, attendance, announcements"),
        Role.ANIMATOR,
    ),
    CommandInfo(
        "paper", lambda t: t._("Enter a paper survey of a person without Telegram"), Role.ANIMATOR
    ),
    CommandInfo(
        "import", lambda t: t._("Add activities from a spreadsheet (XLSX or CSV)"), Role.ANIMATOR
    ),
    CommandInfo(
        "evaluator",
        lambda t: t._("Evaluator menu: indicators and before/after reports"),
        Role.EVALUATOR,
    ),
    CommandInfo(
        "admin", lambda t: t._("Administration: programmes, teams, invitations"), Role.COORDINATOR
    ),
)


def commands_for(
    roles: frozenset[Role], commands: tuple[CommandInfo, ...] = COMMANDS
) -> list[CommandInfo]:
    """The commands someone with `roles` may use, residents' first."""
    mine = [c for c in commands if c.role is None]
    team = [c for c in commands if c.role is not None and has_role(roles, c.role)]
    return mine + team
