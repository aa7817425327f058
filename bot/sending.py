"""Every Bot API call goes through one pacing point; outbox sends through `TelegramSender`.

`PacingRateLimiter` plugs schedules.pacing into python-telegram-bot as its rate limiter,
so handler replies, edits and outbox sends share one budget under Telegram's limits.
Handler calls are interactive by default; the outbox marks its sends bulk with
`rate_limit_args={"lane": "bulk"}` (or `"broadcast"`). PTB's AIORateLimiter is not used:
it has no per-chat spacing and stops everything on a single 429.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import BaseRateLimiter, ExtBot
from telegram.warnings import PTBDeprecationWarning

from bot.settings import Settings
from schedules.clock import Clock
from schedules.messages import OutgoingMessage, SendOutcome, SendResult
from schedules.pacing import Failure, FailureKind, Lane, Pacer, PacingLimits
from schedules.pacing_shared import SharedBudget, shared_pacer
from storage.db import make_engine
from storage.executor import Database
from storage.messaging.outbox import UNREACHABLE, person_blocked_bot
from storage.messaging.send_budget import BudgetStore

log = logging.getLogger(__name__)

# PTB 22 builds every RetryAfter by reading its own `retry_after`, which warns unless the
# process opts in to the timedelta type coming in PTB 23. We read both types anyway.
os.environ.setdefault("PTB_TIMEDELTA", "true")

# Methods that put or change a message in a chat: these count against Telegram's
# message limits. Everything else (answerCallbackQuery, getMe…) is only retried.
PACED_METHODS = frozenset({
    "sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup", "sendAudio", "sendVideo",
    "sendVoice", "sendAnimation", "sendSticker", "sendLocation", "sendVenue", "sendContact",
    "sendPoll", "sendDice", "copyMessage", "copyMessages", "forwardMessage", "forwardMessages",
    "editMessageText", "editMessageCaption", "editMessageMedia", "editMessageReplyMarkup",
})  # fmt: skip
CAPTION_LIMIT = 1024


def retry_after_seconds(exc: RetryAfter) -> float:
    """`retry_after` in seconds, whichever type this PTB version gives."""
    with warnings.catch_warnings():
        # PTB 22 warns that the attribute becomes a timedelta; we accept both.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def classify(exc: BaseException) -> Failure:
    """How the pacer treats a Bot API error: wait (429), back off (5xx, timeouts), or not."""
    if isinstance(exc, RetryAfter):
        return Failure(FailureKind.FLOOD, retry_after_seconds(exc))
    if isinstance(exc, BadRequest):  # a subclass of NetworkError, but never worth a retry
        return Failure(FailureKind.FATAL)
    if isinstance(exc, NetworkError):  # 5xx, timeouts, lost connections
        return Failure(FailureKind.TRANSIENT)
    return Failure(FailureKind.FATAL)


def build_pacer(settings: Settings) -> Pacer:
    """The process's pacer, with the rates from the settings as the whole bot's budget.

    On PostgreSQL every process takes its bulk sends' slots from the budget they share
    (schedules.pacing_shared), so any number of processes keep to the rates together;
    with SQLite (one process) the pacer keeps the budget in memory.
    """
    limits = PacingLimits(
        global_per_second=settings.global_rate_per_second,
        broadcast_per_second=settings.broadcast_rate_per_second,
    )
    if settings.database_url.startswith("postgresql"):
        return shared_pacer(
            limits, BudgetStore(make_engine(settings.database_url)), classify=classify
        )
    return Pacer(limits, classify=classify)


def _lane(rate_limit_args: dict[str, Any] | None) -> Lane:
    if not rate_limit_args:
        return Lane.INTERACTIVE
    lane = rate_limit_args.get("lane")
    if lane is not None:
        return Lane(lane)
    return Lane.BULK if rate_limit_args.get("bulk") else Lane.INTERACTIVE


def _chat_id(data: dict[str, Any]) -> int | None:
    chat = data.get("chat_id")
    if isinstance(chat, int):
        return chat
    if isinstance(chat, str) and chat.lstrip("-").isdigit():
        return int(chat)
    return None


class PacingRateLimiter(BaseRateLimiter[dict[str, Any]]):
    """python-telegram-bot's rate limiter hook, backed by schedules.pacing.Pacer."""

    def __init__(self, pacer: Pacer) -> None:
        self.pacer = pacer

    async def initialize(self) -> None:
        """Join the shared budget, if the pacer uses one."""
        if isinstance(self.pacer.shared, SharedBudget):
            await self.pacer.shared.start()

    async def shutdown(self) -> None:
        """Log the pacer's figures and leave the shared budget."""
        log.info("pacer: %s", self.pacer.summary())
        if isinstance(self.pacer.shared, SharedBudget):
            log.info("pacer: %s", self.pacer.shared.summary())
            await self.pacer.shared.stop()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Wait for the request's turn, make it, and retry floods and transient failures."""

        async def call() -> bool | dict[str, Any] | list[dict[str, Any]]:
            return await callback(*args, **kwargs)

        return await self.pacer.call(
            call,
            lane=_lane(rate_limit_args),
            chat_id=_chat_id(data),
            paced=endpoint in PACED_METHODS,
        )


