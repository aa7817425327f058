"""The seat rule under real concurrency: many threads, each with its own session."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from schedules.clock import FrozenClock
from storage.activities.seat_counts import reserve_position
from storage.activities.seats import cancel, sign_up
from storage.db import transaction
from storage.models import (
    OfferState,
    PendingSend,
    PlaceOffer,
    Registration,
    RegistrationStatus,
    SendKind,
)
from tests.support.signup import make_activity, make_people, make_programme

PEOPLE = 40
PLACES = 10


def _activity(engine: Engine, clock: FrozenClock) -> tuple[int, list[int]]:
    with transaction(engine) as session:
        programme = make_programme(session)
        activity = make_activity(
            session, programme=programme, places=PLACES, starts_at=clock.now() + timedelta(days=3)
        )
        assert activity.id is not None and programme.id is not None
        activity_id, programme_id = activity.id, programme.id
    return activity_id, make_people(engine, PEOPLE, programme_id=programme_id)


def _all_at_once(n: int, work: Callable[[int], object]) -> list[object]:
    # A barrier makes every thread start its transaction at the same moment.
    barrier = threading.Barrier(n)

    def run(i: int) -> object:
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def _check_allocation(engine: Engine, activity_id: int) -> None:
    with Session(engine) as session:
        rows = session.exec(
            select(Registration)
            .where(Registration.activity_id == activity_id)
            .order_by(col(Registration.id))
        ).all()
        confirmed = [r for r in rows if r.status == RegistrationStatus.CONFIRMED]
        reserve = [r for r in rows if r.status == RegistrationStatus.RESERVE]
        assert len(rows) == PEOPLE
        assert len(confirmed) == PLACES
        assert len(reserve) == PEOPLE - PLACES
        positions = [reserve_position(session, r) for r in reserve]
        assert positions == list(range(1, PEOPLE - PLACES + 1))
        # Arrival order: every place went to someone who came before everyone waiting.
        assert max(r.id or 0 for r in confirmed) < min(r.id or 0 for r in reserve)


def _race(engine: Engine, clock: FrozenClock) -> None:
    activity_id, people = _activity(engine, clock)

    def one(i: int) -> object:
        with transaction(engine) as session:
            return sign_up(session, person_id=people[i], activity_id=activity_id, now=clock.now())

    _all_at_once(PEOPLE, one)
    _check_allocation(engine, activity_id)
    # Everyone presses again at once: nothing changes.
    _all_at_once(PEOPLE, one)
    _check_allocation(engine, activity_id)

    # Five people with places cancel at once: exactly the first five waiting are offered
    # the places (storage.activities.offers), which they hold until they answer.
    with Session(engine) as session:
        confirmed = session.exec(
            select(Registration.person_id).where(
                Registration.activity_id == activity_id,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
        ).all()
        waiting = session.exec(
            select(Registration.person_id)
            .where(
                Registration.activity_id == activity_id,
                Registration.status == RegistrationStatus.RESERVE,
            )
            .order_by(col(Registration.id))
        ).all()
    leaving = list(confirmed[:5])

    def leave(i: int) -> object:
        with transaction(engine) as session:
            return cancel(session, person_id=leaving[i], activity_id=activity_id, now=clock.now())

    _all_at_once(5, leave)
    with Session(engine) as session:
        now_confirmed = set(
            session.exec(
                select(Registration.person_id).where(
                    Registration.activity_id == activity_id,
                    Registration.status == RegistrationStatus.CONFIRMED,
                )
            ).all()
        )
        notices = [
            p
            for p in session.exec(
                select(PendingSend.person_id).where(PendingSend.kind == SendKind.PLACE_OFFER.value)
            ).all()
            if p
        ]
        offered = session.exec(
            select(PlaceOffer.person_id).where(PlaceOffer.state == OfferState.OFFERED)
        ).all()
    assert now_confirmed == set(confirmed) - set(leaving)
    assert sorted(notices) == sorted(offered) == sorted(waiting[:5])


def test_forty_people_ten_places_sqlite(engine: Engine, clock: FrozenClock) -> None:
    _race(engine, clock)


@pytest.mark.postgres
def test_forty_people_ten_places_postgres(postgres_engine: Engine, clock: FrozenClock) -> None:
    _race(postgres_engine, clock)
