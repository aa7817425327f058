"""Any process can show a broadcast's progress and report; one at a time does."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select, update

from schedules.broadcast import FIRST_EDIT_AFTER, PROGRESS_LEASE, BroadcastProgress
from schedules.clock import FrozenClock
from storage.db import read_only, transaction
from storage.executor import Database
from storage.messaging.broadcasts import Audience, BroadcastDraft, start_broadcast
from storage.messaging.progress_claims import claim_progress
from storage.models import Broadcast, PendingSend, SendState
from tests.support.animator import make_scene


@dataclass
class ShownEdits:
    """A ProgressView that remembers the edits instead of calling Telegram."""

    edits: list[str] = field(default_factory=list)
    fail: bool = False

    async def show(
        self,
        *,
        chat_id: int,
        message_id: int,
        text: str,
        stop_label: str | None,
        stop_data: str | None,
    ) -> None:
        if self.fail:
            raise ConnectionError("Bot API away")
        self.edits.append(text)


def _start(engine: Engine, clock: FrozenClock) -> int:
    scene = make_scene(engine, clock.now(), places=3, people=3)
    with transaction(engine) as session:
        broadcast = start_broadcast(
            session,
            draft=BroadcastDraft(text="Hej", audience=Audience.PROGRAMME),
            programme_id=scene.programme_id,
            actor=scene.actor,
            progress_chat_id=900,
            now=clock.now(),
            progress_message_id=55,
        )
        assert broadcast.id is not None
    # The handler shows the first progress itself; watchers edit from a moment later.
    clock.advance(FIRST_EDIT_AFTER + timedelta(seconds=1))
    return broadcast.id


def _send_all(engine: Engine, broadcast_id: int) -> None:
    with transaction(engine) as session:
        session.exec(
            update(PendingSend)
            .where(col(PendingSend.broadcast_id) == broadcast_id)
            .values(state=SendState.SENT.value)
        )


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request: pytest.FixtureRequest) -> Engine:
    name = "engine" if request.param == "sqlite" else "postgres_engine"
    engine: Engine = request.getfixturevalue(name)
    return engine


async def test_one_process_shows_progress_and_another_finishes_the_report(
    any_engine: Engine, clock: FrozenClock
) -> None:
    broadcast_id = _start(any_engine, clock)
    db = Database(any_engine)
    views = {name: ShownEdits() for name in ("one", "two")}
    dead: set[str] = set()
    watchers = {
        name: BroadcastProgress(
            db=db,
            view=views[name],
            clock=clock,
            zone_name="Europe/Warsaw",
            quiet_hours=None,
            worker=name,
            is_dead=lambda w: w in dead,
        )
        for name in ("one", "two")
    }
    await watchers["one"].tick()
    await watchers["two"].tick()
    # Only the lease holder edits the message.
    assert len(views["one"].edits) == 1 and views["two"].edits == []
    # The holder dies; once that is known the other takes over at once and reports.
    _send_all(any_engine, broadcast_id)
    dead.add("one")
    await watchers["two"].tick()
    assert views["one"].edits[-1].startswith("📣 Ogłoszenie:")
    assert views["two"].edits and "zostało wysłane" in views["two"].edits[-1]
    with read_only(any_engine) as session:
        broadcast = session.get(Broadcast, broadcast_id)
        assert broadcast is not None and broadcast.reported_at is not None
    # Reported: nobody edits it again, not even after the follow-up period.
    dead.clear()
    clock.advance(timedelta(minutes=5))
    await watchers["one"].tick()
    await watchers["two"].tick()
    assert len(views["one"].edits) == 1 and len(views["two"].edits) == 1
    db.close()


async def test_a_report_that_could_not_be_shown_is_tried_again_by_another_process(
    any_engine: Engine, clock: FrozenClock
) -> None:
    broadcast_id = _start(any_engine, clock)
    _send_all(any_engine, broadcast_id)
    db = Database(any_engine)
    failing, working = ShownEdits(fail=True), ShownEdits()
    one = BroadcastProgress(
        db=db, view=failing, clock=clock, zone_name="Europe/Warsaw", quiet_hours=None, worker="one"
    )
    two = BroadcastProgress(
        db=db, view=working, clock=clock, zone_name="Europe/Warsaw", quiet_hours=None, worker="two"
    )
    await one.tick()  # finishes the broadcast, but the edit fails
    await two.tick()  # "one" still holds the lease (alive, not lapsed)
    assert working.edits == []
    # Long after the 2-minute follow-up the report is still owed, and "one" went quiet.
    clock.advance(timedelta(minutes=10))
    await two.tick()
    assert working.edits and "zostało wysłane" in working.edits[-1]
    with read_only(any_engine) as session:
        reported = session.exec(select(Broadcast.reported_at)).one()
    assert reported is not None
    db.close()


def test_the_lease_goes_to_one_claimer_and_lapses(engine: Engine, clock: FrozenClock) -> None:
    broadcast_id = _start(engine, clock)
    now = clock.now()
    with transaction(engine) as session:
        assert claim_progress(
            session, broadcast_id=broadcast_id, worker="a", now=now, lease=PROGRESS_LEASE
        )
        assert not claim_progress(
            session, broadcast_id=broadcast_id, worker="b", now=now, lease=PROGRESS_LEASE
        )
        assert claim_progress(
            session, broadcast_id=broadcast_id, worker="a", now=now, lease=PROGRESS_LEASE
        )
        later = now + PROGRESS_LEASE + timedelta(seconds=1)
        assert claim_progress(
            session, broadcast_id=broadcast_id, worker="b", now=later, lease=PROGRESS_LEASE
        )
        assert not claim_progress(
            session, broadcast_id=broadcast_id, worker="a", now=later, lease=PROGRESS_LEASE
        )
