"""The dispatcher's rules with an injected clock: late, quiet, gone, failed, crashed."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine

from schedules.clock import FrozenClock
from schedules.dispatcher import Dispatcher, DispatchSettings
from schedules.messages import OutgoingMessage, SendOutcome, SendResult
from schedules.renderers import RENDERERS
from schedules.workers import is_dead_worker, worker_identity
from storage.activities.seats import cancel
from storage.db import transaction
from storage.executor import Database
from storage.messaging.claims import MAX_ATTEMPTS, claim_due
from storage.messaging.outbox import enqueue
from storage.messaging.reminders import move_reminders
from storage.models import Person, Programme, SendKind, SendState
from tests.support.reminders import Scene, first_reminder_due, make_scene, sends

WARSAW = ZoneInfo("Europe/Warsaw")
NIGHT = (time(21, 0), time(8, 0))


class Outbox:
    """A Sender that records what it was asked to send (the chat side of these tests)."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, OutgoingMessage, bool, bool]] = []
        self.answers: list[SendResult] = []
        self.gate: asyncio.Event | None = None
        self.latency = 0.0

    async def send(
        self, chat_id: int, message: OutgoingMessage, *, bulk: bool, broadcast: bool = False
    ) -> SendResult:
        if self.gate is not None:
            await self.gate.wait()
        if self.latency:
            await asyncio.sleep(self.latency)
        self.sent.append((chat_id, message, bulk, broadcast))
        if self.answers:
            return self.answers.pop(0)
        return SendResult(SendOutcome.DELIVERED, message_id=len(self.sent))


@pytest.fixture
async def database(engine: Engine) -> AsyncIterator[Database]:
    db = Database(engine)
    yield db
    db.close()


def _dispatcher(
    db: Database,
    outbox: Outbox,
    clock: FrozenClock,
    *,
    worker: str = "test:1:1",
    quiet: bool = True,
    changes_as_x: bool = False,
) -> Dispatcher:
    # `changes_as_x`: change notices render as a bare "x", for people with no activity.
    renderers = {**RENDERERS, SendKind.CHANGE.value: _bare} if changes_as_x else RENDERERS
    return Dispatcher(
        db=db,
        sender=outbox,
        clock=clock,
        worker=worker,
        settings=DispatchSettings(quiet_hours=NIGHT if quiet else None),
        renderers=renderers,
    )


def _bare(*_args: object) -> OutgoingMessage:
    return OutgoingMessage("x")


def _scene(
    engine: Engine,
    clock: FrozenClock,
    *,
    starts_at: datetime | None = None,
    ids: tuple[int, int] = (702, 701),
) -> Scene:
    return make_scene(
        engine,
        starts_at=starts_at or clock.now() + timedelta(days=2),
        places=5,
        people=[("Jan", ids[0], "pl"), ("Olena", ids[1], "uk")],
        now=clock.now(),
    )


async def test_due_reminders_go_out_once_in_each_persons_language(
    engine: Engine, database: Database, clock: FrozenClock
) -> None:
    scene = _scene(engine, clock)
    outbox = Outbox()
    dispatcher = _dispatcher(database, outbox, clock)
    clock.set(first_reminder_due(scene) - timedelta(seconds=1))
    assert await dispatcher.drain() == 0
    clock.advance(timedelta(seconds=1))
    assert await dispatcher.drain() == 2
    assert await dispatcher.drain() == 0
    texts = {chat: message.text.splitlines()[0] for chat, message, _, _ in outbox.sent}
    assert texts == {
        702: "🔔 Przypomnienie: Warsztaty rękodzieła",
        701: "🔔 Нагадування: Warsztaty rękodzieła",
    }
    assert all(bulk and not broadcast for _, _, bulk, broadcast in outbox.sent)


