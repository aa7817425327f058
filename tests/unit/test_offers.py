"""Promotion with a deadline: offers of a freed place, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

import schedules.call_list_notice
import schedules.offer_notices  # noqa: F401  (registers the offer renderers)
from schedules.clock import FrozenClock
from schedules.messages import OutgoingMessage
from schedules.offers import expire_due_offers
from schedules.renderers import RENDERERS
from storage.activities.change_notices import cancel_activity, change_activity
from storage.activities.listing import activity_view
from storage.activities.offers import OfferRefusal, pass_offer, take_offer
from storage.activities.resident_views import card_page, card_view
from storage.activities.seats import cancel, sign_up
from storage.db import transaction
from storage.executor import Database
from storage.models import (
    Activity,
    AuditEntry,
    OfferKind,
    OfferState,
    PendingSend,
    Person,
    PlaceOffer,
    Programme,
    Registration,
    RegistrationStatus,
    Role,
    SendKind,
    SendState,
)
from storage.people.roles import grant
from tests.support.signup import make_activity, make_person, make_programme
from translations import translator

H = timedelta(hours=1)


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest) -> Engine:
    """The same scenarios on both databases (PostgreSQL skips visibly where unset)."""
    name = "engine" if request.param == "sqlite" else "postgres_engine"
    engine: Engine = request.getfixturevalue(name)
    return engine


@dataclass
class Scene:
    activity_id: int
    placed: list[int]
    waiting: list[int]
    starts_at: datetime


def _scene(
    engine: Engine,
    clock: FrozenClock,
    *,
    places: int = 1,
    waiting: int = 3,
    starts_in: timedelta = timedelta(days=3),
    paper: tuple[int, ...] = (),
    offer_time: str | None = None,
) -> Scene:
    """`places` people hold the places, `waiting` more are on the reserve list in order;
    those whose waiting index is in `paper` have no Telegram (an animator signed them up)."""
    with transaction(engine) as session:
        programme = make_programme(session)
        programme.offer_time = offer_time
        animator = make_person(session, telegram_id=900, name="Ewa")
        starts_at = clock.now() + starts_in
        activity = make_activity(session, programme=programme, places=places, starts_at=starts_at)
        assert activity.id is not None and animator.id is not None
        people: list[int] = []
        for i in range(places + waiting):
            without_telegram = i >= places and (i - places) in paper
            person = make_person(
                session, name=f"Osoba {i}", telegram_id=None if without_telegram else 1000 + i
            )
            if without_telegram:
                person.created_by_id = animator.id
            assert person.id is not None
            people.append(person.id)
            sign_up(
                session,
                person_id=person.id,
                activity_id=activity.id,
                now=clock.now(),
                proxy_by_id=animator.id if without_telegram else None,
            )
        return Scene(activity.id, people[:places], people[places:], starts_at)


def _offers(engine: Engine) -> list[PlaceOffer]:
    with Session(engine) as session:
        return list(session.exec(select(PlaceOffer).order_by(col(PlaceOffer.id))))


def _open(engine: Engine) -> list[PlaceOffer]:
    return [o for o in _offers(engine) if o.state == OfferState.OFFERED]


def _status(engine: Engine, person_id: int, activity_id: int) -> str:
    with Session(engine) as session:
        return (
            session.exec(
                select(Registration.status)
                .where(Registration.person_id == person_id, Registration.activity_id == activity_id)
                .order_by(col(Registration.id).desc())
            ).first()
            or ""
        )


def _confirmed(engine: Engine, activity_id: int) -> list[int]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(Registration.person_id).where(
                    Registration.activity_id == activity_id,
                    Registration.status == RegistrationStatus.CONFIRMED,
                )
            )
        )


def _audit(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return [
            e.action
            for e in session.exec(
                select(AuditEntry)
                .where(AuditEntry.subject_type == "offer")
                .order_by(col(AuditEntry.id))
            )
        ]


def _sends(engine: Engine, kind: SendKind) -> list[PendingSend]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(PendingSend)
                .where(PendingSend.kind == kind.value)
                .order_by(col(PendingSend.id))
            )
        )


def _expire(engine: Engine, clock: FrozenClock) -> int:

    database = Database(engine)
    try:
        return asyncio.run(expire_due_offers(database, now=clock.now()))
    finally:
        database._pool.shutdown(wait=True)  # the engine belongs to the fixture


def _free_place(engine: Engine, clock: FrozenClock, scene: Scene) -> None:
    with transaction(engine) as session:
        cancel(session, person_id=scene.placed[0], activity_id=scene.activity_id, now=clock.now())


def test_offered_passed_next_expired_next(db: Engine, clock: FrozenClock) -> None:
    scene = _scene(db, clock, waiting=3)
    a, b, c = scene.waiting
    _free_place(db, clock, scene)
    [offer] = _open(db)
    assert (offer.person_id, offer.kind) == (a, OfferKind.DEADLINE)
    assert offer.deadline == clock.now() + 12 * H
    assert _status(db, a, scene.activity_id) == RegistrationStatus.RESERVE
    # A passes: A leaves the reserve list and B is offered the place at once.
    clock.advance(H)
    with transaction(db) as session:
        assert offer.id is not None
        answer = pass_offer(session, offer_id=offer.id, person_id=a, now=clock.now())
    assert answer.refusal is None
    assert _status(db, a, scene.activity_id) == RegistrationStatus.CANCELLED
    [offer_b] = _open(db)
    assert offer_b.person_id == b and offer_b.deadline == clock.now() + 12 * H
    # Nothing is due before B's deadline; at it, B's offer expires and C gets one.
    clock.advance(11 * H)
    assert _expire(db, clock) == 0
    clock.advance(H)
    assert _expire(db, clock) == 1
    [offer_c] = _open(db)
    assert offer_c.person_id == c
    # B stays on the reserve list and is told so; the offers left an audit trail.
    assert _status(db, b, scene.activity_id) == RegistrationStatus.RESERVE
    assert [s.person_id for s in _sends(db, SendKind.OFFER_EXPIRED)] == [b]
    assert [s.person_id for s in _sends(db, SendKind.PLACE_OFFER)] == [a, b, c]
    assert _audit(db) == ["offer.passed", "offer.expired"]
    # C takes it: C has the place, nobody else is offered anything.
    with transaction(db) as session:
        assert offer_c.id is not None
        taken = take_offer(session, offer_id=offer_c.id, person_id=c, now=clock.now())
    assert taken.refusal is None and not taken.already
    assert sorted(_confirmed(db, scene.activity_id)) == [c]
    assert _open(db) == [] and _audit(db)[-1] == "offer.taken"


def test_taking_confirms_schedules_reminders_and_a_second_tap_is_harmless(
    db: Engine, clock: FrozenClock
) -> None:
    scene = _scene(db, clock, waiting=2)
    a = scene.waiting[0]
    _free_place(db, clock, scene)
    [offer] = _open(db)
    assert offer.id is not None
    with transaction(db) as session:
        first = take_offer(session, offer_id=offer.id, person_id=a, now=clock.now())
    with transaction(db) as session:
        second = take_offer(session, offer_id=offer.id, person_id=a, now=clock.now())
        passed = pass_offer(session, offer_id=offer.id, person_id=a, now=clock.now())
    assert first.refusal is None and second.already and passed.refusal == OfferRefusal.TAKEN
    assert _confirmed(db, scene.activity_id) == [a]
    assert [
        s.person_id
        for s in _sends(db, SendKind.REMINDER)
        if s.state == SendState.PENDING and s.person_id == a
    ] == [a, a]
    with Session(db) as session:
        registration = session.exec(select(Registration).where(Registration.person_id == a)).one()
        assert registration.promoted_at == clock.now()


def test_someone_elses_or_unknown_offer_changes_nothing(db: Engine, clock: FrozenClock) -> None:
    scene = _scene(db, clock, waiting=2)
    a, b = scene.waiting
    _free_place(db, clock, scene)
    [offer] = _open(db)
    assert offer.id is not None
    with transaction(db) as session:
        assert (
            take_offer(session, offer_id=offer.id, person_id=b, now=clock.now()).refusal
            == OfferRefusal.NOT_YOURS
        )
        assert (
            pass_offer(session, offer_id=999_999, person_id=a, now=clock.now()).refusal
            == OfferRefusal.NOT_YOURS
        )
    assert [o.state for o in _offers(db)] == [OfferState.OFFERED]


def test_an_open_offer_holds_the_place_against_newcomers(db: Engine, clock: FrozenClock) -> None:
    scene = _scene(db, clock, waiting=1)
    _free_place(db, clock, scene)
    with transaction(db) as session:
        newcomer = make_person(session, telegram_id=4242, name="Nowa")
        assert newcomer.id is not None
        result = sign_up(
            session, person_id=newcomer.id, activity_id=scene.activity_id, now=clock.now()
        )
        view = activity_view(
            session, activity_id=scene.activity_id, person_id=newcomer.id, now=clock.now()
        )
        # The residents' lean screens read the same rule in Core.
        card = card_view(
            session, activity_id=scene.activity_id, person_id=newcomer.id, now=clock.now()
        )
        programme_id = result.activity.programme_id
        listed = card_page(session, programme_id=programme_id, now=clock.now()).items
    assert result.position == 2 and result.registration.status == RegistrationStatus.RESERVE
    assert view.free == 0 and view.reserve_position == 2
    assert card is not None and card.free == 0 and card.standing.position == 2
    assert [i.free for i in listed if i.id == scene.activity_id] == [0]


def test_tapping_after_the_deadline_expires_and_moves_on(db: Engine, clock: FrozenClock) -> None:
    scene = _scene(db, clock, waiting=2)
    a, b = scene.waiting
    _free_place(db, clock, scene)
    [offer] = _open(db)
    assert offer.id is not None
    clock.advance(12 * H)  # the schedule has not run yet
    with transaction(db) as session:
        late = take_offer(session, offer_id=offer.id, person_id=a, now=clock.now())
    assert late.refusal == OfferRefusal.EXPIRED
    assert [o.person_id for o in _open(db)] == [b]
    assert _confirmed(db, scene.activity_id) == []


def test_deadline_never_runs_into_the_last_minute_window(db: Engine, clock: FrozenClock) -> None:
    scene = _scene(db, clock, waiting=2, starts_in=8 * H)
    _free_place(db, clock, scene)
    [offer] = _open(db)
    assert offer.deadline == scene.starts_at - 2 * H  # not now + 12 h
    message = _render(db, SendKind.PLACE_OFFER, offer.person_id, "pl")
    assert "Miejsce czeka na Ciebie do: poniedziałek, 23 listopada, 16:00." in message.text
    assert [b.text for row in message.buttons for b in row] == [
        "✅ Biorę to miejsce",
        "Rezygnuję – wypisz mnie z listy rezerwowej",
    ]
    assert message.exempt_from_quiet_hours


def _render(engine: Engine, kind: SendKind, person_id: int, language: str) -> OutgoingMessage:
    render = RENDERERS[kind.value]
    assert render is not None
    with Session(engine) as session:
        send = session.exec(
            select(PendingSend)
            .where(PendingSend.kind == kind.value, PendingSend.person_id == person_id)
            .order_by(col(PendingSend.id).desc())
        ).first()
        person = session.get(Person, person_id)
        assert send is not None and person is not None
        message = render(session, send, person, translator(language))
    assert message is not None
    return message


def _all_at_once(n: int, work: Callable[[int], object]) -> list[object]:
    barrier = threading.Barrier(n)

    def run(i: int) -> object:
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def test_last_minute_first_tap_wins_and_never_twice(db: Engine, clock: FrozenClock) -> None:
    scene = _scene(db, clock, places=2, waiting=8, starts_in=90 * timedelta(minutes=1))
    # Two places free up within two hours of the start: everyone waiting is asked at once.
    with transaction(db) as session:
        for person in scene.placed:
            cancel(session, person_id=person, activity_id=scene.activity_id, now=clock.now())
    offers = _open(db)
    assert sorted(o.person_id for o in offers) == sorted(scene.waiting)
    assert {o.kind for o in offers} == {OfferKind.FIRST_COME}
    uk = _render(db, SendKind.PLACE_OFFER, scene.waiting[3], "uk")
    assert "місце отримає той, хто першим натисне «Беру це місце»" in uk.text
    by_person = {o.person_id: o.id for o in offers}

    def tap(i: int) -> object:
        person = scene.waiting[i]
        offer_id = by_person[person]
        assert offer_id is not None
        with transaction(db) as session:
            return take_offer(session, offer_id=offer_id, person_id=person, now=clock.now()).refusal

    results = _all_at_once(len(scene.waiting), tap)
    assert results.count(None) == 2
    assert results.count(OfferRefusal.GONE) == len(scene.waiting) - 2
    winners = _confirmed(db, scene.activity_id)
    assert len(winners) == 2 and set(winners) <= set(scene.waiting)
    assert _open(db) == []
    states = sorted(o.state for o in _offers(db))
    assert states.count(OfferState.TAKEN) == 2
    # Losers keep their reserve place; a newcomer cannot have a place either.
    loser = next(p for p in scene.waiting if p not in winners)
    assert _status(db, loser, scene.activity_id) == RegistrationStatus.RESERVE


def test_a_newcomer_during_a_last_minute_round_is_asked_too(db: Engine, clock: FrozenClock) -> None:
    scene = _scene(db, clock, waiting=1, starts_in=H)
    _free_place(db, clock, scene)
    with transaction(db) as session:
        newcomer = make_person(session, telegram_id=4343, name="Nowa")
        assert newcomer.id is not None
        result = sign_up(
            session, person_id=newcomer.id, activity_id=scene.activity_id, now=clock.now()
        )
    assert not result.confirmed
    assert sorted(o.person_id for o in _open(db)) == sorted([scene.waiting[0], newcomer.id])


def test_paper_person_first_in_line_gets_the_place_and_the_animator_is_asked_to_phone(
    db: Engine, clock: FrozenClock
) -> None:
    scene = _scene(db, clock, waiting=2, paper=(0,))
    paper, telegram = scene.waiting
    with transaction(db) as session:
        animator = session.exec(select(Person).where(Person.telegram_id == 900)).one()
        programme_id = session.exec(
            select(Activity.programme_id).where(Activity.id == scene.activity_id)
        ).one()
        grant(session, role=Role.ANIMATOR, telegram_id=900, programme_id=programme_id)
        animator_id = animator.id
    _free_place(db, clock, scene)
    assert _confirmed(db, scene.activity_id) == [paper]
    assert _open(db) == []
    # The call list owns "phone this person": at once, to the programme's animators.
    [call] = [s for s in _sends(db, SendKind.CALL_LIST) if s.due_at == clock.now()]
    assert call.person_id == animator_id
    message = _render(db, SendKind.CALL_LIST, call.person_id or 0, "pl")
    assert "Osoba 1" in message.text and "Zadzwoń" in message.text
    assert _status(db, telegram, scene.activity_id) == RegistrationStatus.RESERVE


def test_an_expired_person_is_skipped_until_the_last_minute_round(
    db: Engine, clock: FrozenClock
) -> None:
    scene = _scene(db, clock, places=2, waiting=2, starts_in=timedelta(days=2))
    a, b = scene.waiting
    _free_place(db, clock, scene)
    clock.advance(12 * H)
    _expire(db, clock)
    assert [o.person_id for o in _open(db)] == [b]
    # Another place frees up: A had their turn, so nobody else is waiting for an offer.
    with transaction(db) as session:
        cancel(session, person_id=scene.placed[1], activity_id=scene.activity_id, now=clock.now())
    assert [o.person_id for o in _open(db)] == [b]
    # B lets it expire at the window; in the last two hours both are asked together.
    clock.set(scene.starts_at - 2 * H)
    _expire(db, clock)
    offers = _open(db)
    assert sorted(o.person_id for o in offers) == sorted([a, b])
    assert {o.kind for o in offers} == {OfferKind.FIRST_COME}


def test_calling_off_voids_open_offers(db: Engine, clock: FrozenClock) -> None:
    scene = _scene(db, clock, waiting=2)
    a = scene.waiting[0]
    _free_place(db, clock, scene)
    [offer] = _open(db)
    assert offer.id is not None
    with transaction(db) as session:
        cancel_activity(session, activity_id=scene.activity_id, now=clock.now())
    assert [o.state for o in _offers(db)] == [OfferState.VOID]
    assert [s.state for s in _sends(db, SendKind.PLACE_OFFER)] == [SendState.CANCELLED]
    with transaction(db) as session:
        late = take_offer(session, offer_id=offer.id, person_id=a, now=clock.now())
    assert late.refusal == OfferRefusal.VOID and _confirmed(db, scene.activity_id) == []


def test_moving_the_activity_voids_and_offers_again(db: Engine, clock: FrozenClock) -> None:
    scene = _scene(db, clock, waiting=2)
    _free_place(db, clock, scene)
    with transaction(db) as session:
        change_activity(
            session, activity_id=scene.activity_id, now=clock.now(), starts_at=clock.now() + 10 * H
        )
    first, second = _offers(db)
    assert first.state == OfferState.VOID and second.state == OfferState.OFFERED
    assert second.person_id == first.person_id
    assert second.deadline == clock.now() + 8 * H  # from the new start


def test_leaving_the_reserve_list_with_an_open_offer_passes_it_on(
    db: Engine, clock: FrozenClock
) -> None:
    scene = _scene(db, clock, waiting=2)
    a, b = scene.waiting
    _free_place(db, clock, scene)
    with transaction(db) as session:
        cancel(session, person_id=a, activity_id=scene.activity_id, now=clock.now())
    assert [o.state for o in _offers(db)] == [OfferState.VOID, OfferState.OFFERED]
    assert _open(db)[0].person_id == b


def test_offers_due_while_the_bot_was_down_expire_on_start(db: Engine, clock: FrozenClock) -> None:
    scene = _scene(db, clock, waiting=2)
    _free_place(db, clock, scene)
    # The bot is down for a day: the first run after start catches up.
    clock.advance(timedelta(days=1))
    assert _expire(db, clock) == 1
    [offer] = _open(db)
    assert offer.person_id == scene.waiting[1]
    assert offer.deadline == clock.now() + 12 * H


def test_a_programme_may_give_places_at_once(db: Engine, clock: FrozenClock) -> None:
    scene = _scene(db, clock, waiting=1, offer_time="0")
    _free_place(db, clock, scene)
    assert _confirmed(db, scene.activity_id) == scene.waiting and _open(db) == []
    assert [s.person_id for s in _sends(db, SendKind.PROMOTION)] == scene.waiting


def test_programme_windows_override_the_default(db: Engine, clock: FrozenClock) -> None:
    scene = _scene(db, clock, waiting=1, starts_in=timedelta(days=2))
    with transaction(db) as session:
        activity = session.get(Activity, scene.activity_id)
        assert activity is not None
        programme = session.get(Programme, activity.programme_id)
        assert programme is not None
        programme.offer_time, programme.offer_first_come = "3h", "1d"
        session.add(programme)
    _free_place(db, clock, scene)
    [offer] = _open(db)
    assert offer.kind == OfferKind.DEADLINE and offer.deadline == clock.now() + 3 * H


def test_someone_who_blocked_the_bot_is_skipped(db: Engine, clock: FrozenClock) -> None:
    scene = _scene(db, clock, waiting=2)
    a, b = scene.waiting
    with transaction(db) as session:
        person = session.get(Person, a)
        assert person is not None
        person.unreachable_at = clock.now()
        session.add(person)
    _free_place(db, clock, scene)
    assert [o.person_id for o in _open(db)] == [b]
    assert _status(db, a, scene.activity_id) == RegistrationStatus.RESERVE


def test_statements_per_tap(engine: Engine, clock: FrozenClock) -> None:
    """SQL statements per tap on SQLite: a take, and a double tap that changes nothing."""
    scene = _scene(engine, clock, waiting=2)
    _free_place(engine, clock, scene)
    [offer] = _open(engine)
    assert offer.id is not None
    statements: list[str] = []

    def count(_conn: object, _cursor: object, sql: str, *_rest: object) -> None:
        statements.append(sql)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with transaction(engine) as session:
            take_offer(session, offer_id=offer.id, person_id=offer.person_id, now=clock.now())
        taken = len(statements)
        statements.clear()
        with transaction(engine) as session:
            take_offer(session, offer_id=offer.id, person_id=offer.person_id, now=clock.now())
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # Lock, offer, registration, open offers, the place, two reminders, the audit row.
    assert taken == 17
    assert len(statements) == 4  # BEGIN, the offer, the lock, the offer again: done
