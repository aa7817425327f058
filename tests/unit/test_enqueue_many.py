"""Many sends at once (an announcement): the rules of `enqueue`, one INSERT for new rows."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from schedules.clock import FrozenClock
from storage.db import read_only, transaction
from storage.messaging.outbox import NewSend, add_enqueue_listener, enqueue, enqueue_many
from storage.models import PendingSend, SendKind, SendState
from tests.support.signup import make_people


def _send(person_id: int, now: datetime, key: str) -> NewSend:
    return NewSend(
        kind=SendKind.BROADCAST,
        person_id=person_id,
        due_at=now,
        dedupe_key=key,
        payload={"n": person_id},
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_new_rows_and_existing_keys(
    backend: str, request: pytest.FixtureRequest, clock: FrozenClock
) -> None:
    engine: Engine = request.getfixturevalue("engine" if backend == "sqlite" else "postgres_engine")
    people = make_people(engine, 4)
    now = clock.now()
    with transaction(engine) as session:
        sent = enqueue(
            session, kind=SendKind.BROADCAST, person_id=people[0], due_at=now, dedupe_key="b:1"
        )
        dropped = enqueue(
            session, kind=SendKind.BROADCAST, person_id=people[1], due_at=now, dedupe_key="b:2"
        )
        assert sent is not None and dropped is not None
        sent.state, dropped.state = SendState.SENT, SendState.CANCELLED
        session.add_all([sent, dropped])
    woken: list[datetime] = []
    remove = add_enqueue_listener(woken.append)
    try:
        with transaction(engine) as session:
            added = enqueue_many(
                session, [_send(p, now, f"b:{i + 1}") for i, p in enumerate(people)]
            )
    finally:
        remove()
    # Already sent: not again. Cancelled: revived. New: inserted.
    assert added == 3
    assert woken == [now]
    with read_only(engine) as session:
        rows = {r.dedupe_key: r for r in session.exec(select(PendingSend))}
    assert {k: r.state for k, r in rows.items()} == {
        "b:1": "sent",
        "b:2": "pending",
        "b:3": "pending",
        "b:4": "pending",
    }
    assert rows["b:4"].payload == {"n": people[3]} and rows["b:4"].due_at == now
    assert rows["b:4"].kind == "broadcast" and rows["b:4"].attempts == 0


def test_nothing_to_add(engine: Engine) -> None:
    with transaction(engine) as session:
        assert enqueue_many(session, []) == 0
