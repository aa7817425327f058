"""Start-up checks: each fault ends `palbot run` with one line and its own exit code.

A wrong token or an unreachable Bot API used to end in python-telegram-bot's retry-loop
traceback (240 lines for the README's placeholder token). The checks below ask the same
questions first (can we open the database, does Telegram accept the token) and turn the
answer into one line naming the cause and the setting to check.
"""

from __future__ import annotations

from enum import IntEnum

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from telegram.error import InvalidToken, NetworkError, TelegramError, TimedOut

from bot.settings import Settings
from bot.transport import bot_api_request

# Bounds for the one getMe of the check; the bot's own calls keep their timeouts.
CHECK_TIMEOUT_S = 10.0


class ExitCode(IntEnum):
    """What `palbot` returns; documented in the README."""

    OK = 0
    FAILED = 1  # an unexpected error (a traceback was printed)
    SETTING = 2  # a setting is missing or malformed
    TOKEN_REFUSED = 3  # Telegram answered 401/404 to the token
    BOT_API_UNREACHABLE = 4  # no answer from PALBOT_API_URL, or an error answer to getMe
    DATABASE_UNAVAILABLE = 5  # PALBOT_DATABASE_URL cannot be opened or migrated


class StartupError(Exception):
    """A fault found before serving: one line for the operator and the exit code."""

    def __init__(self, line: str, code: ExitCode) -> None:
        super().__init__(line)
        self.code = code


def database_error(settings: Settings, exc: DBAPIError | ArgumentError) -> StartupError:
    """Describe a database that cannot be opened, without its password."""
    try:
        where = make_url(settings.database_url).render_as_string(hide_password=True)
    except ArgumentError:
        where = "(not a database URL)"
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    reason = _first_line(str(cause)) or type(cause).__name__
    return StartupError(
        f"cannot open the database {where}: {reason}; check PALBOT_DATABASE_URL and that the "
        "database server is running",
        ExitCode.DATABASE_UNAVAILABLE,
    )


async def check_bot_api(settings: Settings) -> None:
    """Ask the Bot API who we are (getMe) once; raise StartupError naming the setting."""
    assert settings.token is not None
    request = bot_api_request(settings)
    await request.initialize()
    try:
        await request.post(
            f"{settings.api_url}/bot{settings.token.get_secret_value()}/getMe",
            read_timeout=CHECK_TIMEOUT_S,
            connect_timeout=CHECK_TIMEOUT_S,
        )
    except InvalidToken:
        raise StartupError(
            "Telegram refused the bot token (401 Unauthorized); check PALBOT_TOKEN (the token "
            "@BotFather gave you)",
            ExitCode.TOKEN_REFUSED,
        ) from None
    except TimedOut:
        raise StartupError(
            f"no answer from the Bot API at {settings.api_url} within {CHECK_TIMEOUT_S:.0f} s; "
            "check PALBOT_API_URL and the network route to it",
            ExitCode.BOT_API_UNREACHABLE,
        ) from None
    except NetworkError as exc:
        raise StartupError(
            f"cannot reach the Bot API at {settings.api_url} ({_reason(exc, settings)}); "
            "check PALBOT_API_URL and the network route to it",
            ExitCode.BOT_API_UNREACHABLE,
        ) from None
    except TelegramError as exc:
        raise StartupError(
            f"the Bot API at {settings.api_url} answered getMe with an error "
            f"({_reason(exc, settings)}); check PALBOT_API_URL",
            ExitCode.BOT_API_UNREACHABLE,
        ) from None
    finally:
        await request.shutdown()


def _reason(exc: TelegramError, settings: Settings) -> str:
    # An HTTP library may quote the request URL, which holds the token.
    assert settings.token is not None
    return _first_line(exc.message).replace(settings.token.get_secret_value(), "<token>")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0].strip() if text.strip() else ""
