"""The one pacing point every Bot API call passes through, without Telegram types.

Telegram allows about 30 messages per second overall and about one per second in a
chat; beyond that it answers 429 with `retry_after`. The pacer keeps sends under those
limits and decides who goes first:

- never more than `telegram_per_second` (30) sends arrive within any one second, each
  counted from its start until a second after its answer (see PacingState);
- bulk sends (reminders, notices, follow-ups) are spread evenly at `global_per_second`,
  broadcasts at most `broadcast_per_second` (the deployment's settings; both 30 unless
  set lower); every reply uses up one of those slots, so bulk sends yield the capacity
  replies take;
- interactive replies (a person pressed a button) go at the next free slot, ahead of
  any waiting bulk send, and are never spaced per chat;
- bulk sends to one chat are at least `per_chat_interval` apart, counted from the answer;
- a 429 on a bulk send pauses all bulk sends for `retry_after` (interactive replies to
  other chats continue); the failed send waits and is tried again;
- server errors, timeouts and lost connections of message sends are retried with
  exponential backoff up to `max_retries`; anything else is the caller's to handle.

`PacingState` is the pure decision logic, driven by explicit instants so it is tested
without sleeping; `Pacer` adds the waiting and retrying on top of it.

Several processes on one PostgreSQL database share one budget (`SharedSlots`, made in
schedules.pacing_shared): bulk sends then take their slot from the deployment's budget
instead of this process's own rate, a 429 pauses every process, and a chat held by a
bulk send in any process is waited for, and Telegram's 30 a second is split among the
live processes (`PacingState.cap` becomes this process's share). Replies never wait for
the database: they take the next slot this process already holds (ahead of its bulk
sends), or go at once and are charged to the budget afterwards. With SQLite (one
process) the pacer keeps everything in memory.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Protocol, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

WINDOW_SECONDS = 1.0
SLOT_TOLERANCE = 0.5
# With the window full of sends still waiting for Telegram, look again this soon.
IN_FLIGHT_POLL = 0.01
CHAT_CLEANUP_SECONDS = 10.0


class Lane(StrEnum):
    """Who a send is for, which decides its priority."""

    INTERACTIVE = "interactive"  # a reply to something the person just did
    BULK = "bulk"  # reminders, change notices, survey follow-ups, reserve-list notices
    BROADCAST = "broadcast"  # an animator's announcement to many people


@dataclass(frozen=True)
class PacingLimits:
    """The numbers the pacer keeps to; defaults follow Telegram's published limits."""

    # Telegram's own limit: never more sends than this arrive within any one second.
    telegram_per_second: int = 30
    # The rate the pacer aims for, all sends together; bulk sends keep to it exactly,
    # replies may burst above it (up to Telegram's limit) and push bulk sends back.
    global_per_second: float = 29.0
    broadcast_per_second: float = 25.0
    # A little over one second, so network jitter never lands two sends in one second.
    per_chat_interval: float = 1.05
    max_retries: int = 4
    backoff_initial: float = 0.5
    backoff_max: float = 8.0
    max_flood_retries: int = 3
    # A longer retry_after is handed back to the caller (the outbox re-dues the send)
    # instead of holding a claimed send that long.
    max_flood_wait: float = 30.0

    def __post_init__(self) -> None:
        if self.global_per_second < 1 or self.broadcast_per_second <= 0:
            raise ValueError("rates must allow at least one message per second")
        if self.global_per_second > self.telegram_per_second:
            raise ValueError("the global rate cannot exceed Telegram's limit")


class FailureKind(Enum):
    """How the pacer treats an exception from a call."""

    FLOOD = "flood"  # 429: wait retry_after, then try again
    TRANSIENT = "transient"  # 5xx, timeout, connection lost: back off, then try again
    FATAL = "fatal"  # anything else: the caller decides


@dataclass(frozen=True)
class Failure:
    """A classified exception."""

    kind: FailureKind
    retry_after: float = 0.0


Classifier = Callable[[BaseException], Failure]


def never_retry(_exc: BaseException) -> Failure:
    """A classifier that retries nothing (for callers without transport errors)."""
    return Failure(FailureKind.FATAL)


class SharedSlots(Protocol):
    """The deployment-wide half of pacing (schedules.pacing_shared implements it)."""

    def note_waiting(self, lane: Lane, change: int) -> None:
        """Count sends of `lane` waiting in this process (how many slots to ask for)."""
        ...

    async def slot(self, lane: Lane) -> float:
        """The instant (this process's clock) of a slot taken for one send of `lane`."""
        ...

    async def hold_chat(self, chat_id: int | None, *, bulk: bool, ahead: float = 0.0) -> float:
        """Hold the chat for a send `ahead` s from now; 0 when held, else seconds to wait."""
        ...

    def reply_slot(self) -> float | None:
        """The instant of a slot this process holds, given to a reply; None if none is near."""
        ...

    def charge(self) -> None:
        """Count a reply that went without a slot against the budget."""
        ...

    def pause(self, seconds: float) -> None:
        """Pause every process's bulk sends (Telegram answered 429)."""
        ...


