"""The outbox dispatcher: sends every pending message once, on time, across restarts.

The database is the source of truth. A wake-up (a timer at the next due time, a poke
when something is queued for now, a periodic sweep) makes the dispatcher claim due
rows in short transactions, render each in the person's language, and hand it to the
`Sender`. The outcome is written the moment the Bot API answers:

    pending --claim--> claimed --sent-->    sent
                               --retry-->   pending (later, attempts + 1) … failed
                               --drop-->    dropped (no longer relevant)
                               --quiet-->   pending (due at the end of quiet hours)

A worker that dies leaves its claims behind; they are released when the worker is
known to be dead (same host, process gone) or after `lease`. The one case that can
still repeat a message: the process dies after Telegram accepted a send and before
`sent` was written (milliseconds). Telegram offers no idempotency key to close that.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlmodel import Session
from tenacity import AsyncRetrying, RetryError, stop_after_attempt, wait_exponential

from schedules.clock import Clock
from schedules.messages import Renderer, Sender, SendOutcome, SendResult
from schedules.preparing import Batch, Preparer, Ready
from schedules.renderers import RENDERERS
from schedules.workers import is_dead_worker, worker_identity
from storage.executor import Database
from storage.messaging.claims import (
    hold_until,
    mark_failed,
    mark_retry,
    mark_sent,
    next_due_at,
    release_stale_claims,
    retry_delay,
)
from storage.messaging.outbox import UNREACHABLE, add_enqueue_listener
from storage.models import SendKind
from storage.setting_values import QuietHours

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
# Sends to many people at once keep to the announcement rate (schedules.pacing).
PACED_AS_ANNOUNCEMENTS = frozenset(
    {SendKind.BROADCAST, SendKind.CONSULTATION, SendKind.CONSULTATION_RESULTS}
)
# Sends due within this margin are "now": they are sent at once, not at a timer.
NOW_MARGIN = timedelta(seconds=1)


# --- the dispatcher -----------------------------------------------------------------------


class Alarm(Protocol):
    """Wakes the dispatcher at an instant (bot/ implements it with the JobQueue)."""

    def wake_at(self, when: datetime | None) -> None:
        """Call `Dispatcher.poke` at `when`; None cancels the pending wake-up."""
        ...


@dataclass(frozen=True)
class DispatchSettings:
    """What the dispatcher needs from the deployment's settings."""

    timezone: str = "Europe/Warsaw"
    quiet_hours: QuietHours = None
    batch: int = 16  # rows claimed per transaction
    in_flight: int = 32  # sends handed to the Sender at once (about a second of sending)
    lease: timedelta = LEASE