async def test_a_reminder_missed_while_down_goes_late_only_before_the_start(
    engine: Engine, database: Database, clock: FrozenClock
) -> None:
    scene = _scene(engine, clock)
    outbox = Outbox()
    # Down from before the 24 h reminder until 90 minutes before the start: both are late,
    # the activity has not started, so both go out now.
    clock.set(scene.starts_at - timedelta(minutes=90))
    await _dispatcher(database, outbox, clock).drain()
    assert len(outbox.sent) == 4
    # A second scene whose activity started while the bot was down: dropped, not sent.
    late = _scene(engine, clock, starts_at=clock.now() + timedelta(days=3), ids=(801, 802))
    clock.set(late.starts_at + timedelta(minutes=5))
    outbox.sent.clear()
    await _dispatcher(database, outbox, clock).drain()
    assert outbox.sent == []
    dropped = sends(engine, SendKind.REMINDER, SendState.DROPPED)
    assert len(dropped) == 4 and {d.last_error for d in dropped} == {"activity started"}


async def test_quiet_hours_hold_a_reminder_until_morning_but_not_the_last_one(
    engine: Engine, database: Database, clock: FrozenClock
) -> None:
    # Starts at 07:30 Warsaw time: the 24 h reminder (07:30 the day before) is quiet, and
    # so is the 2 h reminder at 05:30, but that one is the last before the activity.
    start = datetime(2026, 11, 26, 7, 30, tzinfo=WARSAW)
    scene = _scene(engine, clock, starts_at=start)
    outbox = Outbox()
    dispatcher = _dispatcher(database, outbox, clock)
    clock.set(first_reminder_due(scene))
    assert await dispatcher.drain() == 2
    assert outbox.sent == []
    held = sends(engine, SendKind.REMINDER, SendState.PENDING)
    morning = datetime(2026, 11, 25, 8, 0, tzinfo=WARSAW)
    assert [h.due_at for h in held[:2]] == [morning, morning]
    assert all(h.attempts == 0 for h in held)
    clock.set(morning)
    await dispatcher.drain()
    assert len(outbox.sent) == 2
    clock.set(start - timedelta(hours=2))  # 05:30, quiet hours, the last reminder
    await dispatcher.drain()
    assert len(outbox.sent) == 4 and outbox.sent[-1][1].exempt_from_quiet_hours


async def test_a_quiet_reminder_overtaken_by_the_next_one_is_dropped(
    engine: Engine, database: Database, clock: FrozenClock
) -> None:
    # With offsets 10h,2h and a 09:00 start, the 10 h reminder falls at 23:00 and would
    # wait until 08:00 — after the 2 h one at 07:00 — so it is dropped instead.
    scene = _scene(engine, clock, starts_at=datetime(2026, 11, 26, 9, 0, tzinfo=WARSAW))
    with transaction(engine) as session:
        programme = session.get(Programme, scene.programme_id)
        assert programme is not None
        programme.reminder_offsets = "10h,2h"
        session.add(programme)
        session.flush()
        move_reminders(session, activity_id=scene.activity_id, now=clock.now())
    outbox = Outbox()
    clock.set(datetime(2026, 11, 25, 23, 0, tzinfo=WARSAW))
    await _dispatcher(database, outbox, clock).drain()
    assert outbox.sent == []
    assert {s.last_error for s in sends(engine, SendKind.REMINDER, SendState.DROPPED)} == {
        "superseded during quiet hours"
    }


async def test_programme_quiet_hours_can_be_off(
    engine: Engine, database: Database, clock: FrozenClock
) -> None:
    scene = make_scene(
        engine,
        starts_at=datetime(2026, 11, 26, 7, 30, tzinfo=WARSAW),
        places=2,
        people=[("Jan", 702, "pl")],
        now=clock.now(),
        quiet_hours="off",
    )
    outbox = Outbox()
    clock.set(first_reminder_due(scene))
    await _dispatcher(database, outbox, clock).drain()
    assert len(outbox.sent) == 1


async def test_sends_for_erased_people_or_deleted_activities_are_dropped(
    engine: Engine, database: Database, clock: FrozenClock
) -> None:
    scene = _scene(engine, clock)
    with transaction(engine) as session:
        jan = session.get(Person, scene.people["Jan"].person_id)
        assert jan is not None
        jan.telegram_id, jan.display_name, jan.erased_at = None, None, clock.now()
        session.add(jan)
        # A change notice whose registration went away with its activity.
        orphan = enqueue(
            session,
            kind=SendKind.CHANGE,
            person_id=scene.people["Olena"].person_id,
            due_at=clock.now(),
        )
        assert orphan is not None
    outbox = Outbox()
    clock.set(first_reminder_due(scene))
    await _dispatcher(database, outbox, clock).drain()
    reasons = {(s.person_id, s.last_error) for s in sends(engine, state=SendState.DROPPED)}
    assert (scene.people["Jan"].person_id, "person erased") in reasons
    assert (scene.people["Olena"].person_id, "no longer relevant") in reasons
    assert [chat for chat, *_ in outbox.sent] == [701]