class PacingState:
    """Rate bookkeeping and the decision "may this send go at `now`?".

    Two rules. The rate: bulk sends are spaced evenly at `global_per_second` (and
    broadcasts at `broadcast_per_second`), and every reply takes one of those slots.
    Telegram's limit: at most `telegram_per_second` sends in any one second, each counted
    from the moment it starts until one second after Telegram answered it. The server
    counts arrivals, which happen somewhere in between; counting this way keeps every
    second of arrivals under the limit even when a busy machine delays some requests.
    """

    def __init__(self, limits: PacingLimits, *, shared_rate: bool = False) -> None:
        self.limits = limits
        self.cap = limits.telegram_per_second
        # The rate of bulk sends is kept by the shared budget's slots, not here.
        self.shared_rate = shared_rate
        self._interval = {
            Lane.BULK: 1.0 / limits.global_per_second,
            Lane.BROADCAST: 1.0 / min(limits.broadcast_per_second, limits.global_per_second),
        }
        # When finished sends leave the window, in order; plus the sends still in flight.
        self._released: deque[float] = deque()
        self.in_flight = 0
        # Theoretical arrival times (GCRA): the global one all lanes use up, the
        # broadcast one only broadcasts.
        self._next_slot: dict[Lane, float] = {Lane.BULK: -math.inf, Lane.BROADCAST: -math.inf}
        self._chat_free_at: dict[int, float] = {}
        self._last_cleanup = -math.inf
        self.bulk_paused_until = -math.inf
        self.interactive_waiting = 0

    def _prune(self, now: float) -> None:
        while self._released and self._released[0] <= now:
            self._released.popleft()

    def chat_delay(self, chat_id: int | None, now: float) -> float:
        """Seconds until a bulk send may go to this chat (its spacing and any pause)."""
        waits = [0.0, self.bulk_paused_until - now]
        if chat_id is not None:
            waits.append(self._chat_free_at.get(chat_id, -math.inf) - now)
        return max(waits)

    def _rate_delay(self, lane: Lane, now: float) -> float:
        # Half a slot of tolerance absorbs timer lateness without letting the rate
        # drift down (the GCRA rule: conforming once now >= TAT - tolerance).
        return self._next_slot[lane] - SLOT_TOLERANCE * self._interval[lane] - now

    def slot_delay(self, lane: Lane, now: float) -> float:
        """Seconds until Telegram's limit (and, for bulk, the rate) has room."""
        self._prune(now)
        waits = [0.0]
        if self.in_flight + len(self._released) >= self.cap:
            waits.append(self._released[0] - now if self._released else IN_FLIGHT_POLL)
        if lane is not Lane.INTERACTIVE:
            waits.append(self.bulk_paused_until - now)
            if not self.shared_rate:
                waits.append(self._rate_delay(Lane.BULK, now))
        if lane is Lane.BROADCAST and not self.shared_rate:
            waits.append(self._rate_delay(Lane.BROADCAST, now))
        return max(waits)

    def delay(self, lane: Lane, chat_id: int | None, now: float) -> float:
        """Seconds until a send of `lane` to `chat_id` may go; 0 means now."""
        slot = self.slot_delay(lane, now)
        if lane is Lane.INTERACTIVE:
            return slot
        return max(slot, self.chat_delay(chat_id, now))

    def record(self, lane: Lane, chat_id: int | None, now: float) -> None:
        """Note that a send starts at `now` (call `done` when it is answered)."""
        self._prune(now)
        self.in_flight += 1
        # Every send uses up a slot of the global rate, so replies push bulk sends back.
        self._next_slot[Lane.BULK] = (
            max(self._next_slot[Lane.BULK], now) + self._interval[Lane.BULK]
        )
        if lane is Lane.BROADCAST:
            self._next_slot[Lane.BROADCAST] = (
                max(self._next_slot[Lane.BROADCAST], now) + (self._interval[Lane.BROADCAST])
            )
        self._hold_chat(chat_id, now + self.limits.per_chat_interval)

    def done(self, lane: Lane, chat_id: int | None, now: float) -> None:
        """Note that Telegram answered a send started with `record`."""
        self.in_flight = max(self.in_flight - 1, 0)
        self._released.append(now + WINDOW_SECONDS)
        # Spacing in a chat counts from the answer, so a delayed request cannot land
        # less than the interval before the next one.
        self._hold_chat(chat_id, now + self.limits.per_chat_interval)

    def _hold_chat(self, chat_id: int | None, until: float) -> None:
        if chat_id is None:
            return
        self._chat_free_at[chat_id] = max(until, self._chat_free_at.get(chat_id, until))
        if until - self._last_cleanup > CHAT_CLEANUP_SECONDS:
            # Chats free long ago need no entry; keeps the table as small as the traffic.
            self._last_cleanup = until
            idle = [
                chat
                for chat, free_at in self._chat_free_at.items()
                if free_at <= until - CHAT_CLEANUP_SECONDS
            ]
            for chat in idle:
                del self._chat_free_at[chat]

    def pause_bulk(self, seconds: float, now: float) -> None:
        """Hold every bulk send for `seconds` (Telegram said 429 to one)."""
        self.bulk_paused_until = max(self.bulk_paused_until, now + seconds)

    def pause_chat(self, chat_id: int | None, seconds: float, now: float) -> None:
        """Hold bulk sends to one chat for `seconds` (429 on a reply to that chat)."""
        self._hold_chat(chat_id, now + seconds)

    def in_window_at(self, instant: float) -> int:
        """How many sends made so far will still count against the second at `instant`."""
        return self.in_flight + sum(1 for released in self._released if released > instant)

    def in_window(self, now: float) -> int:
        """How many paced sends count against the current second."""
        self._prune(now)
        return self.in_flight + len(self._released)


