"""The pacer: Telegram's limits kept with an injected clock, replies before bulk sends."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable, Callable

import pytest

from schedules.pacing import (
    Failure,
    FailureKind,
    Lane,
    Pacer,
    PacingLimits,
    PacingState,
)


class VirtualTime:
    """A clock whose sleeps finish instantly, in order, while time jumps forward."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(seconds, 0.0), next(self._order), future))
        await future

    async def run(self, *coroutines: Awaitable[object]) -> None:
        """Run coroutines to completion, advancing time whenever all of them sleep."""
        tasks = [asyncio.ensure_future(c) for c in coroutines]
        while not all(t.done() for t in tasks):
            for _ in range(20):  # let every runnable task reach its next sleep
                await asyncio.sleep(0)
            if self._sleepers:
                wake_at, _, future = heapq.heappop(self._sleepers)
                self.now = max(self.now, wake_at)
                future.set_result(None)
        for task in tasks:
            task.result()


def _send(
    state: PacingState, lane: Lane, chat: int | None, start: float, answered: float | None = None
) -> None:
    state.record(lane, chat, start)
    state.done(lane, chat, start if answered is None else answered)


def test_replies_may_burst_up_to_telegrams_limit_then_wait_for_the_window() -> None:
    state = PacingState(PacingLimits(telegram_per_second=30, global_per_second=29))
    for _ in range(30):
        assert state.delay(Lane.INTERACTIVE, 1, 0.0) == 0
        _send(state, Lane.INTERACTIVE, 1, 0.0)
    assert state.delay(Lane.INTERACTIVE, 2, 0.0) == pytest.approx(1.0)
    assert state.delay(Lane.INTERACTIVE, 2, 1.0) == 0
    # Those replies used up a second of the rate: bulk sends wait for it.
    assert state.delay(Lane.BULK, 3, 1.0) == pytest.approx(30 / 29 - 1 - 0.5 / 29)


def test_a_send_counts_until_a_second_after_its_answer() -> None:
    state = PacingState(PacingLimits(telegram_per_second=2, global_per_second=2))
    state.record(Lane.INTERACTIVE, 1, 0.0)  # still waiting for Telegram
    _send(state, Lane.INTERACTIVE, 2, 0.0, answered=0.3)
    assert state.delay(Lane.INTERACTIVE, 3, 0.5) == pytest.approx(0.8)
    assert state.in_window(5.0) == 1  # the slow one counts for as long as it takes
    state.done(Lane.INTERACTIVE, 1, 5.0)
    assert (state.in_window(5.99), state.in_window(6.0)) == (1, 0)


def test_bulk_sends_are_spread_evenly_and_one_per_chat_per_second() -> None:
    state = PacingState(PacingLimits(global_per_second=29, per_chat_interval=1.05))
    _send(state, Lane.BULK, 100, 0.0, answered=0.2)
    # The next slot is 1/29 s later, with half a slot of tolerance for late timers.
    assert state.delay(Lane.BULK, 101, 0.0) == pytest.approx(0.5 / 29)
    assert state.delay(Lane.BULK, 101, 0.5 / 29) == 0
    # The same chat waits a little over a second after the answer.
    assert state.delay(Lane.BULK, 100, 0.5) == pytest.approx(0.75)
    # A reply to that chat is not spaced.
    assert state.delay(Lane.INTERACTIVE, 100, 0.0) == 0


def test_broadcasts_stay_under_their_own_rate() -> None:
    state = PacingState(PacingLimits(global_per_second=29, broadcast_per_second=25))
    t = 0.0
    sent = []
    while t < 3.0:
        if state.delay(Lane.BROADCAST, None, t) <= 0:
            _send(state, Lane.BROADCAST, None, t, answered=t + 0.005)
            sent.append(t)
        t = round(t + 0.001, 6)
    assert 74 <= len(sent) <= 76  # 25 a second, give or take the tolerance at the start
    assert all(b - a >= 0.5 / 25 - 1e-9 for a, b in itertools.pairwise(sent))


def test_a_flood_pause_holds_bulk_sends_but_not_replies() -> None:
    state = PacingState(PacingLimits())
    state.pause_bulk(5.0, now=10.0)
    assert state.delay(Lane.BULK, 7, 10.0) == pytest.approx(5.0)
    assert state.delay(Lane.BROADCAST, 8, 12.0) == pytest.approx(3.0)
    assert state.delay(Lane.INTERACTIVE, 9, 10.0) == 0
    assert state.delay(Lane.BULK, 7, 15.0) == 0


