"""Claiming pending sends: every send is claimed once, even by concurrent workers."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from schedules.clock import FrozenClock
from storage.db import transaction
from storage.messaging.claims import (
    MAX_ATTEMPTS,
    claim_due,
    hold_until,
    mark_dropped,
    mark_retry,
    mark_sent,
    next_due_at,
    release_stale_claims,
    retry_delay,
)
from storage.messaging.outbox import (
    UNREACHABLE,
    add_enqueue_listener,
    enqueue,
    person_blocked_bot,
    person_is_back,
)
from storage.models import PendingSend, Person, SendKind, SendState
from tests.support.signup import make_person


def _people_with_sends(engine: Engine, now: datetime, people: int, per_person: int = 1) -> None:
    with transaction(engine) as session:
        for i in range(people):
            person = make_person(session, telegram_id=50_000 + i, name=f"Osoba {i}")
            for j in range(per_person):
                enqueue(
                    session,
                    kind=SendKind.REMINDER,
                    person_id=person.id,
                    due_at=now - timedelta(seconds=j),
                    dedupe_key=f"t:{person.id}:{j}",
                )


def _claim_everything_concurrently(engine: Engine, now: datetime, workers: int) -> Counter[int]:
    claimed: Counter[int] = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            barrier.wait()
            while True:
                with transaction(engine) as session:
                    rows = claim_due(session, worker=name, now=now, limit=7)
                    ids = [row.id for row in rows]
                    for row in rows:
                        assert row.id is not None
                        mark_sent(session, send_id=row.id, worker=name, now=now, message_id=1)
                if not ids:
                    return
                with lock:
                    claimed.update(i for i in ids if i is not None)
        except BaseException as exc:  # surfaced below, so a failing thread fails the test
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return claimed


def test_two_workers_on_sqlite_claim_each_send_exactly_once(
    engine: Engine, clock: FrozenClock
) -> None:
    _people_with_sends(engine, clock.now(), people=120)
    claimed = _claim_everything_concurrently(engine, clock.now(), workers=2)
    assert len(claimed) == 120 and set(claimed.values()) == {1}
    with Session(engine) as session:
        states = Counter(s.state for s in session.exec(select(PendingSend)))
    assert states == {SendState.SENT: 120}


@pytest.mark.postgres
def test_four_workers_on_postgresql_claim_each_send_exactly_once(
    postgres_engine: Engine, clock: FrozenClock
) -> None:
    _people_with_sends(postgres_engine, clock.now(), people=200)
    claimed = _claim_everything_concurrently(postgres_engine, clock.now(), workers=4)
    assert len(claimed) == 200 and set(claimed.values()) == {1}


def test_claims_take_due_sends_oldest_first_one_per_person(
    engine: Engine, clock: FrozenClock
) -> None:
    now = clock.now()
    _people_with_sends(engine, now, people=3, per_person=2)
    with transaction(engine) as session:
        enqueue(
            session,
            kind=SendKind.REMINDER,
            person_id=None,
            due_at=now + timedelta(hours=1),
            dedupe_key="later",
        )
        first = claim_due(session, worker="a", now=now, limit=10)
        assert len(first) == 3 and len({r.person_id for r in first}) == 3
        assert all(r.state == SendState.CLAIMED and r.claimed_by == "a" for r in first)
        busy = {r.person_id for r in first[:2] if r.person_id is not None}
        second = claim_due(session, worker="a", now=now, limit=10, busy_people=busy)
        assert [r.person_id for r in second] == [first[2].person_id]
        assert next_due_at(session) == now


def test_only_the_claiming_worker_can_finish_a_claim(engine: Engine, clock: FrozenClock) -> None:
    now = clock.now()
    _people_with_sends(engine, now, people=1)
    with transaction(engine) as session:
        (row,) = claim_due(session, worker="a", now=now, limit=5)
        assert row.id is not None
        assert not mark_sent(session, send_id=row.id, worker="b", now=now, message_id=7)
        assert mark_sent(session, send_id=row.id, worker="a", now=now, message_id=7)
        assert not mark_dropped(session, send_id=row.id, worker="a", reason="late")
    with Session(engine) as session:
        stored = session.get(PendingSend, row.id)
        assert stored is not None
        assert (stored.state, stored.telegram_message_id) == (SendState.SENT, 7)


def test_a_failing_send_backs_off_and_fails_after_the_limit(
    engine: Engine, clock: FrozenClock
) -> None:
    now = clock.now()
    _people_with_sends(engine, now, people=1)
    for attempt in range(MAX_ATTEMPTS):
        with transaction(engine) as session:
            rows = claim_due(session, worker="a", now=now + timedelta(days=1), limit=1)
            assert len(rows) == 1 and rows[0].id is not None
            mark_retry(
                session,
                send_id=rows[0].id,
                worker="a",
                attempts=rows[0].attempts,
                due_at=now + retry_delay(attempt + 1),
                error="NetworkError",
            )
    with Session(engine) as session:
        (stored,) = session.exec(select(PendingSend)).all()
        assert (stored.state, stored.attempts, stored.last_error) == (
            SendState.FAILED,
            MAX_ATTEMPTS,
            "NetworkError",
        )
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 12)] == [30, 60, 120, 1800]


def test_held_sends_go_back_to_pending_without_counting_an_attempt(
    engine: Engine, clock: FrozenClock
) -> None:
    now = clock.now()
    _people_with_sends(engine, now, people=1)
    morning = now + timedelta(hours=9)
    with transaction(engine) as session:
        (row,) = claim_due(session, worker="a", now=now, limit=1)
        assert row.id is not None
        assert hold_until(session, send_id=row.id, worker="a", due_at=morning)
    with transaction(engine) as session:
        assert claim_due(session, worker="a", now=now, limit=1) == []
        stored = session.get(PendingSend, row.id)
        assert stored is not None
        assert (stored.state, stored.due_at, stored.attempts) == (SendState.PENDING, morning, 0)


def test_claims_of_dead_or_lapsed_workers_are_released(engine: Engine, clock: FrozenClock) -> None:
    now = clock.now()
    _people_with_sends(engine, now - timedelta(minutes=10), people=3)
    with transaction(engine) as session:
        old = claim_due(session, worker="host:1:old", now=now - timedelta(minutes=5), limit=1)
        dead = claim_due(session, worker="host:2:dead", now=now, limit=1)
        live = claim_due(session, worker="host:3:live", now=now, limit=1)
    with transaction(engine) as session:
        released = release_stale_claims(
            session, now=now, lease=timedelta(minutes=2), is_dead=lambda w: w.endswith("dead")
        )
    assert set(released) == {old[0].id, dead[0].id}
    with Session(engine) as session:
        live_row = session.get(PendingSend, live[0].id)
        old_row = session.get(PendingSend, old[0].id)
        assert live_row is not None and live_row.state == SendState.CLAIMED
        assert old_row is not None and (old_row.state, old_row.attempts) == (SendState.PENDING, 1)


def test_listeners_hear_of_committed_sends_only(engine: Engine, clock: FrozenClock) -> None:
    heard: list[datetime] = []
    remove = add_enqueue_listener(heard.append)
    try:
        with transaction(engine) as session:
            person = make_person(session, telegram_id=1)
            for minutes in (30, 5, 60):
                enqueue(
                    session,
                    kind=SendKind.CHANGE,
                    person_id=person.id,
                    due_at=clock.now() + timedelta(minutes=minutes),
                )
        assert heard == [clock.now() + timedelta(minutes=5)]
        with pytest.raises(RuntimeError), transaction(engine) as session:
            enqueue(session, kind=SendKind.CHANGE, person_id=person.id, due_at=clock.now())
            raise RuntimeError("rolled back")
        assert len(heard) == 1
    finally:
        remove()


def test_blocking_the_bot_withdraws_pending_sends_until_the_person_is_back(
    engine: Engine, clock: FrozenClock
) -> None:
    now = clock.now()
    _people_with_sends(engine, now, people=2, per_person=2)
    with transaction(engine) as session:
        person_id = person_blocked_bot(session, telegram_id=50_000, now=now)
        assert person_blocked_bot(session, telegram_id=999, now=now) is None
    with Session(engine) as session:
        person = session.get(Person, person_id)
        assert person is not None and person.unreachable_at == now
        rows = session.exec(select(PendingSend).where(PendingSend.person_id == person_id)).all()
        assert {(r.state, r.last_error) for r in rows} == {(SendState.CANCELLED, UNREACHABLE)}
        others = session.exec(select(PendingSend).where(PendingSend.person_id != person_id)).all()
        assert {r.state for r in others} == {SendState.PENDING}
    with transaction(engine) as session:
        assert person_is_back(session, telegram_id=50_000)
        assert not person_is_back(session, telegram_id=50_000)