@dataclass
class _Attempts:
    floods: int = 0
    transient: int = 0


class Pacer:
    """Waits for a slot, makes the call, and retries what is worth retrying."""

    def __init__(
        self,
        limits: PacingLimits | None = None,
        *,
        classify: Classifier = never_retry,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        shared: SharedSlots | None = None,
    ) -> None:
        self.limits = limits or PacingLimits()
        self.state = PacingState(self.limits, shared_rate=shared is not None)
        self.shared = shared
        self._classify = classify
        self._clock = clock
        self._sleep = sleep
        # One queue per bulk lane: asyncio.Lock wakes waiters in arrival order.
        self._queues: dict[Lane, asyncio.Lock] = {}
        self._interactive_idle: asyncio.Event | None = None
        # Running figures for logs and benchmarks.
        self.flood_waits = 0
        self.retries = 0
        self.sends = 0
        self.answer_seconds = 0.0

    def summary(self) -> str:
        """One line of running figures (no chat ids)."""
        mean = self.answer_seconds / self.sends * 1000 if self.sends else 0.0
        return (
            f"{self.sends} paced calls, mean answer {mean:.0f} ms, "
            f"{self.flood_waits} flood waits, {self.retries} retries"
        )

    def _idle_event(self) -> asyncio.Event:
        if self._interactive_idle is None:
            self._interactive_idle = asyncio.Event()
            self._interactive_idle.set()
        return self._interactive_idle

    async def acquire(self, lane: Lane, chat_id: int | None) -> None:
        """Wait until a send of `lane` to `chat_id` may go, and count it as sent."""
        if lane is Lane.INTERACTIVE:
            await self._acquire_interactive(chat_id)
        else:
            await self._acquire_bulk(lane, chat_id)

    async def _acquire_interactive(self, chat_id: int | None) -> None:
        state = self.state
        idle = self._idle_event()
        state.interactive_waiting += 1
        idle.clear()
        try:
            while (delay := state.delay(Lane.INTERACTIVE, chat_id, self._clock())) > 0:
                await self._sleep(delay)
            if self.shared is not None:
                # Only a bulk send to this very chat from another process holds a reply.
                for _ in range(2):
                    if (held := await self.shared.hold_chat(chat_id, bulk=False)) <= 0:
                        break
                    await self._sleep(held)
                slot = self.shared.reply_slot()
                if slot is None:
                    self.shared.charge()
                elif (wait := slot - self._clock()) > 0:
                    await self._sleep(wait)
                # This process's share of Telegram's limit may have filled meanwhile.
                while (delay := state.slot_delay(Lane.INTERACTIVE, self._clock())) > 0:
                    await self._sleep(delay)
            state.record(Lane.INTERACTIVE, chat_id, self._clock())
        finally:
            state.interactive_waiting -= 1
            if state.interactive_waiting == 0:
                idle.set()

    async def _acquire_bulk(self, lane: Lane, chat_id: int | None) -> None:
        if self.shared is None:
            await self._acquire_bulk_slot(lane, chat_id)
            return
        self.shared.note_waiting(lane, 1)
        try:
            await self._acquire_bulk_slot(lane, chat_id)
        finally:
            self.shared.note_waiting(lane, -1)

    async def _acquire_bulk_slot(self, lane: Lane, chat_id: int | None) -> None:
        state = self.state
        queue = self._queues.setdefault(lane, asyncio.Lock())
        while True:
            # Wait for this chat's spacing outside the queue, so one busy chat does not
            # hold up sends to everyone else.
            while (delay := state.chat_delay(chat_id, self._clock())) > 0:
                await self._sleep(delay)
            async with queue:
                while True:
                    if state.interactive_waiting:
                        await self._idle_event().wait()
                        continue
                    now = self._clock()
                    if state.chat_delay(chat_id, now) > 0:
                        break  # a reply reached this chat meanwhile: back to the chat wait
                    delay = state.slot_delay(lane, now)
                    if delay > 0:
                        await self._sleep(delay)
                        continue
                    if self.shared is not None and not await self._shared_turn(lane, chat_id):
                        break  # another process is sending to this chat: back to the chat wait
                    state.record(lane, chat_id, self._clock())
                    return

    async def _shared_turn(self, lane: Lane, chat_id: int | None) -> bool:
        """Take a slot of the shared budget, hold the chat, wait for the slot's instant.

        False (the slot is lost) if another process holds the chat. The chat is held
        before the wait, so the database's answer time never delays the send itself.
        """
        assert self.shared is not None
        slot = await self.shared.slot(lane)
        held = await self.shared.hold_chat(chat_id, bulk=True, ahead=max(slot - self._clock(), 0.0))
        if held > 0:
            self.state.pause_chat(chat_id, held, self._clock())
            return False
        if (wait := slot - self._clock()) > 0:
            await self._sleep(wait)
        # Replies may have filled this process's share of Telegram's limit meanwhile: that
        # limit is never exceeded, even at the cost of a late slot.
        while (delay := self.state.slot_delay(lane, self._clock())) > 0:
            await self._sleep(delay)
        return True

    async def call(
        self,
        fn: Callable[[], Awaitable[T]],
        *,
        lane: Lane = Lane.INTERACTIVE,
        chat_id: int | None = None,
        paced: bool = True,
    ) -> T:
        """Run `fn` in its turn; retry floods and transient failures, re-raise the rest."""
        attempts = _Attempts()
        while True:
            if paced:
                await self.acquire(lane, chat_id)
                started = self._clock()
            try:
                return await fn()
            except Exception as exc:
                pause = self._after_failure(exc, attempts, lane=lane, chat_id=chat_id, paced=paced)
            finally:
                if paced:
                    answered = self._clock()
                    self.state.done(lane, chat_id, answered)
                    self.sends += 1
                    self.answer_seconds += answered - started
            await self._sleep(pause)

    def _after_failure(
        self, exc: Exception, attempts: _Attempts, *, lane: Lane, chat_id: int | None, paced: bool
    ) -> float:
        """Seconds to wait before trying again, or re-raise `exc`."""
        failure = self._classify(exc)
        if failure.kind is FailureKind.FLOOD:
            attempts.floods += 1
            wait = max(failure.retry_after, 0.0)
            self._note_flood(lane, chat_id, wait)
            if attempts.floods > self.limits.max_flood_retries or wait > self.limits.max_flood_wait:
                raise exc
            return wait
        if failure.kind is FailureKind.TRANSIENT and paced:
            # Only message sends are retried here: a health check's getMe must see the
            # failure, and a stale callback answer is worth nothing.
            attempts.transient += 1
            if attempts.transient > self.limits.max_retries:
                raise exc
            self.retries += 1
            backoff = self.backoff(attempts.transient)
            log.info(
                "transient send failure (%s), retry %d in %.1f s",
                type(exc).__name__,
                attempts.transient,
                backoff,
            )
            return backoff
        raise exc

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before retry number `attempt` (1, 2, …) of a transient failure."""
        return float(min(self.limits.backoff_max, self.limits.backoff_initial * 2 ** (attempt - 1)))

    def _note_flood(self, lane: Lane, chat_id: int | None, wait: float) -> None:
        self.flood_waits += 1
        now = self._clock()
        if lane is Lane.INTERACTIVE:
            # Most likely this chat's own limit: keep bulk sends away from it only.
            self.state.pause_chat(chat_id, wait, now)
        else:
            self.state.pause_bulk(wait, now)
            if self.shared is not None:
                self.shared.pause(wait)
        # Whether it was one chat, not which: a private chat's id is the person's Telegram id.
        one_chat = chat_id is not None
        log.warning(
            "Telegram asked to slow down: lane=%s one_chat=%s retry_after=%.1f",
            lane.value,
            one_chat,
            wait,
        )