async def test_bulk_runs_at_the_global_rate_and_replies_jump_the_queue() -> None:
    vt = VirtualTime()
    pacer = Pacer(PacingLimits(global_per_second=29), clock=vt.clock, sleep=vt.sleep)
    bulk_times: list[float] = []
    reply_times: list[float] = []
    reply_waits: list[float] = []

    async def bulk(chat: int) -> None:
        async def send() -> None:
            bulk_times.append(vt.now)

        await pacer.call(send, lane=Lane.BULK, chat_id=chat)

    async def reply(at: float, chat: int) -> None:
        await vt.sleep(at)
        asked = vt.now

        async def send() -> None:
            reply_waits.append(vt.now - asked)
            reply_times.append(vt.now)

        await pacer.call(send, lane=Lane.INTERACTIVE, chat_id=chat)

    replies = [reply(0.5 + i * 0.7, 10_000 + i) for i in range(10)]
    await vt.run(*(bulk(chat) for chat in range(290)), *replies)

    assert len(bulk_times) == 290
    # Never more than Telegram's 30 sends (bulk and replies together) in any one second.
    everything = sorted(bulk_times + reply_times)
    for i, start in enumerate(everything):
        assert sum(1 for t in everything[i:] if t < start + 1.0) <= 30
    # All together at the global rate: the replies took slots the bulk sends gave up.
    elapsed = everything[-1] - everything[0]
    assert 28.5 <= len(everything) / elapsed <= 29.5, f"{len(everything) / elapsed:.1f}/s"
    # A reply waits at most for one slot, never behind the queue of bulk sends.
    assert max(reply_waits) <= 1 / 29 + 1e-6


async def test_one_busy_chat_does_not_hold_up_other_chats() -> None:
    vt = VirtualTime()
    pacer = Pacer(PacingLimits(global_per_second=29), clock=vt.clock, sleep=vt.sleep)
    done: dict[str, list[float]] = {"busy": [], "others": []}

    async def send(chat: int, label: str) -> None:
        async def post() -> None:
            done[label].append(vt.now)

        await pacer.call(post, lane=Lane.BULK, chat_id=chat)

    await vt.run(*(send(1, "busy") for _ in range(3)), *(send(c, "others") for c in range(2, 30)))
    assert done["busy"] == pytest.approx([0.0, 1.05, 2.1])
    assert max(done["others"]) < 1.05


def _flaky(failures: list[BaseException], result: str = "ok") -> Callable[[], Awaitable[str]]:
    async def call() -> str:
        if failures:
            raise failures.pop(0)
        return result

    return call


class Flood(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__("flood")
        self.retry_after = retry_after


class ServerError(Exception):
    pass


def classify(exc: BaseException) -> Failure:
    if isinstance(exc, Flood):
        return Failure(FailureKind.FLOOD, exc.retry_after)
    if isinstance(exc, ServerError):
        return Failure(FailureKind.TRANSIENT)
    return Failure(FailureKind.FATAL)


async def test_a_429_on_a_bulk_send_pauses_bulk_and_the_send_is_retried() -> None:
    vt = VirtualTime()
    pacer = Pacer(PacingLimits(), classify=classify, clock=vt.clock, sleep=vt.sleep)
    result: list[str] = []

    async def go() -> None:
        result.append(await pacer.call(_flaky([Flood(3)]), lane=Lane.BULK, chat_id=5))

    await vt.run(go())
    assert result == ["ok"] and vt.now == pytest.approx(3.0)
    assert pacer.flood_waits == 1
    assert pacer.state.bulk_paused_until == pytest.approx(3.0)


async def test_a_429_on_a_reply_only_holds_bulk_sends_to_that_chat() -> None:
    vt = VirtualTime()
    pacer = Pacer(PacingLimits(), classify=classify, clock=vt.clock, sleep=vt.sleep)
    await vt.run(pacer.call(_flaky([Flood(2)]), lane=Lane.INTERACTIVE, chat_id=5))
    assert pacer.state.chat_delay(6, vt.now) == 0  # other chats are not held
    assert pacer.state.chat_delay(5, vt.now) == pytest.approx(1.05)  # from the answer
    assert pacer.state.bulk_paused_until < vt.now


async def test_server_errors_back_off_exponentially_then_give_up() -> None:
    vt = VirtualTime()
    limits = PacingLimits(max_retries=3, backoff_initial=0.5)
    pacer = Pacer(limits, classify=classify, clock=vt.clock, sleep=vt.sleep)
    await vt.run(pacer.call(_flaky([ServerError(), ServerError()]), lane=Lane.BULK))
    assert vt.now == pytest.approx(0.5 + 1.0)

    failures: list[BaseException] = [ServerError() for _ in range(4)]
    with pytest.raises(ServerError):
        await vt.run(pacer.call(_flaky(failures), lane=Lane.BULK))
    assert [pacer.backoff(n) for n in (1, 2, 3, 4, 10)] == [0.5, 1.0, 2.0, 4.0, 8.0]


async def test_other_errors_and_long_floods_go_back_to_the_caller() -> None:
    vt = VirtualTime()
    pacer = Pacer(
        PacingLimits(max_flood_wait=30), classify=classify, clock=vt.clock, sleep=vt.sleep
    )
    with pytest.raises(ValueError):
        await vt.run(pacer.call(_flaky([ValueError()]), lane=Lane.BULK))
    with pytest.raises(Flood):
        await vt.run(pacer.call(_flaky([Flood(120)]), lane=Lane.BULK, chat_id=1))
    # The long pause still holds other bulk sends.
    assert pacer.state.delay(Lane.BULK, 2, vt.now) == pytest.approx(120)


def test_limits_are_checked() -> None:
    with pytest.raises(ValueError):
        PacingLimits(global_per_second=0.5)
    with pytest.raises(ValueError):
        PacingLimits(global_per_second=31)