def inline_markup(message: OutgoingMessage) -> InlineKeyboardMarkup | None:
    """The message's buttons as a Telegram inline keyboard."""
    if not message.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.text, callback_data=b.callback_data, url=b.url) for b in row]
            for row in message.buttons
        ]
    )


class TelegramSender:
    """The `Sender` of schedules.messages, on python-telegram-bot and the pacer."""

    def __init__(self, bot: Bot, db: Database, clock: Clock) -> None:
        self._bot = bot
        self._db = db
        self._clock = clock

    async def send(
        self, chat_id: int, message: OutgoingMessage, *, bulk: bool, broadcast: bool = False
    ) -> SendResult:
        """Send one message and say how it went; never raises for Telegram's answers."""
        lane = Lane.BROADCAST if broadcast else Lane.BULK if bulk else Lane.INTERACTIVE
        try:
            sent = await self._send(chat_id, message, lane)
        except Forbidden:
            await self._db.write(person_blocked_bot, telegram_id=chat_id, now=self._clock.now())
            return SendResult(SendOutcome.UNREACHABLE, error=UNREACHABLE)
        except RetryAfter as exc:
            wait = retry_after_seconds(exc)
            return SendResult(
                SendOutcome.RETRY_LATER, error=f"RetryAfter {wait:g}s", retry_after=wait
            )
        except BadRequest as exc:
            return SendResult(SendOutcome.FAILED, error=_describe(exc))
        except TelegramError as exc:  # network trouble outlasting the retries, and the rest
            return SendResult(SendOutcome.RETRY_LATER, error=_describe(exc))
        return SendResult(SendOutcome.DELIVERED, message_id=sent.message_id)

    async def _send(self, chat_id: int, message: OutgoingMessage, lane: Lane) -> Message:
        extra: dict[str, Any] = {}
        if isinstance(self._bot, ExtBot) and self._bot.rate_limiter is not None:
            extra["rate_limit_args"] = {"lane": lane.value}
        markup = inline_markup(message)
        if message.photo_file_id is not None and len(message.text) <= CAPTION_LIMIT:
            return await self._bot.send_photo(
                chat_id,
                message.photo_file_id,
                caption=message.text or None,
                reply_markup=markup,
                **extra,
            )
        if message.attachments:
            first: Message | None = None
            if len(message.text) > CAPTION_LIMIT:
                first = await self._bot.send_message(
                    chat_id, message.text, reply_markup=markup, **extra
                )
            for index, (name, content) in enumerate(message.attachments):
                caption = message.text if first is None and index == 0 else None
                sent = await self._bot.send_document(
                    chat_id,
                    content,
                    filename=name,
                    caption=caption or None,
                    reply_markup=markup if caption else None,
                    **extra,
                )
                first = first or sent
            assert first is not None
            return first
        if message.photo_file_id is not None:
            await self._bot.send_photo(chat_id, message.photo_file_id, **extra)
        return await self._bot.send_message(chat_id, message.text, reply_markup=markup, **extra)


def _describe(exc: TelegramError) -> str:
    # Bot API error descriptions name the problem, never the message text.
    return f"{type(exc).__name__}: {exc.message}"[:200]
