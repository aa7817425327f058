"""The shared send budget on PostgreSQL: slots in order, one budget for all processes."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from itertools import pairwise

import pytest
from sqlalchemy.engine import Engine

from bot.sending import build_pacer
from bot.settings import load_settings
from schedules.pacing import Lane, PacingLimits
from schedules.pacing_shared import (
    ALIVE_WITHIN,
    COMMIT_MARGIN,
    HORIZON,
    SILENCE_MARGIN,
    SharedBudget,
    process_share,
    shared_pacer,
)
from storage.db import make_engine, transaction
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
from tests.conftest import TEST_TOKEN

IV = 1 / 29
BIV = 1 / 25


@pytest.fixture
def budget(postgres_engine: Engine) -> Iterator[Engine]:
    with transaction(postgres_engine) as session:
        ensure_budget(session)
        ensure_budget(session)  # a second process starting: harmless
    yield postgres_engine


def take(
    engine: Engine, count: int, *, broadcast: bool = False, debt: int = 0, horizon: float = HORIZON
) -> Grant:
    with transaction(engine) as session:
        return take_slots(
            session,
            count=count,
            interval=IV,
            broadcast_interval=BIV if broadcast else None,
            horizon=horizon,
            debt=debt,
        )


def test_slots_are_spaced_by_the_rate_and_stop_at_the_horizon(budget: Engine) -> None:
    horizon = 2.0  # long enough that a busy test machine does not lapse it between calls
    first = take(budget, 8, horizon=horizon)
    assert len(first.slots) == 8
    assert first.slots[0] == pytest.approx(first.now, abs=0.05)
    gaps = [b - a for a, b in pairwise(first.slots)]
    assert gaps == pytest.approx([IV] * 7, abs=1e-6)
    # Another process asks next: its slots follow on, up to the horizon ahead.
    second = take(budget, 1000, horizon=horizon)
    assert second.slots[0] == pytest.approx(first.slots[-1] + IV, abs=1e-6)
    assert second.now + horizon - IV <= second.slots[-1] <= second.now + horizon
    # The budget is taken up to the horizon: only what time freed since, and it says when.
    third = take(budget, 1000, horizon=horizon)
    assert len(third.slots) <= (third.now - second.now) * 29 + 1
    if third.slots:
        assert third.slots[0] == pytest.approx(second.slots[-1] + IV, abs=1e-6)
    assert third.next_free == pytest.approx((third.slots or second.slots)[-1] + IV, abs=1e-6)


def test_broadcasts_keep_their_own_lower_rate(budget: Engine) -> None:
    grant = take(budget, 6, broadcast=True)
    gaps = [b - a for a, b in pairwise(grant.slots)]
    assert gaps == pytest.approx([BIV] * 5, abs=1e-6)
    # A reminder may go one global interval after the last announcement slot.
    after = take(budget, 1)
    assert after.slots[0] == pytest.approx(grant.slots[-1] + IV, abs=1e-6)


def test_replies_charged_afterwards_push_bulk_slots_back(budget: Engine) -> None:
    first = take(budget, 1)
    charged = take(budget, 0, debt=5)
    assert charged.slots == ()
    after = take(budget, 1)
    assert after.slots[0] == pytest.approx(first.slots[0] + IV * 6, abs=1e-6)


def test_one_reply_between_announcement_slots_does_not_delay_them(budget: Engine) -> None:
    """The global rate (29/s) leaves room beside announcements (25/s) for the odd reply."""
    with transaction(budget) as session:
        first = take_slots(
            session, count=2, interval=IV, broadcast_interval=BIV, horizon=HORIZON, tolerance=IV
        )
        take_slots(session, count=0, interval=IV, horizon=HORIZON, debt=1, tolerance=IV)
        after_one = take_slots(
            session, count=1, interval=IV, broadcast_interval=BIV, horizon=HORIZON, tolerance=IV
        )
        take_slots(session, count=0, interval=IV, horizon=HORIZON, debt=3, tolerance=IV)
        after_three = take_slots(
            session, count=1, interval=IV, broadcast_interval=BIV, horizon=HORIZON, tolerance=IV
        )
    assert after_one.slots[0] == pytest.approx(first.slots[-1] + BIV, abs=1e-6)
    # Several replies at once do take announcement time.
    assert after_three.slots[0] > after_one.slots[0] + BIV + IV


def test_a_pause_holds_every_process(budget: Engine) -> None:
    with transaction(budget) as session:
        until = pause_all(session, seconds=0.3)
        # A shorter pause announced later does not shorten it.
        pause_all(session, seconds=0.1)
    grant = take(budget, 3)
    assert grant.paused_until == pytest.approx(until, abs=1e-6)
    assert grant.slots[0] >= until


def test_many_processes_at_once_never_share_a_slot(budget: Engine, postgres_url: str) -> None:
    """Eight threads on their own connections take slots: all distinct, all spaced."""
    engines = [make_engine(postgres_url) for _ in range(8)]
    slots: list[float] = []
    lock = threading.Lock()

    def worker(engine: Engine) -> None:
        for _ in range(10):
            grant = take(engine, 3, horizon=60.0)
            with lock:
                slots.extend(grant.slots)

    threads = [threading.Thread(target=worker, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for engine in engines:
        engine.dispose()
    ordered = sorted(slots)
    assert len(ordered) == 240
    gaps = [b - a for a, b in pairwise(ordered)]
    assert min(gaps) >= IV - 1e-6


def test_chat_holds_keep_bulk_sends_apart_but_not_replies(budget: Engine) -> None:
    with transaction(budget) as session:
        assert hold_chat(session, chat_id=7_900_000_123, seconds=1.0, bulk=True) == 0.0
        # Another process's bulk send to that chat waits about a second…
        assert hold_chat(session, chat_id=7_900_000_123, seconds=1.0, bulk=True) > 0.8
        # …and so does a reply there.
        assert hold_chat(session, chat_id=7_900_000_123, seconds=1.0, bulk=False) > 0.8
        # Replies to one chat never wait for each other; a bulk send waits for them.
        assert hold_chat(session, chat_id=5, seconds=1.0, bulk=False) == 0.0
        assert hold_chat(session, chat_id=5, seconds=1.0, bulk=False) == 0.0
        assert hold_chat(session, chat_id=5, seconds=1.0, bulk=True) > 0.8
        # A lapsed hold is taken over at once.
        assert hold_chat(session, chat_id=6, seconds=-1.0, bulk=True) == 0.0
        assert hold_chat(session, chat_id=6, seconds=1.0, bulk=True) == 0.0
        assert hold_chat(session, chat_id=8, seconds=-60.0, bulk=True) == 0.0
        assert forget_old_holds(session) == 1


def test_sqlite_keeps_the_in_process_pacer(db_url: str) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("runs with the SQLite test database")
    settings = load_settings(_env_file=None, token=TEST_TOKEN, database_url=db_url)
    pacer = build_pacer(settings)
    assert pacer.shared is None and not pacer.state.shared_rate


def test_postgresql_shares_the_budget(postgres_url: str) -> None:
    settings = load_settings(_env_file=None, token=TEST_TOKEN, database_url=postgres_url)
    pacer = build_pacer(settings)
    assert isinstance(pacer.shared, SharedBudget) and pacer.state.shared_rate
    pacer.shared.store.close()


async def test_three_pacers_together_keep_the_global_rate(
    budget: Engine, postgres_url: str
) -> None:
    """Three processes' pacers sending bulk at once: together at the rate, never above."""
    limits = PacingLimits(global_per_second=29, broadcast_per_second=25)
    pacers = [shared_pacer(limits, BudgetStore(make_engine(postgres_url))) for _ in range(3)]
    for pacer in pacers:
        assert isinstance(pacer.shared, SharedBudget)
        await pacer.shared.start()
    loop = asyncio.get_running_loop()
    sent: list[float] = []

    async def send_one() -> None:
        sent.append(loop.time())

    async def sender(pacer_index: int, chat_base: int) -> None:
        pacer = pacers[pacer_index]
        await asyncio.gather(
            *(pacer.call(send_one, lane=Lane.BROADCAST, chat_id=chat_base + n) for n in range(25))
        )

    started = loop.time()
    await asyncio.gather(*(sender(i, 1000 * (i + 1)) for i in range(3)))
    elapsed = loop.time() - started
    for pacer in pacers:
        assert isinstance(pacer.shared, SharedBudget)
        await pacer.shared.stop()
    assert len(sent) == 75
    # 75 announcement copies at 25/s: about three seconds, never over 30 in one second
    # (a busy test machine may wake some sends late, so not exactly 25).
    assert elapsed > 2.5
    ordered = sorted(sent)
    assert max(sum(1 for t in ordered if s <= t < s + 1.0) for s in ordered) <= 30