async def test_failures_back_off_then_fail_for_good(
    engine: Engine, database: Database, clock: FrozenClock
) -> None:
    scene = make_scene(
        engine,
        starts_at=clock.now() + timedelta(days=5),
        places=2,
        people=[("Jan", 702, "pl")],
        now=clock.now(),
    )
    outbox = Outbox()
    dispatcher = _dispatcher(database, outbox, clock)
    outbox.answers = [SendResult(SendOutcome.RETRY_LATER, error="NetworkError")] * MAX_ATTEMPTS
    clock.set(first_reminder_due(scene))
    for _ in range(MAX_ATTEMPTS):
        await dispatcher.drain()
        clock.advance(timedelta(hours=1))
    first = sends(engine, SendKind.REMINDER)[0]
    assert (first.state, first.attempts, first.last_error) == (
        SendState.FAILED,
        MAX_ATTEMPTS,
        "NetworkError",
    )
    # Telegram refusing the message outright is not retried.
    outbox.answers = [SendResult(SendOutcome.FAILED, error="BadRequest: chat not found")]
    clock.set(scene.starts_at - timedelta(hours=2))
    await dispatcher.drain()
    second = sends(engine, SendKind.REMINDER)[1]
    assert (second.state, second.attempts) == (SendState.FAILED, 0)


async def test_a_flood_wait_longer_than_the_backoff_is_honoured(
    engine: Engine, database: Database, clock: FrozenClock
) -> None:
    scene = make_scene(
        engine,
        starts_at=clock.now() + timedelta(days=5),
        places=2,
        people=[("Jan", 702, "pl")],
        now=clock.now(),
    )
    outbox = Outbox()
    outbox.answers = [SendResult(SendOutcome.RETRY_LATER, error="RetryAfter", retry_after=300)]
    clock.set(first_reminder_due(scene))
    await _dispatcher(database, outbox, clock).drain()
    first = sends(engine, SendKind.REMINDER)[0]
    assert (first.state, first.due_at) == (SendState.PENDING, clock.now() + timedelta(minutes=5))


async def test_two_dispatchers_on_one_database_send_each_message_once(
    engine: Engine, database: Database, clock: FrozenClock
) -> None:
    with transaction(engine) as session:
        for i in range(60):
            person = Person(telegram_id=9000 + i, display_name=f"Osoba {i}", onboarding_step="done")
            session.add(person)
            session.flush()
            enqueue(
                session,
                kind=SendKind.CHANGE,
                person_id=person.id,
                due_at=clock.now(),
                payload={"cancelled": True},
            )

    second_db = Database(engine)
    outbox_a, outbox_b = Outbox(), Outbox()
    # Telegram takes a moment to answer, so neither can take all 60 alone.
    outbox_a.latency = outbox_b.latency = 0.05
    a = _dispatcher(database, outbox_a, clock, worker="host:1:a", changes_as_x=True)
    b = _dispatcher(second_db, outbox_b, clock, worker="host:2:b", changes_as_x=True)
    await asyncio.gather(a.drain(), b.drain())
    second_db.close()
    chats = [c for c, *_ in outbox_a.sent] + [c for c, *_ in outbox_b.sent]
    assert sorted(chats) == list(range(9000, 9060))
    assert outbox_a.sent and outbox_b.sent


