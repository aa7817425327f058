"""Reminders follow the place: created with it, withdrawn with it, moved with the activity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from schedules.clock import FrozenClock
from schedules.reminder_notices import render_reminder
from storage.activities.offers import take_offer
from storage.activities.seats import cancel, sign_up
from storage.db import transaction
from storage.messaging.reminders import move_reminders, offsets_for, reminder_key
from storage.models import Activity, PendingSend, Person, PlaceOffer, SendKind, SendState
from storage.programmes.defaults import ProgrammeDefaults, bind_defaults, defaults_of
from tests.support.signup import make_activity, make_person, make_programme
from translations import translator

H = timedelta(hours=1)


def _reminders(engine: Engine, *, state: SendState | None = SendState.PENDING) -> list[PendingSend]:
    with Session(engine) as session:
        query = select(PendingSend).where(PendingSend.kind == SendKind.REMINDER.value)
        if state is not None:
            query = query.where(PendingSend.state == state.value)
        return list(session.exec(query.order_by(col(PendingSend.due_at))))


def _scene(
    engine: Engine, starts_at: datetime, places: int = 1, offsets: str | None = None
) -> tuple[int, int, int]:
    """A one-place activity and two residents, Olena and Jan; returns their ids."""
    with transaction(engine) as session:
        programme = make_programme(session)
        programme.reminder_offsets = offsets
        activity = make_activity(session, programme=programme, places=places, starts_at=starts_at)
        olena = make_person(session, telegram_id=1, name="Olena", language="uk")
        jan = make_person(session, telegram_id=2, name="Jan")
        assert activity.id and olena.id and jan.id
        return activity.id, olena.id, jan.id


def test_a_confirmed_place_gets_reminders_24h_and_2h_before(
    engine: Engine, clock: FrozenClock
) -> None:
    start = clock.now() + timedelta(days=3)
    activity, olena, jan = _scene(engine, start)
    with transaction(engine) as session:
        placed = sign_up(session, person_id=olena, activity_id=activity, now=clock.now())
        sign_up(session, person_id=jan, activity_id=activity, now=clock.now())  # reserve list
    reg = placed.registration.id
    assert reg is not None
    rows = _reminders(engine)
    assert [(r.person_id, r.due_at, r.dedupe_key, r.payload) for r in rows] == [
        (olena, start - 24 * H, reminder_key(reg, 24 * H), {"offset": 86400, "last": False}),
        (olena, start - 2 * H, reminder_key(reg, 2 * H), {"offset": 7200, "last": True}),
    ]


def test_cancelling_moves_the_reminders_to_the_promoted_person(
    engine: Engine, clock: FrozenClock
) -> None:
    start = clock.now() + timedelta(days=3)
    activity, olena, jan = _scene(engine, start)
    with transaction(engine) as session:
        sign_up(session, person_id=olena, activity_id=activity, now=clock.now())
        sign_up(session, person_id=jan, activity_id=activity, now=clock.now())
    clock.advance(timedelta(days=2, hours=12))  # 12 h before: the 24 h reminder is past
    with transaction(engine) as session:
        cancel(session, person_id=olena, activity_id=activity, now=clock.now())
    # Jan is offered the place; its reminders come once he takes it.
    assert _reminders(engine) == []
    with transaction(engine) as session:
        offer = session.exec(select(PlaceOffer).where(PlaceOffer.person_id == jan)).one()
        assert offer.id is not None
        take_offer(session, offer_id=offer.id, person_id=jan, now=clock.now())
    assert [(r.person_id, r.due_at) for r in _reminders(engine)] == [(jan, start - 2 * H)]
    cancelled = _reminders(engine, state=SendState.CANCELLED)
    assert {r.person_id for r in cancelled} == {olena} and len(cancelled) == 2


def _five_hours(engine: Engine) -> Engine:
    """The engine with a deployment default of one reminder 5 h before."""
    defaults = ProgrammeDefaults.of([timedelta(hours=5)], 12 * H, 2 * H)
    return bind_defaults(engine, defaults)


def test_programme_offsets_override_the_deployment_default(
    engine: Engine, clock: FrozenClock
) -> None:
    start = clock.now() + timedelta(days=5)
    activity, olena, _ = _scene(engine, start, offsets="3d, 30m")
    with transaction(_five_hours(engine)) as session:
        sign_up(session, person_id=olena, activity_id=activity, now=clock.now())
        assert offsets_for(None, defaults_of(session).reminder_offsets) == (5 * H,)
    assert [r.due_at for r in _reminders(engine)] == [start - 72 * H, start - timedelta(minutes=30)]


def test_without_offsets_of_its_own_a_programme_takes_the_engines_default(
    engine: Engine, clock: FrozenClock
) -> None:
    """The default travels with the engine the composition root binds, not a global."""
    start = clock.now() + timedelta(days=5)
    activity, olena, jan = _scene(engine, start, places=2)
    with transaction(_five_hours(engine)) as session:
        sign_up(session, person_id=olena, activity_id=activity, now=clock.now())
    with transaction(engine) as session:  # an engine without bound defaults: built in
        sign_up(session, person_id=jan, activity_id=activity, now=clock.now())
    due = {(r.person_id, r.due_at) for r in _reminders(engine)}
    assert due == {(olena, start - 5 * H), (jan, start - 24 * H), (jan, start - 2 * H)}


def test_moving_an_activity_moves_pending_and_sent_reminders(
    engine: Engine, clock: FrozenClock
) -> None:
    start = clock.now() + timedelta(hours=30)
    activity, olena, _ = _scene(engine, start)
    with transaction(engine) as session:
        sign_up(session, person_id=olena, activity_id=activity, now=clock.now())
    clock.advance(timedelta(hours=7))  # the 24 h reminder went out
    with transaction(engine) as session:
        first = session.exec(
            select(PendingSend).where(PendingSend.kind == SendKind.REMINDER.value)
        ).first()
        assert first is not None
        first.state, first.sent_at = SendState.SENT.value, clock.now()
        session.add(first)
    new_start = start + timedelta(days=2)
    with transaction(engine) as session:
        row = session.get(Activity, activity)
        assert row is not None
        row.starts_at = new_start
        session.add(row)
        session.flush()
        assert move_reminders(session, activity_id=activity, now=clock.now()) == 2
    # Both reminders again, for the new date: it is a different day to remember.
    assert [r.due_at for r in _reminders(engine)] == [new_start - 24 * H, new_start - 2 * H]


def test_moving_an_activity_sooner_withdraws_reminders_whose_time_passed(
    engine: Engine, clock: FrozenClock
) -> None:
    start = clock.now() + timedelta(days=3)
    activity, olena, _ = _scene(engine, start)
    with transaction(engine) as session:
        sign_up(session, person_id=olena, activity_id=activity, now=clock.now())
        row = session.get(Activity, activity)
        assert row is not None
        row.starts_at = clock.now() + timedelta(hours=5)
        session.add(row)
        session.flush()
        move_reminders(session, activity_id=activity, now=clock.now())
    assert [r.due_at for r in _reminders(engine)] == [clock.now() + 3 * H]
    assert len(_reminders(engine, state=SendState.CANCELLED)) == 1


def test_signing_up_close_to_the_start_schedules_only_what_is_still_ahead(
    engine: Engine, clock: FrozenClock
) -> None:
    activity, olena, _ = _scene(engine, clock.now() + timedelta(hours=3))
    with transaction(engine) as session:
        sign_up(session, person_id=olena, activity_id=activity, now=clock.now())
    assert [r.payload["offset"] for r in _reminders(engine)] == [7200]


def test_scheduling_twice_creates_nothing_new(engine: Engine, clock: FrozenClock) -> None:
    activity, olena, _ = _scene(engine, clock.now() + timedelta(days=3))
    with transaction(engine) as session:
        sign_up(session, person_id=olena, activity_id=activity, now=clock.now())
        sign_up(session, person_id=olena, activity_id=activity, now=clock.now())
        move_reminders(session, activity_id=activity, now=clock.now())
    assert len(_reminders(engine, state=None)) == 2


def test_reminder_before_a_sunday_after_the_october_dst_change(engine: Engine) -> None:
    # Sunday 25 October 2026, 17:00 in Warsaw, the day clocks go back (CEST → CET).
    warsaw = ZoneInfo("Europe/Warsaw")
    start = datetime(2026, 10, 25, 17, 0, tzinfo=warsaw)
    now = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)
    activity, olena, _ = _scene(engine, start)
    with transaction(engine) as session:
        sign_up(session, person_id=olena, activity_id=activity, now=now)
    day_before, two_hours = _reminders(engine)
    # 24 real hours before: 16:00 UTC on Saturday, which is 18:00 CEST on the wall clock.
    assert day_before.due_at == datetime(2026, 10, 24, 16, 0, tzinfo=UTC)
    assert day_before.due_at.astimezone(warsaw).hour == 18
    assert two_hours.due_at == datetime(2026, 10, 25, 14, 0, tzinfo=UTC)
    # The text names the activity's local time, 17:00, with the weekday in each language.
    with Session(engine) as session:
        person = session.get(Person, olena)
        assert person is not None
        ukrainian = render_reminder(session, day_before, person, translator("uk"))
        polish = render_reminder(session, day_before, person, translator("pl"))
    assert ukrainian is not None and polish is not None
    assert "неділя, 25 жовтня, о 17:00" in ukrainian.text
    assert "niedziela, 25 października, godz. 17:00" in polish.text
    assert not polish.exempt_from_quiet_hours


def test_people_without_telegram_get_no_reminders(engine: Engine, clock: FrozenClock) -> None:
    with transaction(engine) as session:
        programme = make_programme(session)
        activity = make_activity(
            session, programme=programme, starts_at=clock.now() + timedelta(days=3)
        )
        paper = make_person(session, telegram_id=None, name="Pani Halina")
        assert activity.id and paper.id
        sign_up(session, person_id=paper.id, activity_id=activity.id, now=clock.now())
    assert _reminders(engine, state=None) == []
