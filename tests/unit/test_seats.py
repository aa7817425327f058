"""The seat rule: places, the reserve list in arrival order, cancellation and promotion."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from schedules.clock import FrozenClock
from storage.activities.listing import ActivityNotFound, ClosedReason, activity_view, closed_reason
from storage.activities.seats import (
    NotRegistered,
    RegistrationClosed,
    cancel,
    fill_free_places,
    my_registrations,
    sign_up,
)
from storage.db import transaction
from storage.models import (
    Activity,
    ActivityStatus,
    AuditEntry,
    OfferKind,
    OfferState,
    PendingSend,
    PlaceOffer,
    Registration,
    RegistrationStatus,
    SendKind,
)
from tests.support.signup import make_activity, make_person, make_programme


@pytest.fixture
def workshop(engine: Engine, clock: FrozenClock) -> int:
    """A two-place workshop a week from now."""
    with transaction(engine) as session:
        programme = make_programme(session)
        activity = make_activity(
            session, programme=programme, places=2, starts_at=clock.now() + timedelta(days=7)
        )
        assert activity.id is not None
        return activity.id


def _people(engine: Engine, *names: str, telegram: bool = False) -> list[int]:
    with transaction(engine) as session:
        ids: list[int] = []
        for name in names:
            # Without Telegram (signed up on paper) unless asked: their turn gives them
            # the place outright (storage.activities.offers).
            person = make_person(
                session, name=name, telegram_id=7000 + len(ids) if telegram else None
            )
            assert person.id is not None
            ids.append(person.id)
        return ids


def test_places_then_reserve_list_in_arrival_order(
    engine: Engine, clock: FrozenClock, workshop: int
) -> None:
    olena, jan, krystyna, marek = _people(engine, "Olena", "Jan", "Krystyna", "Marek")
    results = []
    for person in (olena, jan, krystyna, marek):
        with transaction(engine) as session:
            results.append(
                sign_up(session, person_id=person, activity_id=workshop, now=clock.now())
            )
    assert [r.confirmed for r in results] == [True, True, False, False]
    assert [r.position for r in results] == [None, None, 1, 2]
    assert all(r.created for r in results)


def test_signing_up_twice_changes_nothing(
    engine: Engine, clock: FrozenClock, workshop: int
) -> None:
    (olena,) = _people(engine, "Olena")
    with transaction(engine) as session:
        first = sign_up(session, person_id=olena, activity_id=workshop, now=clock.now())
    with transaction(engine) as session:
        again = sign_up(session, person_id=olena, activity_id=workshop, now=clock.now())
        count = len(session.exec(select(Registration)).all())
    assert not again.created and again.registration.id == first.registration.id
    assert count == 1


def test_reserve_person_signing_up_again_keeps_position(
    engine: Engine, clock: FrozenClock, workshop: int
) -> None:
    a, b, c = _people(engine, "A", "B", "C")
    with transaction(engine) as session:
        for p in (a, b, c):
            sign_up(session, person_id=p, activity_id=workshop, now=clock.now())
    with transaction(engine) as session:
        again = sign_up(session, person_id=c, activity_id=workshop, now=clock.now())
    assert again.position == 1 and not again.created


def test_cancelling_a_place_offers_it_to_the_first_in_line_and_enqueues_the_offer(
    engine: Engine, clock: FrozenClock, workshop: int
) -> None:
    olena, jan, krystyna, marek = _people(
        engine, "Olena", "Jan", "Krystyna", "Marek", telegram=True
    )
    with transaction(engine) as session:
        for p in (olena, jan, krystyna, marek):
            sign_up(session, person_id=p, activity_id=workshop, now=clock.now())
    clock.advance(timedelta(hours=1))
    with transaction(engine) as session:
        result = cancel(session, person_id=jan, activity_id=workshop, now=clock.now())
    assert result.was_confirmed
    assert result.promoted is not None and result.promoted.person_id == krystyna
    with Session(engine) as session:
        offer = session.exec(select(PlaceOffer)).one()
        assert (offer.person_id, offer.registration_id, offer.state, offer.kind) == (
            krystyna,
            result.promoted.id,
            OfferState.OFFERED,
            OfferKind.DEADLINE,
        )
        assert offer.deadline == clock.now() + timedelta(hours=12)
        sends = session.exec(
            select(PendingSend).where(PendingSend.kind == SendKind.PLACE_OFFER.value)
        ).all()
        assert [(s.person_id, s.registration_id, s.dedupe_key, s.payload) for s in sends] == [
            (krystyna, result.promoted.id, f"offer:{offer.id}", {"offer_id": offer.id})
        ]
        assert sends[0].due_at == clock.now()
        # Krystyna is still on the reserve list until she takes it, and the place is held.
        mine = my_registrations(session, person_id=krystyna, now=clock.now())
        assert [m.position for m in mine] == [1]
        view = activity_view(session, activity_id=workshop, person_id=marek, now=clock.now())
        assert view.free == 0 and view.reserve_position == 2


def test_cancelling_a_reserve_position_promotes_nobody(
    engine: Engine, clock: FrozenClock, workshop: int
) -> None:
    a, b, c, d = _people(engine, "A", "B", "C", "D")
    with transaction(engine) as session:
        for p in (a, b, c, d):
            sign_up(session, person_id=p, activity_id=workshop, now=clock.now())
    with transaction(engine) as session:
        result = cancel(session, person_id=c, activity_id=workshop, now=clock.now())
    assert not result.was_confirmed and result.promoted is None
    with Session(engine) as session:
        assert (
            session.exec(
                select(PendingSend).where(PendingSend.kind == SendKind.PROMOTION.value)
            ).all()
            == []
        )
        assert [m.position for m in my_registrations(session, person_id=d, now=clock.now())] == [1]


def test_cancel_twice_raises_not_registered(
    engine: Engine, clock: FrozenClock, workshop: int
) -> None:
    (olena,) = _people(engine, "Olena")
    with transaction(engine) as session:
        sign_up(session, person_id=olena, activity_id=workshop, now=clock.now())
    with transaction(engine) as session:
        cancel(session, person_id=olena, activity_id=workshop, now=clock.now())
    with pytest.raises(NotRegistered), transaction(engine) as session:
        cancel(session, person_id=olena, activity_id=workshop, now=clock.now())


def test_sign_up_again_after_cancelling_joins_the_end(
    engine: Engine, clock: FrozenClock, workshop: int
) -> None:
    a, b, c = _people(engine, "A", "B", "C")
    with transaction(engine) as session:
        for p in (a, b, c):
            sign_up(session, person_id=p, activity_id=workshop, now=clock.now())
        cancel(session, person_id=a, activity_id=workshop, now=clock.now())
        again = sign_up(session, person_id=a, activity_id=workshop, now=clock.now())
    assert again.created and again.position == 1  # c was promoted; a waits again


def test_unknown_activity(engine: Engine, clock: FrozenClock) -> None:
    (olena,) = _people(engine, "Olena")
    with pytest.raises(ActivityNotFound), transaction(engine) as session:
        sign_up(session, person_id=olena, activity_id=999, now=clock.now())
    with pytest.raises(ActivityNotFound), transaction(engine) as session:
        cancel(session, person_id=olena, activity_id=999, now=clock.now())


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("cancelled", ClosedReason.CANCELLED),
        ("started", ClosedReason.STARTED),
        ("deadline", ClosedReason.DEADLINE),
        ("programme", ClosedReason.PROGRAMME_CLOSED),
    ],
)
def test_closed_reasons(
    engine: Engine, clock: FrozenClock, workshop: int, change: str, reason: ClosedReason
) -> None:
    (olena,) = _people(engine, "Olena")
    now = clock.now()
    with transaction(engine) as session:
        activity = session.get(Activity, workshop)
        assert activity is not None
        if change == "cancelled":
            activity.status = ActivityStatus.CANCELLED
        elif change == "started":
            now = activity.starts_at + timedelta(minutes=1)
        elif change == "deadline":
            activity.registration_deadline = now - timedelta(minutes=1)
        else:
            programme = make_programme(session, open_until=now - timedelta(days=1))
            activity.programme_id = programme.id  # type: ignore[assignment]
        session.add(activity)
    with pytest.raises(RegistrationClosed) as caught, transaction(engine) as session:
        sign_up(session, person_id=olena, activity_id=workshop, now=now)
    assert caught.value.reason == reason
    with Session(engine) as session:
        assert session.exec(select(Registration)).all() == []
        view = activity_view(session, activity_id=workshop, person_id=olena, now=now)
        assert view.closed == reason


def test_open_activity_has_no_closed_reason(
    engine: Engine, clock: FrozenClock, workshop: int
) -> None:
    with Session(engine) as session:
        activity = session.get(Activity, workshop)
        assert activity is not None
        assert closed_reason(activity, None, clock.now()) is None


def test_cannot_cancel_after_start(engine: Engine, clock: FrozenClock, workshop: int) -> None:
    (olena,) = _people(engine, "Olena")
    with transaction(engine) as session:
        result = sign_up(session, person_id=olena, activity_id=workshop, now=clock.now())
    later = result.activity.starts_at + timedelta(minutes=5)
    with pytest.raises(RegistrationClosed), transaction(engine) as session:
        cancel(session, person_id=olena, activity_id=workshop, now=later)


def test_no_promotion_into_a_cancelled_activity(
    engine: Engine, clock: FrozenClock, workshop: int
) -> None:
    a, b, c = _people(engine, "A", "B", "C")
    with transaction(engine) as session:
        for p in (a, b, c):
            sign_up(session, person_id=p, activity_id=workshop, now=clock.now())
        activity = session.get(Activity, workshop)
        assert activity is not None
        activity.status = ActivityStatus.CANCELLED
        session.add(activity)
    with transaction(engine) as session:
        result = cancel(session, person_id=a, activity_id=workshop, now=clock.now())
    assert result.promoted is None


def test_raised_places_are_filled_from_the_reserve_list_first(
    engine: Engine, clock: FrozenClock, workshop: int
) -> None:
    a, b, c, d, e = _people(engine, "A", "B", "C", "D", "E")
    with transaction(engine) as session:
        for p in (a, b, c, d):
            sign_up(session, person_id=p, activity_id=workshop, now=clock.now())
        activity = session.get(Activity, workshop)
        assert activity is not None
        activity.places = 3
        session.add(activity)
    with transaction(engine) as session:
        late = sign_up(session, person_id=e, activity_id=workshop, now=clock.now())
    # c waited longest and takes the new place; e joins behind d.
    assert late.position == 2
    with Session(engine) as session:
        mine = my_registrations(session, person_id=c, now=clock.now())
        assert mine[0].registration.status == RegistrationStatus.CONFIRMED


def test_fill_free_places_promotes_in_order(
    engine: Engine, clock: FrozenClock, workshop: int
) -> None:
    ids = _people(engine, "A", "B", "C", "D", "E")
    with transaction(engine) as session:
        for p in ids:
            sign_up(session, person_id=p, activity_id=workshop, now=clock.now())
        activity = session.get(Activity, workshop)
        assert activity is not None
        activity.places = 4
        promoted = fill_free_places(session, activity=activity, now=clock.now())
    assert [r.person_id for r in promoted] == ids[2:4]


def test_proxy_sign_up_and_cancel_are_audited(
    engine: Engine, clock: FrozenClock, workshop: int
) -> None:
    animator, olena = _people(engine, "Animator", "Olena")
    with transaction(engine) as session:
        result = sign_up(
            session, person_id=olena, activity_id=workshop, now=clock.now(), proxy_by_id=animator
        )
        cancel(session, person_id=olena, activity_id=workshop, now=clock.now(), by_id=animator)
    assert result.registration.proxy_by_id == animator
    with Session(engine) as session:
        actions = [(e.action, e.actor_id, e.subject_id) for e in session.exec(select(AuditEntry))]
    assert actions == [
        ("registration.sign_up", animator, result.registration.id),
        ("registration.cancel", animator, result.registration.id),
    ]


def test_my_registrations_lists_upcoming_with_status(engine: Engine, clock: FrozenClock) -> None:
    with transaction(engine) as session:
        programme = make_programme(session)
        later = make_activity(
            session,
            programme=programme,
            places=1,
            title="Later",
            starts_at=clock.now() + timedelta(days=9),
        )
        sooner = make_activity(
            session,
            programme=programme,
            places=5,
            title="Sooner",
            starts_at=clock.now() + timedelta(days=2),
        )
        past = make_activity(
            session,
            programme=programme,
            places=5,
            title="Past",
            starts_at=clock.now() - timedelta(days=2),
        )
        first, olena = make_person(session, name="First"), make_person(session, name="Olena")
        assert first.id and olena.id and later.id and sooner.id and past.id
        sign_up(session, person_id=first.id, activity_id=later.id, now=clock.now())
        sign_up(session, person_id=olena.id, activity_id=later.id, now=clock.now())
        sign_up(session, person_id=olena.id, activity_id=sooner.id, now=clock.now())
        session.add(
            Registration(
                activity_id=past.id, person_id=olena.id, status=RegistrationStatus.CONFIRMED
            )
        )
    with Session(engine) as session:
        mine = my_registrations(session, person_id=olena.id, now=clock.now())
    assert [(m.activity.title, m.registration.status, m.position) for m in mine] == [
        ("Sooner", RegistrationStatus.CONFIRMED, None),
        ("Later", RegistrationStatus.RESERVE, 1),
    ]
