"""The "a place became free and it is yours" notice of programmes that give freed
places at once (`offer_time` 0), rendered from the outbox row."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

import schedules.notices  # noqa: F401  (registers the renderer)
from schedules.clock import FrozenClock
from schedules.messages import OutgoingMessage
from schedules.renderers import RENDERERS
from storage.activities.seats import cancel, sign_up
from storage.db import transaction
from storage.models import (
    Activity,
    ActivityStatus,
    PendingSend,
    Person,
    Registration,
    RegistrationStatus,
    SendKind,
)
from tests.support.signup import make_activity, make_person, make_programme
from translations import translator


def _promote(engine: Engine, clock: FrozenClock) -> tuple[int, int]:
    """Olena holds the one place, Jan waits; Olena cancels. Returns (send id, activity id)."""
    with transaction(engine) as session:
        programme = make_programme(session)
        programme.offer_time = "0"  # this programme gives a freed place at once
        activity = make_activity(
            session, programme=programme, places=1, starts_at=clock.now() + timedelta(days=2)
        )
        olena, jan = (
            make_person(session, name="Olena"),
            make_person(session, name="Jan", language="uk", telegram_id=2),
        )
        assert activity.id and olena.id and jan.id
        sign_up(session, person_id=olena.id, activity_id=activity.id, now=clock.now())
        sign_up(session, person_id=jan.id, activity_id=activity.id, now=clock.now())
        cancel(session, person_id=olena.id, activity_id=activity.id, now=clock.now())
        send = session.exec(
            select(PendingSend).where(PendingSend.kind == SendKind.PROMOTION.value)
        ).one()
        assert send.id is not None
        return send.id, activity.id


def _render(engine: Engine, send_id: int, language: str = "uk") -> object:
    render = RENDERERS[SendKind.PROMOTION.value]
    assert render is not None
    with Session(engine) as session:
        send = session.get(PendingSend, send_id)
        assert send is not None and send.person_id is not None
        person = session.get(Person, send.person_id)
        assert person is not None
        return render(session, send, person, translator(language))


def test_promotion_message_has_title_date_venue_and_cancel(
    engine: Engine, clock: FrozenClock
) -> None:
    send_id, activity_id = _promote(engine, clock)
    message = _render(engine, send_id)

    assert isinstance(message, OutgoingMessage)
    assert message.text.startswith("Добра новина: звільнилося місце, і воно ваше!")
    assert "Warsztaty rękodzieła" in message.text
    assert "середа, 25 листопада, 10:00" in message.text
    assert "Klub Sąsiedzki, ul. Słoneczna 5" in message.text
    labels = [(b.text, b.callback_data) for row in message.buttons for b in row]
    assert ("Скасувати запис", f"cx:{activity_id}") in labels
    assert message.exempt_from_quiet_hours
    polish = _render(engine, send_id, "pl")
    assert isinstance(polish, OutgoingMessage)
    assert "Dobra wiadomość: zwolniło się miejsce i jest Twoje!" in polish.text
    assert ("Rezygnuję z miejsca", f"cx:{activity_id}") in [
        (b.text, b.callback_data) for row in polish.buttons for b in row
    ]


def test_dropped_when_the_place_is_no_longer_theirs(engine: Engine, clock: FrozenClock) -> None:
    send_id, activity_id = _promote(engine, clock)
    with transaction(engine) as session:
        registration = session.exec(
            select(Registration).where(Registration.status == RegistrationStatus.CONFIRMED)
        ).one()
        cancel(session, person_id=registration.person_id, activity_id=activity_id, now=clock.now())
    assert _render(engine, send_id) is None


def test_dropped_when_the_activity_was_called_off(engine: Engine, clock: FrozenClock) -> None:
    send_id, activity_id = _promote(engine, clock)
    with transaction(engine) as session:
        activity = session.get(Activity, activity_id)
        assert activity is not None
        activity.status = ActivityStatus.CANCELLED
        session.add(activity)
    assert _render(engine, send_id) is None


def test_dropped_when_the_activity_has_started(engine: Engine, clock: FrozenClock) -> None:
    send_id, activity_id = _promote(engine, clock)
    with transaction(engine) as session:
        activity = session.get(Activity, activity_id)
        send = session.get(PendingSend, send_id)
        assert activity is not None and send is not None
        send.claimed_at = activity.starts_at + timedelta(minutes=1)
        session.add(send)
    assert _render(engine, send_id) is None