def test_live_processes_are_counted_by_heartbeat_and_leave_at_once(budget: Engine) -> None:
    with transaction(budget) as session:
        assert heartbeat(session, worker="a", alive_within=3.0).live == 1
        assert heartbeat(session, worker="b", alive_within=3.0).live == 2
        assert heartbeat(session, worker="a", alive_within=3.0).live == 2
        leave(session, worker="b")
        assert heartbeat(session, worker="a", alive_within=3.0).live == 1
        # A process silent for longer than `alive_within` no longer counts.
        heartbeat(session, worker="c", alive_within=3.0)
        assert heartbeat(session, worker="a", alive_within=0.0).live == 1
        # It also tells whether bulk sends are going on anywhere.
        granted = take_slots(session, count=1, interval=IV, horizon=HORIZON)
        assert heartbeat(session, worker="a", alive_within=3.0).last_bulk_slot == (
            pytest.approx(granted.slots[0], abs=1e-6)
        )


async def test_each_process_keeps_to_its_share_of_telegrams_limit(
    budget: Engine, postgres_url: str
) -> None:
    """The live processes split the 30 a second; one leaving hands its share over."""
    pacer = shared_pacer(PacingLimits(), BudgetStore(make_engine(postgres_url)))
    shared = pacer.shared
    assert isinstance(shared, SharedBudget)
    assert pacer.state.cap == 0  # nothing goes before the first heartbeat
    await shared.start()
    assert pacer.state.cap == 30  # alone
    await asyncio.sleep(COMMIT_MARGIN + 0.05)  # two more join and count this one
    with transaction(budget) as session:
        for other in ("host:1:1", "host:2:1"):
            heartbeat(session, worker=other, alive_within=3.0)
    await shared._beat()
    assert shared.live == 3 and pacer.state.cap == 10
    assert process_share(PacingLimits(), 2) == 15
    await shared.stop()