class Dispatcher:
    """Claims, renders and sends due pending sends; one per process."""

    def __init__(
        self,
        *,
        db: Database,
        sender: Sender,
        clock: Clock,
        settings: DispatchSettings | None = None,
        worker: str | None = None,
        alarm: Alarm | None = None,
        renderers: Mapping[str, Renderer] = RENDERERS,
    ) -> None:
        self._db = db
        self._sender = sender
        self._clock = clock
        self.settings = settings or DispatchSettings()
        self.worker = worker or worker_identity()
        self._preparer = Preparer(
            self.worker, self.settings.timezone, self.settings.quiet_hours, renderers
        )
        self._alarm = alarm
        self._loop: asyncio.AbstractEventLoop | None = None
        self._remove_listener: Callable[[], None] | None = None
        self._drain_task: asyncio.Task[None] | None = None
        self._again = False
        self._stopping = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._busy: set[int] = set()
        self._finished = 0  # deliveries completed, to notice one that ends during a claim
        self._next_wake: datetime | None = None
        self._settled = 0
        self._started_at: float | None = None
        self.stats: Counter[str] = Counter()

    # --- life cycle

    async def start(self) -> None:
        """Resolve crashed workers' claims, then send what is due and set the next wake-up."""
        self._loop = asyncio.get_running_loop()
        self._started_at = time.monotonic()
        self._stopping = False
        self._remove_listener = add_enqueue_listener(self._enqueued_in_thread)
        await self.sweep()

    async def stop(self, grace: float = 10.0) -> None:
        """Stop claiming; let sends in flight finish (up to `grace` s), then return.

        Sends still unanswered after that are cancelled and their claims given back.
        """
        self._stopping = True
        if self._remove_listener is not None:
            self._remove_listener()
            self._remove_listener = None
        if self._alarm is not None:
            self._alarm.wake_at(None)
        if self._drain_task is not None:
            await asyncio.wait({self._drain_task}, timeout=grace)
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=5)  # they give their claims back
                log.warning(
                    "stopped with %d sends unanswered; their claims were given back", len(pending)
                )

    # --- waking up

    def poke(self) -> None:
        """Send whatever is due now (safe to call any time; runs once at a time)."""
        if self._stopping:
            return
        if self._drain_task is not None and not self._drain_task.done():
            self._again = True
            return
        self._drain_task = asyncio.get_running_loop().create_task(self._drain_loop())

    async def sweep(self) -> None:
        """The periodic check: release claims of dead workers and send what is due."""
        if self._stopping:
            return
        try:
            await self.release_stale_claims()
        except Exception as exc:  # the database may be down for a moment; the next sweep retries
            log.warning("could not check for stale claims: %s", type(exc).__name__)
        self.poke()

    def _enqueued_in_thread(self, due_at: datetime) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed since the check
            loop.call_soon_threadsafe(self._enqueued, due_at)

    def _enqueued(self, due_at: datetime) -> None:
        if due_at <= self._clock.now() + NOW_MARGIN:
            self.poke()
        elif self._next_wake is None or due_at < self._next_wake:
            self._wake_at(due_at)

    def _wake_at(self, when: datetime | None) -> None:
        log.debug("next wake-up at %s", when)
        self._next_wake = when
        if self._alarm is not None:
            self._alarm.wake_at(when)

    async def _drain_loop(self) -> None:
        try:
            while True:
                self._again = False
                await self.drain()
                if not self._again or self._stopping:
                    break
            if not self._stopping:
                await self._schedule_next()
        except Exception:
            log.exception("outbox dispatch failed; trying again in 30 s")
            self._wake_at(self._clock.now() + timedelta(seconds=30))

    async def _schedule_next(self) -> None:
        due = await self._db.read(next_due_at)
        now = self._clock.now()
        if due is not None and due <= now:
            # Due but not claimable now (another process holds it): look again shortly.
            due = now + NOW_MARGIN
        if self._started_at is not None:
            log.info(
                "outbox ready in %.0f ms; next send due at %s",
                (time.monotonic() - self._started_at) * 1000,
                due,
            )
            self._started_at = None
        self._wake_at(due)

    # --- sending

    async def release_stale_claims(self) -> list[int]:
        """Give claims of dead or lapsed workers back to `pending`."""
        return await self._db.write(
            release_stale_claims,
            now=self._clock.now(),
            lease=self.settings.lease,
            is_dead=lambda worker: is_dead_worker(worker, me=self.worker),
        )

    async def drain(self) -> int:
        """Send everything due now, a few at a time; returns how many sends were settled."""
        settled_before = self._settled
        while not self._stopping:
            free = self.settings.in_flight - len(self._tasks)
            progressed = False
            # A send that finishes while the claim below runs frees its person, whose next
            # send the claim skipped as busy: claim again rather than stop.
            finished_before = self._finished
            # Claim in handfuls, not after every answer: fewer, fuller transactions.
            if free >= max(self.settings.batch // 2, 1) or (free > 0 and not self._tasks):
                batch: Batch = await self._db.write(
                    self._preparer.claim,
                    now=self._clock.now(),
                    limit=min(free, self.settings.batch),
                    busy=frozenset(self._busy),
                )
                if batch.ready or batch.retired:
                    log.debug(
                        "claimed %d to send, settled %s", len(batch.ready), dict(batch.retired)
                    )
                self._settled += sum(batch.retired.values())
                self.stats.update(batch.retired)
                for item in batch.ready:
                    self._launch(item)
                progressed = bool(batch.ready or batch.retired) or self._finished != finished_before
            if not self._tasks:
                if not progressed:
                    break
                continue
            if progressed and len(self._tasks) < self.settings.in_flight:
                continue
            await asyncio.wait(set(self._tasks), return_when=asyncio.FIRST_COMPLETED)
        return self._settled - settled_before

    async def wait_idle(self) -> None:
        """Wait until the current drain and its sends are finished (tests, shutdown)."""
        if self._drain_task is not None:
            await asyncio.wait({self._drain_task})
        if self._tasks:
            await asyncio.wait(set(self._tasks))

    def _launch(self, item: Ready) -> None:
        if item.person_id is not None:
            self._busy.add(item.person_id)
        task = asyncio.get_running_loop().create_task(self._deliver(item))
        self._tasks.add(task)

        def finished(done: asyncio.Task[None]) -> None:
            self._tasks.discard(done)
            self._settled += 1
            self._finished += 1
            if item.person_id is not None:
                self._busy.discard(item.person_id)

        task.add_done_callback(finished)

    async def _deliver(self, item: Ready) -> None:
        try:
            result = await self._sender.send(
                item.chat_id,
                item.message,
                bulk=True,
                broadcast=item.kind in PACED_AS_ANNOUNCEMENTS,
            )
        except asyncio.CancelledError:
            # Stopping: give the claim back now rather than after the lease. If the request
            # was already on its way this may repeat it, exactly as the lease would.
            with contextlib.suppress(Exception):
                await self._db.write(
                    hold_until, send_id=item.send_id, worker=self.worker, due_at=self._clock.now()
                )
            raise
        except Exception as exc:  # a Sender should not raise; a bug there must not lose it
            log.exception("sender failed on send %s", item.send_id)
            result = SendResult(SendOutcome.RETRY_LATER, error=type(exc).__name__)
        self.stats[result.outcome.value] += 1
        await self._record(item, result)

    async def _record(self, item: Ready, result: SendResult) -> None:
        # Written at once: the gap between Telegram's answer and this commit is the only
        # moment a crash could make the send go out twice.
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(6),
                wait=wait_exponential(min=1, max=10),
                before_sleep=lambda state: log.warning(
                    "could not record send %s (%s); retrying",
                    item.send_id,
                    type(state.outcome.exception()).__name__ if state.outcome else "?",
                ),
            ):
                with attempt:
                    await self._db.write(
                        self._finish, item=item, result=result, now=self._clock.now()
                    )
        except RetryError:
            log.error(
                "gave up recording send %s; its claim is released after the lease", item.send_id
            )

    def _finish(self, session: Session, *, item: Ready, result: SendResult, now: datetime) -> None:
        worker = self.worker
        if result.outcome is SendOutcome.DELIVERED:
            mark_sent(
                session, send_id=item.send_id, worker=worker, now=now, message_id=result.message_id
            )
        elif result.outcome is SendOutcome.UNREACHABLE:
            mark_failed(session, send_id=item.send_id, worker=worker, error=UNREACHABLE)
        elif result.outcome is SendOutcome.FAILED:
            mark_failed(
                session, send_id=item.send_id, worker=worker, error=result.error or "failed"
            )
        else:
            wait = retry_delay(item.attempts + 1)
            if result.retry_after is not None:
                wait = max(wait, timedelta(seconds=result.retry_after))
            mark_retry(
                session,
                send_id=item.send_id,
                worker=worker,
                attempts=item.attempts,
                due_at=now + wait,
                error=result.error or "retry",
            )
