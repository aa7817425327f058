"""Changing or calling off an activity tells everyone signed up, in their language."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from schedules.clock import FrozenClock
from schedules.reminder_notices import render_change
from storage.activities.change_notices import (
    ChangeProblem,
    InvalidChange,
    announce_activity_change,
    cancel_activity,
    change_activity,
)
from storage.activities.listing import ActivityNotFound
from storage.activities.seats import sign_up
from storage.db import transaction
from storage.models import Activity, AuditEntry, PendingSend, Person, SendKind, SendState
from tests.support.signup import make_activity, make_person, make_programme
from translations import translator

H = timedelta(hours=1)


def _scene(engine: Engine, now: datetime) -> tuple[int, dict[str, int]]:
    """A one-place activity in four days: Olena (uk) has the place, Jan (pl) waits."""
    with transaction(engine) as session:
        programme = make_programme(session)
        activity = make_activity(
            session,
            programme=programme,
            places=1,
            starts_at=now + timedelta(days=4),
            title="Spacer nordic walking",
            venue="Park Miejski, wejście od ul. Lipowej",
        )
        people = {
            "olena": make_person(session, telegram_id=1, name="Olena", language="uk"),
            "jan": make_person(session, telegram_id=2, name="Jan", language="pl"),
        }
        assert activity.id is not None
        ids = {name: p.id for name, p in people.items() if p.id is not None}
        for person_id in ids.values():
            sign_up(session, person_id=person_id, activity_id=activity.id, now=now)
        return activity.id, ids


def _sends(
    engine: Engine, kind: SendKind, state: SendState = SendState.PENDING
) -> list[PendingSend]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(PendingSend)
                .where(PendingSend.kind == kind.value, PendingSend.state == state.value)
                .order_by(col(PendingSend.person_id))
            )
        )


def _render(engine: Engine, send: PendingSend) -> str:
    with Session(engine) as session:
        person = session.get(Person, send.person_id)
        assert person is not None
        message = render_change(session, send, person, translator(person.language))
        assert message is not None
        return message.text + " | " + " / ".join(b.text for row in message.buttons for b in row)


def test_moving_tells_place_holders_and_the_reserve_list_and_moves_reminders(
    engine: Engine, clock: FrozenClock
) -> None:
    activity, people = _scene(engine, clock.now())
    old_start = clock.now() + timedelta(days=4)
    new_start = old_start + timedelta(days=1, hours=2)
    with transaction(engine) as session:
        notices = change_activity(
            session,
            activity_id=activity,
            now=clock.now(),
            starts_at=new_start,
            actor_id=people["jan"],
        )
    assert notices == 2
    olena_notice, jan_notice = _sends(engine, SendKind.CHANGE)
    assert (olena_notice.person_id, jan_notice.person_id) == (people["olena"], people["jan"])
    assert olena_notice.due_at == clock.now()
    # Olena holds the place: new time, the old one, and the two answer buttons.
    assert _render(engine, olena_notice) == (
        "🔄 Новий час: Spacer nordic walking\n"
        "📅 Коли: субота, 28 листопада, о 12:00\n"
        "(раніше: пʼятниця, 27 листопада, 10:00)\n"
        "📍 Де: Park Miejski, wejście od ul. Lipowej\n\n"
        "Чи зможете Ви прийти в новий час? Дайте знати кнопкою нижче."
        " | ✅ Прийду / ❌ Не зможу прийти"
    )
    # Jan waits on the reserve list: told his position, no answer buttons.
    assert "⏳ Jesteś na liście rezerwowej (miejsce 1)." in _render(engine, jan_notice)
    assert [r.due_at for r in _sends(engine, SendKind.REMINDER)] == [
        new_start - 24 * H,
        new_start - 2 * H,
    ]
    with Session(engine) as session:
        row = session.get(Activity, activity)
        assert row is not None and row.ends_at == new_start + 2 * H
        audit = session.exec(select(AuditEntry)).one()
        assert (audit.action, audit.details) == (
            "activity.changed",
            {"fields": ["starts_at", "ends_at"]},
        )


def test_two_quick_changes_make_one_notice_against_the_original(
    engine: Engine, clock: FrozenClock
) -> None:
    activity, _people = _scene(engine, clock.now())
    old_start = clock.now() + timedelta(days=4)
    with transaction(engine) as session:
        change_activity(session, activity_id=activity, now=clock.now(), starts_at=old_start + H)
    clock.advance(timedelta(minutes=1))
    with transaction(engine) as session:
        change_activity(session, activity_id=activity, now=clock.now(), venue="Dom Kultury")
    notices = _sends(engine, SendKind.CHANGE)
    assert len(notices) == 2 and len(_sends(engine, SendKind.CHANGE, SendState.CANCELLED)) == 2
    text = _render(engine, notices[1])
    assert text.startswith("🔄 Nowy termin i adres: Spacer nordic walking")
    assert "(wcześniej: piątek, 27 listopada, 10:00)" in text
    assert "📍 Gdzie: Dom Kultury\n(wcześniej: Park Miejski, wejście od ul. Lipowej)" in text


def test_a_change_undone_before_the_notice_left_is_not_sent(
    engine: Engine, clock: FrozenClock
) -> None:
    activity, _people = _scene(engine, clock.now())
    with transaction(engine) as session:
        change_activity(session, activity_id=activity, now=clock.now(), venue="Dom Kultury")
        change_activity(
            session,
            activity_id=activity,
            now=clock.now() + H,
            venue="Park Miejski, wejście od ul. Lipowej",
        )
    (notice, _other) = _sends(engine, SendKind.CHANGE)
    with Session(engine) as session:
        person = session.get(Person, notice.person_id)
        assert person is not None
        assert render_change(session, notice, person, translator("pl")) is None


def test_calling_off_withdraws_reminders_and_tells_everyone(
    engine: Engine, clock: FrozenClock
) -> None:
    activity, _people = _scene(engine, clock.now())
    with transaction(engine) as session:
        assert cancel_activity(session, activity_id=activity, now=clock.now()) == 2
    assert _sends(engine, SendKind.REMINDER) == []
    _olena_notice, jan_notice = _sends(engine, SendKind.CHANGE)
    assert _render(engine, jan_notice) == (
        "❌ Odwołane: Spacer nordic walking\n"
        "Wydarzenie było zaplanowane na: piątek, 27 listopada, 10:00.\n\n"
        "Przepraszamy. Nie musisz nic robić. | "
    )
    with transaction(engine) as session, pytest.raises(InvalidChange) as caught:
        cancel_activity(session, activity_id=activity, now=clock.now())
    assert caught.value.problem is ChangeProblem.CANCELLED


@pytest.mark.parametrize(
    ("field", "problem"),
    [
        ("starts_at", ChangeProblem.IN_PAST),
        ("ends_at", ChangeProblem.ENDS_BEFORE_START),
        (None, ChangeProblem.NOTHING),
        ("venue", ChangeProblem.EMPTY_VENUE),
    ],
)
def test_bad_changes_are_refused_and_change_nothing(
    engine: Engine, clock: FrozenClock, field: str | None, problem: ChangeProblem
) -> None:
    activity, _people = _scene(engine, clock.now())
    with pytest.raises(InvalidChange) as caught, transaction(engine) as session:
        change_activity(
            session,
            activity_id=activity,
            now=clock.now(),
            starts_at=clock.now() - H if field == "starts_at" else None,
            ends_at=clock.now() + timedelta(days=3) if field == "ends_at" else None,
            venue="   " if field == "venue" else None,
        )
    assert caught.value.problem is problem
    assert _sends(engine, SendKind.CHANGE) == []


def test_started_or_missing_activities_cannot_change(engine: Engine, clock: FrozenClock) -> None:
    activity, _people = _scene(engine, clock.now())
    later = clock.now() + timedelta(days=5)
    with pytest.raises(InvalidChange) as caught, transaction(engine) as session:
        change_activity(session, activity_id=activity, now=later, venue="Dom Kultury")
    assert caught.value.problem is ChangeProblem.STARTED
    with pytest.raises(ActivityNotFound), transaction(engine) as session:
        announce_activity_change(session, activity_id=999, now=clock.now(), cancelled=True)