async def test_claims_of_a_crashed_worker_are_resent_after_the_lease(
    engine: Engine, database: Database, clock: FrozenClock
) -> None:
    scene = make_scene(
        engine,
        starts_at=clock.now() + timedelta(days=5),
        places=2,
        people=[("Jan", 702, "pl")],
        now=clock.now(),
    )
    clock.set(first_reminder_due(scene))
    with transaction(engine) as session:  # a worker on another host claims, then dies
        assert len(claim_due(session, worker="elsewhere:42:7", now=clock.now(), limit=5)) == 1
    outbox = Outbox()
    dispatcher = _dispatcher(database, outbox, clock)
    await dispatcher.release_stale_claims()
    await dispatcher.drain()
    assert outbox.sent == []  # within the lease it may still be sending
    clock.advance(timedelta(minutes=2))
    assert len(await dispatcher.release_stale_claims()) == 1
    await dispatcher.drain()
    assert len(outbox.sent) == 1


def test_a_worker_on_this_host_whose_process_ended_is_dead() -> None:
    me = worker_identity()
    host, pid, start = me.split(":")
    assert not is_dead_worker(me, me=me)
    init_start = Path("/proc/1/stat").read_text().rsplit(")", 1)[1].split()[19]
    assert not is_dead_worker(f"{host}:1:{init_start}", me=me)  # alive
    assert is_dead_worker(f"{host}:{pid}:{int(start) - 1}", me=me)  # same pid, older process
    assert is_dead_worker(f"{host}:4194999:1", me=me)  # no such process
    assert not is_dead_worker("another-host:1:1", me=me)  # cannot tell: the lease decides


async def test_an_enqueued_send_for_now_wakes_the_dispatcher(
    engine: Engine, database: Database, clock: FrozenClock
) -> None:
    scene = make_scene(
        engine,
        starts_at=clock.now() + timedelta(days=5),
        places=1,
        people=[("Jan", 702, "pl"), ("Olena", 701, "uk")],
        now=clock.now(),
    )
    outbox = Outbox()
    wakes: list[datetime | None] = []

    class Alarm:
        def wake_at(self, when: datetime | None) -> None:
            wakes.append(when)

    dispatcher = Dispatcher(
        db=database, sender=outbox, clock=clock, alarm=Alarm(), settings=DispatchSettings()
    )
    await dispatcher.start()
    await dispatcher.wait_idle()
    assert wakes[-1] == first_reminder_due(scene)  # nothing due: sleep until the reminder
    # Jan gives up his place: Olena is offered it and the offer goes out at once.
    await database.write(
        cancel,
        person_id=scene.people["Jan"].person_id,
        activity_id=scene.activity_id,
        now=clock.now(),
    )
    for _ in range(100):
        if outbox.sent:
            break
        await asyncio.sleep(0.01)
    await dispatcher.wait_idle()
    assert [chat for chat, *_ in outbox.sent] == [701]
    await dispatcher.stop()


async def test_stopping_waits_for_sends_in_flight(
    engine: Engine, database: Database, clock: FrozenClock
) -> None:
    scene = make_scene(
        engine,
        starts_at=clock.now() + timedelta(days=5),
        places=2,
        people=[("Jan", 702, "pl")],
        now=clock.now(),
    )
    outbox = Outbox()
    outbox.gate = asyncio.Event()
    dispatcher = _dispatcher(database, outbox, clock)
    clock.set(first_reminder_due(scene))
    await dispatcher.start()
    await asyncio.sleep(0.05)
    assert sends(engine, SendKind.REMINDER)[0].state == SendState.CLAIMED
    outbox.gate.set()
    await dispatcher.stop()
    assert sends(engine, SendKind.REMINDER)[0].state == SendState.SENT


async def test_a_reminder_whose_activity_was_deleted_is_dropped(
    engine: Engine, database: Database, clock: FrozenClock
) -> None:
    scene = make_scene(
        engine,
        starts_at=clock.now() + timedelta(days=5),
        places=2,
        people=[("Jan", 702, "pl")],
        now=clock.now(),
    )
    # Deleted behind the bot's back, references and all.
    raw = sqlite3.connect(str(engine.url.database))
    raw.execute("PRAGMA foreign_keys=OFF")
    raw.execute("DELETE FROM activity WHERE id = ?", (scene.activity_id,))
    raw.commit()
    raw.close()
    outbox = Outbox()
    clock.set(first_reminder_due(scene))
    await _dispatcher(database, outbox, clock).drain()
    assert outbox.sent == []
    assert [s.last_error for s in sends(engine, SendKind.REMINDER, SendState.DROPPED)] == [
        "activity gone"
    ]


