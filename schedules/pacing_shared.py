"""The deployment-wide send budget as the pacer sees it: slots, charges, pauses, chats.

schedules.pacing decides who goes first; this gives its bulk sends their slots from the
budget every process shares (storage.messaging.send_budget) and tells the other processes what
this one did:

- slots are reserved a few at a time (as many as sends wait here, at most
  `SLOT_BATCH`), never more than `HORIZON` s ahead, so a process that dies wastes at
  most that much of the budget and the others carry on at the full rate at once;
- replies never wait for a round trip to the budget: a reply takes the earliest slot
  this process holds if it is due within `REPLY_SLOT_WAIT` s (so bursts of replies are
  smoothed into the budget like everything else), otherwise it goes at once and is
  charged with the next reservation (or within `CHARGE_DELAY` s);
- while bulk sends are going on anywhere, a reply holds its chat (one short statement,
  given up after `HOLD_TIMEOUT` s) so no process sends a bulk message there within a
  second, and waits if a bulk send holds it;
- each process keeps its own sends, replies included, to its share of Telegram's limit
  (30 divided among the live processes, counted from each send's start until a second
  after its answer, see PacingState): together they never exceed it, even when the
  server is slow to answer. A heartbeat a second counts the live processes; one silent
  for `ALIVE_WITHIN` s is gone and its share goes to the others. The shares must never
  add up to more than 30 while the processes learn of a change, so a process that
  joins (or comes back from a silence the others may have taken for its death) sends
  nothing until every other live process has counted it, and a process whose own
  heartbeat is late stops sending before the others could count it out;
- a 429 pauses every process until its `retry_after` has passed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable

from schedules.pacing import Classifier, Lane, Pacer, PacingLimits, never_retry
from schedules.workers import worker_identity
from storage.messaging.send_budget import (
    BudgetStore,
    Grant,
    ensure_budget,
    forget_old_holds,
    heartbeat,
    hold_chat,
    leave,
    pause_all,
    take_slots,
)

log = logging.getLogger(__name__)

# Slots are never reserved further ahead than this: what a dead process can waste.
HORIZON = 0.5
# At most this many slots per reservation (about a third of a second of sending).
SLOT_BATCH = 8
# A slot this late (a busy event loop) is not used: it would bunch up with the next
# process's slots. (Telegram's limit itself is kept by each process's share of it; a
# late slot only costs evenness.)
LATE_SLOT = 0.2
# A reply waits this long at most for a slot this process holds; with none that near
# it goes at once and is charged.
REPLY_SLOT_WAIT = 0.25
# Replies are charged to the budget at the latest this long after they went.
CHARGE_DELAY = 0.1
# A reply gives up holding its chat after this long and goes anyway.
HOLD_TIMEOUT = 0.5
# Bulk sending counts as going on this long after its last slot.
BUSY_SECONDS = 2.0
# A chat a bulk send holds stays held this much beyond the per-chat interval, for the
# time the request takes to reach Telegram.
ANSWER_ALLOWANCE = 0.25
# Every process says it is alive this often; one silent for ALIVE_WITHIN s is gone
# and its share of the replies' limit goes to the others.
HEARTBEAT_SECONDS = 1.0
ALIVE_WITHIN = 3.0
# A process whose last heartbeat is this close to ALIVE_WITHIN stops sending: the others
# may be about to count it out and take its share.
SILENCE_MARGIN = 0.75
# A heartbeat this long after a newcomer's surely saw the newcomer's committed row.
COMMIT_MARGIN = 0.25
# After the database failed, try again this soon.
RETRY_SECONDS = 1.0
HOLD_CLEANUP_EVERY = 10.0


class SharedBudget:
    """The pacer's `SharedSlots` on the PostgreSQL budget row."""

    def __init__(
        self,
        store: BudgetStore,
        limits: PacingLimits,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        worker: str | None = None,
    ) -> None:
        self.store = store
        self.worker = worker or worker_identity()
        # Live processes sharing the budget (this one included), from the heartbeats.
        self.live = 1
        # This process's share of Telegram's limit: none until the others have counted it.
        self.share = 0
        self._heartbeat: asyncio.Task[None] | None = None
        self.limits = limits
        self._clock = clock
        self._sleep = sleep
        # The grid only spreads the starts evenly: Telegram's limit itself is kept by each
        # process's share of it, so the grid may run at the full rate (a margin below it
        # measured 26.5 instead of 27.6 messages a second with three processes).
        self._interval = 1.0 / min(limits.global_per_second, limits.telegram_per_second)
        self._broadcast_interval = 1.0 / min(limits.broadcast_per_second, limits.global_per_second)
        self._slots: dict[Lane, deque[float]] = {Lane.BULK: deque(), Lane.BROADCAST: deque()}
        self._waiting: Counter[Lane] = Counter()
        self._debt = 0
        self._credit = 0
        self._charging: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._busy_until = -math.inf
        self._last_cleanup = -math.inf
        # Called with the seconds a pause announced by another process has left.
        self.on_pause: Callable[[float], None] | None = None
        # Called with this process's share of Telegram's limit when it changes.
        self.on_share: Callable[[int], None] | None = None
        # Since when (database clock) the others have been able to count this process.
        self._joined: float | None = None
        self._last_beat: float | None = None
        self._silence: asyncio.TimerHandle | None = None
        # How many more sends this process's share of Telegram's limit has room for now.
        self.room: Callable[[], int] = lambda: SLOT_BATCH
        # Running figures for logs and benchmarks.
        self.reservations = 0
        self.slots_taken = 0
        self.slots_lost = 0
        self.holds_waited = 0
        self.replies_on_slots = 0

    def summary(self) -> str:
        """One line of running figures."""
        return (
            f"shared budget: {self.reservations} reservations, {self.slots_taken} slots, "
            f"{self.slots_lost} lost, {self.replies_on_slots} given to replies, "
            f"{self.holds_waited} chat waits"
        )

    async def start(self) -> None:
        """Make sure the budget row exists, join the live processes, keep saying so."""
        await self.store.run(ensure_budget)
        await self._beat()
        self._heartbeat = asyncio.get_running_loop().create_task(self._heartbeats())

    async def stop(self) -> None:
        """Charge what is owed, hand this process's share to the others, let go."""
        if self._silence is not None:
            self._silence.cancel()
        for task in [self._charging, self._heartbeat, *self._tasks]:
            if task is not None and not task.done():
                task.cancel()
        with contextlib.suppress(Exception):
            if self._debt:
                await self._take(Lane.BULK, 0)
            await self.store.run(leave, worker=self.worker)
        self.store.close()

    async def _beat(self) -> None:
        asked = self._clock()  # no later than the instant the others will see
        members = await self.store.run(heartbeat, worker=self.worker, alive_within=ALIVE_WITHIN)
        received = self._clock()
        self.live = members.live
        # Even a process sending no bulk itself learns within a second that others do.
        self._busy_until = max(
            self._busy_until, received + members.last_bulk_slot - members.now + BUSY_SECONDS
        )
        joined = self._joined
        if (
            joined is None
            or self._last_beat is None
            or (members.now - self._last_beat > ALIVE_WITHIN - SILENCE_MARGIN)
        ):
            joined = members.now  # new here, or perhaps counted out meanwhile
        self._joined, self._last_beat = joined, members.now
        counted_by_all = members.others_seen_since >= joined + COMMIT_MARGIN
        self._set_share(process_share(self.limits, self.live) if counted_by_all else 0)
        # Should the next heartbeats not come through, stop before being counted out.
        if self._silence is not None:
            self._silence.cancel()
        self._silence = asyncio.get_running_loop().call_later(
            max(asked + ALIVE_WITHIN - SILENCE_MARGIN - received, 0.0), self._set_share, 0
        )

    def _set_share(self, share: int) -> None:
        if share != self.share:
            log.info(
                "processes sharing the send budget: %d, this one's share %d a second",
                self.live,
                share,
            )
        self.share = share
        if self.on_share is not None:
            self.on_share(share)

    async def _heartbeats(self) -> None:
        while True:
            await self._sleep(HEARTBEAT_SECONDS)
            try:
                await self._beat()
            except Exception as exc:  # keep the last count; the next beat tries again
                log.warning("send budget heartbeat failed: %s", type(exc).__name__)

    def held(self) -> int:
        """Slots reserved here and not used yet."""
        return sum(len(queue) for queue in self._slots.values())

    # --- the SharedSlots protocol

    def note_waiting(self, lane: Lane, change: int) -> None:
        """Count sends of `lane` waiting here, so a reservation asks for enough slots."""
        self._waiting[lane] += change

    async def slot(self, lane: Lane) -> float:
        """A slot for one send of `lane`: its instant on this process's clock."""
        queue = self._slots[lane]
        while True:
            now = self._clock()
            while queue and queue[0] < now - LATE_SLOT:
                queue.popleft()
                self.slots_lost += 1
            if queue:
                return queue.popleft()
            try:
                # No more than this process's share lets it send: the rest would be lost.
                wanted = min(SLOT_BATCH, max(self._waiting[lane], 1), max(self.room(), 1))
                next_free = await self._take(lane, wanted)
            except Exception as exc:  # the database is away for a moment: wait, ask again
                log.warning("could not reserve send slots: %s", type(exc).__name__)
                await self._sleep(RETRY_SECONDS)
                continue
            if not queue:
                # Every slot up to the horizon is taken: ask again when there is room.
                await self._sleep(max(next_free - HORIZON - self._clock(), 0.0) + 0.005)

    async def hold_chat(self, chat_id: int | None, *, bulk: bool, ahead: float = 0.0) -> float:
        """Hold the chat for a send `ahead` s from now; 0 when held, else seconds to wait."""
        if chat_id is None:
            return 0.0
        if not bulk and self._clock() >= self._busy_until:
            return 0.0  # no bulk send anywhere: nothing a reply could collide with
        seconds = ahead + self.limits.per_chat_interval + (ANSWER_ALLOWANCE if bulk else 0.0)
        call = self.store.run(hold_chat, chat_id=chat_id, seconds=seconds, bulk=bulk)
        try:
            held = await (call if bulk else asyncio.wait_for(call, HOLD_TIMEOUT))
        except Exception as exc:
            if bulk:
                log.warning("could not hold a chat: %s", type(exc).__name__)
                return RETRY_SECONDS
            return 0.0  # a reply does not wait for a slow database
        if held > 0:
            self.holds_waited += 1
        return held

    def reply_slot(self) -> float | None:
        """A slot this process holds, due within `REPLY_SLOT_WAIT` s, given to a reply.

        Replies go first: the earliest slot reserved for bulk sends is theirs, and the
        bulk send reserves another. An announcement's slot is credited back to the
        announcements' own rate. None when no slot is near: the reply goes at once and
        is charged instead.
        """
        now = self._clock()
        best: Lane | None = None
        for lane, queue in self._slots.items():
            while queue and queue[0] < now - LATE_SLOT:
                queue.popleft()
                self.slots_lost += 1
            if (
                queue
                and queue[0] <= now + REPLY_SLOT_WAIT
                and (best is None or queue[0] < self._slots[best][0])
            ):
                best = lane
        if best is None:
            return None
        if best is Lane.BROADCAST:
            self._credit += 1
        self.replies_on_slots += 1
        return self._slots[best].popleft()

    def charge(self) -> None:
        """Count a reply against the budget (charged with the next reservation)."""
        self._debt += 1
        if self._charging is None or self._charging.done():
            self._charging = asyncio.get_running_loop().create_task(self._charge_soon())

    def pause(self, seconds: float) -> None:
        """Pause every process's bulk sends for `seconds`."""
        task = asyncio.get_running_loop().create_task(self._pause(seconds))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- talking to the budget

    async def _charge_soon(self) -> None:
        await self._sleep(CHARGE_DELAY)
        if self._debt:
            try:
                await self._take(Lane.BULK, 0)
            except Exception as exc:
                log.warning("could not charge replies to the budget: %s", type(exc).__name__)

    async def _pause(self, seconds: float) -> None:
        try:
            await self.store.run(pause_all, seconds=seconds)
        except Exception as exc:
            log.warning("could not share a pause: %s", type(exc).__name__)

    async def _take(self, lane: Lane, count: int) -> float:
        """Reserve up to `count` slots of `lane` (charging the debt); the next free instant."""
        debt, self._debt = self._debt, 0
        credit = 0
        if lane is Lane.BROADCAST:
            credit, self._credit = self._credit, 0
        try:
            grant = await self.store.run(
                take_slots,
                count=count,
                interval=self._interval,
                broadcast_interval=self._broadcast_interval if lane is Lane.BROADCAST else None,
                horizon=HORIZON,
                debt=debt,
                credit=credit,
            )
        except BaseException:
            self._debt += debt
            self._credit += credit
            raise
        received = self._clock()
        self.reservations += 1
        self.slots_taken += len(grant.slots)
        self._slots[lane].extend(self._local(grant, slot, received) for slot in grant.slots)
        self._learn(grant, received)
        if received - self._last_cleanup > HOLD_CLEANUP_EVERY:
            self._last_cleanup = received
            await self.store.run(forget_old_holds)
        return self._local(grant, grant.next_free, received)

    @staticmethod
    def _local(grant: Grant, instant: float, received: float) -> float:
        """An instant of the database's clock on this process's clock."""
        return received + (instant - grant.now)

    def _learn(self, grant: Grant, received: float) -> None:
        self._busy_until = max(
            self._busy_until, self._local(grant, grant.last_bulk_slot, received) + BUSY_SECONDS
        )
        paused = self._local(grant, grant.paused_until, received) - received
        if paused > 0 and self.on_pause is not None:
            self.on_pause(paused)


def shared_pacer(
    limits: PacingLimits, store: BudgetStore, *, classify: Classifier = never_retry
) -> Pacer:
    """A pacer whose bulk sends take their slots from the deployment's shared budget."""
    shared = SharedBudget(store, limits)
    pacer = Pacer(limits, classify=classify, shared=shared)
    pacer.state.cap = shared.share  # nothing goes before the first heartbeat

    def paused_elsewhere(seconds: float) -> None:
        pacer.state.pause_bulk(seconds, time.monotonic())

    def share_changed(share: int) -> None:
        pacer.state.cap = share

    def room() -> int:
        # Room by the end of the horizon, where the slots asked for now would fall.
        later = time.monotonic() + HORIZON
        return pacer.state.cap - pacer.state.in_window_at(later) - shared.held()

    shared.on_pause = paused_elsewhere
    shared.on_share = share_changed
    shared.room = room
    return pacer


def process_share(limits: PacingLimits, live: int) -> int:
    """How many of Telegram's messages a second one of `live` processes may have under way."""
    return max(1, limits.telegram_per_second // max(live, 1))
