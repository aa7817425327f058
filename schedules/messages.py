"""What leaves the bot, without Telegram types: messages, buttons, the Sender protocol,
and the registry of renderers that turn a pending send into a message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from sqlmodel import Session

from storage.models import PendingSend, Person
from translations import Translator


@dataclass(frozen=True)
class Button:
    """An inline button: exactly one of callback_data or url."""

    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class OutgoingMessage:
    """A message to one chat."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    photo_file_id: str | None = None
    # Quiet hours do not hold this message back (see schedules.quiet_hours).
    exempt_from_quiet_hours: bool = False
    attachments: tuple[tuple[str, bytes], ...] = field(default=())


class SendOutcome(StrEnum):
    """How a send ended, as far as the rules care."""

    DELIVERED = "delivered"
    UNREACHABLE = "unreachable"  # the person blocked the bot
    FAILED = "failed"  # Telegram refused the message; trying again would not help
    RETRY_LATER = "retry_later"  # flood limit or network trouble outlasted the retries


@dataclass(frozen=True)
class SendResult:
    """The outcome of one send and, if delivered, the Telegram message id."""

    outcome: SendOutcome
    message_id: int | None = None
    error: str | None = None
    # For RETRY_LATER: how long Telegram asked us to wait, if it said.
    retry_after: float | None = None


class Sender(Protocol):
    """Delivers messages; bot/ implements it with python-telegram-bot and pacing."""

    async def send(
        self, chat_id: int, message: OutgoingMessage, *, bulk: bool, broadcast: bool = False
    ) -> SendResult:
        """Send one message; `bulk` sends yield to interactive replies, and `broadcast`
        ones also keep to the broadcast rate (see schedules.pacing)."""
        ...


# A renderer builds the message for a pending send, or returns None when the send is
# no longer relevant (activity cancelled, survey already submitted…) and should be dropped.
Renderer = Callable[[Session, PendingSend, Person, Translator], OutgoingMessage | None]
