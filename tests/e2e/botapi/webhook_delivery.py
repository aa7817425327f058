"""Push the fake server's updates to a webhook, as Telegram does after setWebhook.

Telegram POSTs each update as JSON with the `X-Telegram-Bot-Api-Secret-Token` header,
keeps up to `max_connections` requests open, and repeats an update until it gets a 2xx.
Updates of one chat go one at a time, in order (a person waits for the bot's reply
anyway); different chats go in parallel. Users act through FakeBotApi as in polling
mode; this only changes how the updates reach the bot.

It takes updates from the server's queue directly (the server has no push of its own).
"""
# ruff: noqa: ASYNC109  # waiters take timeout= like pytest helpers, not asyncio.timeout

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp

if TYPE_CHECKING:
    from .server import FakeBotApi

__all__ = ["DeliveryStats", "WebhookDelivery"]

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass
class DeliveryStats:
    """What the delivery did, for assertions and benchmarks."""

    delivered: int = 0
    retried: int = 0
    refused: int = 0  # 403: wrong secret
    given_up: int = 0
    statuses: dict[int, int] = field(default_factory=dict)


def _chat_of(update: dict[str, Any]) -> int:
    for key in ("message", "edited_message", "my_chat_member"):
        if key in update:
            return int(update[key]["chat"]["id"])
    if "callback_query" in update:
        return int(update["callback_query"]["from"]["id"])
    return 0


class WebhookDelivery:
    """Deliver every update the fake server queues to `url` until stopped."""

    def __init__(
        self,
        api: FakeBotApi,
        url: str,
        secret: str,
        *,
        max_connections: int = 40,
        retry_delay: float = 0.2,
        max_attempts: int = 100,
    ) -> None:
        self.api = api
        self.url = url
        self.secret = secret
        self.retry_delay = retry_delay
        self.max_attempts = max_attempts
        self.stats = DeliveryStats()
        self._slots = asyncio.Semaphore(max_connections)
        self._chats: dict[int, deque[dict[str, Any]]] = {}
        self._workers: set[asyncio.Task[None]] = set()
        self._pump: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._stopping = False

    async def __aenter__(self) -> WebhookDelivery:
        """Start delivering."""
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Stop delivering."""
        await self.stop()

    async def start(self) -> None:
        """Start taking updates from the server's queue."""
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=30),
            connector=aiohttp.TCPConnector(limit=0),
        )
        self._stopping = False
        self._pump = asyncio.create_task(self._run(), name="webhook-delivery")

    async def stop(self) -> None:
        """Stop; updates not yet delivered stay lost to the bot (as with Telegram off)."""
        self._stopping = True
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        for task in list(self._workers):
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    @property
    def in_flight(self) -> int:
        """Updates taken from the server but not yet accepted by the bot."""
        return sum(len(q) for q in self._chats.values())

    async def drained(self, timeout: float = 30.0) -> None:
        """Wait until every queued update was accepted (or given up)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.api.pending_updates() or self.in_flight:
            if loop.time() > deadline:
                raise TimeoutError(f"{self.in_flight} updates still undelivered")
            await asyncio.sleep(0.02)

    async def _run(self) -> None:
        queue = self.api._updates  # the server's getUpdates queue
        while not self._stopping:
            while queue:
                update = queue.popleft()
                chat = _chat_of(update)
                pending = self._chats.setdefault(chat, deque())
                pending.append(update)
                if len(pending) == 1:
                    task = asyncio.create_task(self._drain(chat))
                    self._workers.add(task)
                    task.add_done_callback(self._workers.discard)
            await self.api._notifier.wait(0.2)

    async def _drain(self, chat: int) -> None:
        pending = self._chats[chat]
        while pending:
            await self._deliver(pending[0])
            pending.popleft()
        del self._chats[chat]

    async def _deliver(self, update: dict[str, Any]) -> None:
        assert self._session is not None
        for _attempt in range(self.max_attempts):
            async with self._slots:
                try:
                    async with self._session.post(
                        self.url, json=update, headers={SECRET_HEADER: self.secret}
                    ) as response:
                        status = response.status
                        await response.read()
                except (TimeoutError, aiohttp.ClientError):
                    status = 0
            self.stats.statuses[status] = self.stats.statuses.get(status, 0) + 1
            if 200 <= status < 300:
                self.stats.delivered += 1
                return
            if status == 403:
                self.stats.refused += 1
            self.stats.retried += 1
            await asyncio.sleep(self.retry_delay)
        self.stats.given_up += 1