async def test_stopping_gives_back_claims_whose_sends_never_finished(
    engine: Engine, database: Database, clock: FrozenClock
) -> None:
    scene = make_scene(
        engine,
        starts_at=clock.now() + timedelta(days=5),
        places=2,
        people=[("Jan", 702, "pl")],
        now=clock.now(),
    )
    outbox = Outbox()
    outbox.gate = asyncio.Event()  # Telegram never answers
    dispatcher = _dispatcher(database, outbox, clock)
    clock.set(first_reminder_due(scene))
    await dispatcher.start()
    await asyncio.sleep(0.05)
    await dispatcher.stop(grace=0.1)
    first = sends(engine, SendKind.REMINDER)[0]
    assert (first.state, first.claimed_by, first.attempts) == (SendState.PENDING, None, 0)


class SlowClaims(Database):
    """A database whose second claim takes long enough for the sends in flight to finish."""

    claims = 0

    async def write(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        if getattr(fn, "__name__", "") == "claim":
            self.claims += 1
            if self.claims == 2:
                await asyncio.sleep(0.05)
        return await super().write(fn, *args, **kwargs)


async def test_a_send_finishing_during_a_claim_does_not_end_the_drain(
    engine: Engine, clock: FrozenClock
) -> None:
    # One person, two messages due: the second waits while the first is in flight, and
    # the first finishes while the dispatcher is claiming again (it skipped her as busy).
    # The drain must claim once more, not stop with her second message left behind.
    with transaction(engine) as session:
        person = Person(telegram_id=9100, display_name="Ewa", onboarding_step="done")
        session.add(person)
        session.flush()
        for _ in range(2):
            enqueue(
                session,
                kind=SendKind.CHANGE,
                person_id=person.id,
                due_at=clock.now(),
                payload={"cancelled": True},
            )
    database = SlowClaims(engine)
    try:
        outbox = Outbox()
        assert await _dispatcher(database, outbox, clock, changes_as_x=True).drain() == 2
    finally:
        database.close()
    assert [chat for chat, *_ in outbox.sent] == [9100, 9100]
    assert database.claims >= 3


def test_every_kind_of_send_has_its_renderer() -> None:
    assert set(RENDERERS) == {kind.value for kind in SendKind}


class FailingRecords(Database):
    """A database that fails to record the first `failures` send outcomes."""

    def __init__(self, engine: Engine, failures: int) -> None:
        super().__init__(engine)
        self.failures = failures

    async def write(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        if getattr(fn, "__name__", "") == "_finish" and self.failures > 0:
            self.failures -= 1
            raise sqlite3.OperationalError("database is locked")
        return await super().write(fn, *args, **kwargs)


@pytest.mark.parametrize(("failures", "state"), [(2, SendState.SENT), (9, SendState.CLAIMED)])
async def test_recording_a_sent_message_is_retried_then_left_to_the_lease(
    engine: Engine,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
    failures: int,
    state: SendState,
) -> None:
    # Telegram took the message; writing "sent" fails for a moment. The write is tried
    # again with backoff (1 s, 2 s, …); if it never succeeds the claim stays, and the
    # lease gives it back later (a possible repeat, never a loss).
    slept: list[float] = []

    async def no_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", no_sleep)
    with transaction(engine) as session:
        person = Person(telegram_id=9200, display_name="Ewa", onboarding_step="done")
        session.add(person)
        session.flush()
        enqueue(
            session,
            kind=SendKind.CHANGE,
            person_id=person.id,
            due_at=clock.now(),
            payload={"cancelled": True},
        )
    database = FailingRecords(engine, failures)
    try:
        outbox = Outbox()
        await _dispatcher(database, outbox, clock, changes_as_x=True).drain()
    finally:
        database.close()
    assert [chat for chat, *_ in outbox.sent] == [9200]
    assert [s.state for s in sends(engine, SendKind.CHANGE)] == [state.value]
    assert slept == ([1, 2] if failures == 2 else [1, 2, 4, 8, 10])