async def test_a_newcomer_sends_nothing_until_every_other_process_has_counted_it(
    budget: Engine, postgres_url: str
) -> None:
    """Shares never add up to more than 30: the others still use their old ones."""
    with transaction(budget) as session:
        heartbeat(session, worker="host:1:1", alive_within=3.0)
    pacer = shared_pacer(PacingLimits(), BudgetStore(make_engine(postgres_url)))
    shared = pacer.shared
    assert isinstance(shared, SharedBudget)
    await shared.start()
    # host:1 last counted before this process joined: it may still be sending 30 a second.
    assert shared.live == 2 and pacer.state.cap == 0
    await asyncio.sleep(COMMIT_MARGIN + 0.05)
    with transaction(budget) as session:
        heartbeat(session, worker="host:1:1", alive_within=3.0)  # now it counts two
    await shared._beat()
    assert pacer.state.cap == 15
    await shared.stop()


async def test_a_process_whose_heartbeat_is_late_stops_before_it_is_counted_out(
    budget: Engine, postgres_url: str
) -> None:
    """The others take a silent process's share after ALIVE_WITHIN; it stops before."""
    pacer = shared_pacer(PacingLimits(), BudgetStore(make_engine(postgres_url)))
    shared = pacer.shared
    assert isinstance(shared, SharedBudget)
    await shared.start()
    assert shared._heartbeat is not None
    shared._heartbeat.cancel()  # the database stops answering this process's heartbeats
    assert pacer.state.cap == 30
    await asyncio.sleep(ALIVE_WITHIN - SILENCE_MARGIN + 0.1)
    assert pacer.state.cap == 0
    # Back after a silence the others may have taken for its death: a newcomer again.
    with transaction(budget) as session:
        heartbeat(session, worker="host:1:1", alive_within=3.0)
    await shared._beat()
    assert pacer.state.cap == 0
    await shared.stop()
