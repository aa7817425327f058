"""Each person's updates in arrival order, different people in parallel.

python-telegram-bot's `concurrent_updates(n)` runs any n updates at once, so a typed name
and the `/activities` sent right after it could run interleaved: the second read the
dialog position before the first had stored it. `PerPersonUpdateProcessor` gives every
person (the update's user, else its chat) a lane: their updates run one at a time in the
order they arrived, while other people's updates run beside them.

Two bounds, on purpose separate:
- python-telegram-bot's semaphore (`max_concurrent_updates`) admits updates into the
  processor; it is large and only caps how many can wait in memory.
- `running` caps how many updates execute at once. An update takes a running slot only
  when its person's turn has come, so a person with a slow update and more queued
  behind it holds one slot, never everyone's.

A lane exists only while its person has updates waiting or running; it is removed when
the last one finishes, so the table does not grow with the number of people ever seen.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# Updates executing at once: enough to overlap network waits of many people; database
# work is queued by storage.executor anyway.
DEFAULT_RUNNING = 64
# Updates admitted (waiting for their person's turn or running). Only a memory bound:
# a webhook delivers at most 40 at a time per connection and polling 100 per call.
DEFAULT_ADMITTED = 4096


@dataclass
class _Lane:
    """One person's turn-taking: a fair lock and how many updates still need it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    pending: int = 0


def person_key(update: object) -> int | None:
    """Whose turn an update waits for: its user's id, else its chat's id, else nobody's."""
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    if update.effective_chat is not None:
        return update.effective_chat.id
    return None


class PerPersonUpdateProcessor(BaseUpdateProcessor):
    """Serialises updates per person in arrival order; runs people concurrently, bounded."""

    __slots__ = ("_lanes", "_running", "_running_limit")

    def __init__(self, running: int = DEFAULT_RUNNING, admitted: int = DEFAULT_ADMITTED) -> None:
        if running < 1:
            raise ValueError("running must be a positive integer")
        super().__init__(max(admitted, running))
        self._running_limit = running
        self._running = asyncio.Semaphore(running)
        self._lanes: dict[int, _Lane] = {}

    @property
    def running_limit(self) -> int:
        """How many updates may execute at once."""
        return self._running_limit

    @property
    def active_people(self) -> int:
        """People with updates waiting or running now (the lanes held in memory)."""
        return len(self._lanes)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for this person's earlier updates, then run this one in a running slot."""
        key = person_key(update)
        if key is None:
            async with self._running:
                await coroutine
            return
        # Taken synchronously (no await before lock.acquire queues us), so the lock's FIFO
        # order is the order python-telegram-bot handed the updates over: arrival order.
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = _Lane()
        lane.pending += 1
        started = False
        try:
            async with lane.lock, self._running:
                started = True
                await coroutine
        finally:
            if not started and inspect.iscoroutine(coroutine):
                coroutine.close()  # cancelled while waiting: never ran, no warning
            lane.pending -= 1
            if lane.pending == 0:
                del self._lanes[key]

    async def initialize(self) -> None:
        """Nothing to allocate: lanes are created on demand."""

    async def shutdown(self) -> None:
        """Forget lanes; Application.stop() has already let every admitted update finish."""
        self._lanes.clear()
