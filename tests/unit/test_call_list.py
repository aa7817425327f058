"""Pani Zofia and Pani Henryka have no Telegram: Ewa, their animator, phones them.

The call list holds people without Telegram who hold a place; the animators of the
activity get it with the first reminder (24 h before), through the outbox, rendered
when it is sent, held in quiet hours, never to another programme's animator.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from schedules.clock import FrozenClock
from schedules.dispatcher import Dispatcher, DispatchSettings
from schedules.messages import OutgoingMessage, SendOutcome, SendResult
from storage.activities.call_list import call_list, call_list_recipients
from storage.activities.editing import call_off
from storage.activities.organising import Actor, NotYourActivity
from storage.activities.seats import cancel, sign_up
from storage.db import make_engine, transaction
from storage.executor import Database
from storage.messaging.reminders import move_reminders
from storage.migrate import upgrade_to_latest
from storage.models import Activity, AuditEntry, Person, Role, SendKind, SendState
from storage.people.acting_for import proxy_cancel, proxy_sign_up
from storage.people.outreach import PHONE_CHANGED, set_proxy_phone
from storage.people.roles import grant
from storage.people.without_telegram import InvalidPhone, ProxyNotFound, create_proxy_participant
from storage.privacy.erasure import erase_proxy_participant
from storage.privacy.my_data import person_data
from tests.support.reminders import sends
from tests.support.signup import make_activity, make_person, make_programme

WARSAW = ZoneInfo("Europe/Warsaw")
EWA, ADAM, JAN = 900, 901, 5001


class Chats:
    """A Sender that records what went to which chat."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, OutgoingMessage]] = []

    async def send(
        self, chat_id: int, message: OutgoingMessage, *, bulk: bool, broadcast: bool = False
    ) -> SendResult:
        self.sent.append((chat_id, message))
        return SendResult(SendOutcome.DELIVERED, message_id=len(self.sent))

    def to(self, chat_id: int) -> list[str]:
        return [m.text for c, m in self.sent if c == chat_id]


@dataclass(frozen=True)
class Story:
    programme_id: int
    activity_id: int
    starts_at: datetime
    ewa: Actor
    adam: Actor
    zofia: int
    henryka: int
    marek: int


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, db_url: str) -> Iterator[Engine]:
    """Every story on SQLite and, where PALBOT_TEST_POSTGRES_URL is set, on PostgreSQL."""
    if request.param == "postgres":
        yield request.getfixturevalue("postgres_engine")
        return
    eng = make_engine(db_url)
    upgrade_to_latest(eng)
    yield eng
    eng.dispose()


@pytest.fixture
async def database(engine: Engine) -> AsyncIterator[Database]:
    db = Database(engine)
    yield db
    db.close()


def _story(
    engine: Engine, now: datetime, *, starts_at: datetime | None = None, places: int = 3
) -> Story:
    """Ewa's programme: Jan (Telegram), Zofia (phone) and Henryka hold places, Marek waits.

    Adam animates another programme. The activity is the programme's (no organiser).
    """
    starts_at = starts_at or now + timedelta(days=3)
    with transaction(engine) as session:
        programme = make_programme(session, name="PAL Osiedle Słoneczne")
        other = make_programme(session, name="PAL Stare Miasto")
        ewa = make_person(session, telegram_id=EWA, name="Ewa", programme=programme)
        adam = make_person(session, telegram_id=ADAM, name="Adam", programme=other)
        grant(session, role=Role.ANIMATOR, telegram_id=EWA, programme_id=programme.id)
        grant(session, role=Role.ANIMATOR, telegram_id=ADAM, programme_id=other.id)
        jan = make_person(session, telegram_id=JAN, name="Jan", programme=programme)
        activity = make_activity(
            session,
            programme=programme,
            starts_at=starts_at,
            places=places,
            title="Warsztaty ceramiki",
        )
        assert programme.id and ewa.id and adam.id and jan.id and activity.id
        paper = [
            create_proxy_participant(
                session,
                display_name=name,
                created_by_id=ewa.id,
                programme_id=programme.id,
                phone=phone,
            )
            for name, phone in (
                ("Pani Zofia", "600 100 200"),
                ("Pani Henryka", None),
                ("Pan Marek", "+48 601 000 111"),
            )
        ]
        ids = [p.id for p in paper]
        assert all(ids)
        ewa_actor = Actor.animator(ewa.id, programme.id)
        assert other.id
        adam_actor = Actor.animator(adam.id, other.id)
        story = Story(
            programme.id,
            activity.id,
            starts_at,
            ewa_actor,
            adam_actor,
            int(ids[0] or 0),
            int(ids[1] or 0),
            int(ids[2] or 0),
        )
        sign_up(session, person_id=jan.id, activity_id=activity.id, now=now)
    for person_id in (story.zofia, story.henryka, story.marek):
        with transaction(engine) as session:
            proxy_sign_up(
                session,
                actor=story.ewa,
                person_id=person_id,
                activity_id=story.activity_id,
                now=now,
            )
    return story


def _dispatcher(db: Database, chats: Chats, clock: FrozenClock) -> Dispatcher:
    return Dispatcher(
        db=db,
        sender=chats,
        clock=clock,
        worker="test:1:1",
        settings=DispatchSettings(quiet_hours=None),
    )


def test_the_call_list_holds_people_without_telegram_with_a_place(
    engine: Engine, clock: FrozenClock
) -> None:
    story = _story(engine, clock.now())
    with Session(engine) as session:
        found = call_list(session, activity_id=story.activity_id, actor=story.ewa)
    # Jan has Telegram; Marek is on the reserve list (3 places: Jan, Zofia, Henryka).
    assert [(e.display_name, e.phone) for e in found.entries] == [
        ("Pani Henryka", None),
        ("Pani Zofia", "600 100 200"),
    ]
    assert found.without_phone == 1
    with Session(engine) as session, pytest.raises(NotYourActivity):
        call_list(session, activity_id=story.activity_id, actor=story.adam)
    with Session(engine) as session, pytest.raises(NotYourActivity):
        call_list(session, activity_id=story.activity_id + 99, actor=story.ewa)


def test_only_the_programmes_animators_get_it_and_only_once(
    engine: Engine, clock: FrozenClock
) -> None:
    story = _story(engine, clock.now())
    [send] = sends(engine, SendKind.CALL_LIST)
    assert send.person_id == story.ewa.person_id
    assert send.due_at == story.starts_at - timedelta(hours=24)
    # Names and numbers are read when it is sent, never kept in the outbox.
    assert set(send.payload) == {"starts_at"}
    with Session(engine) as session:
        activity = session.get(Activity, story.activity_id)
        assert activity is not None
        assert call_list_recipients(session, activity=activity) == [story.ewa.person_id]
        # An organiser owns the activity: only the organiser is its staff.
        activity.organiser_id = story.adam.person_id
        assert call_list_recipients(session, activity=activity) == []
    # Adam coordinates the programme: he gets the list of what he organises only.
    with transaction(engine) as session:
        activity = session.get(Activity, story.activity_id)
        assert activity is not None and activity.programme_id is not None
        grant(session, role=Role.COORDINATOR, telegram_id=ADAM, programme_id=activity.programme_id)
        assert call_list_recipients(session, activity=activity) == [story.ewa.person_id]
        activity.organiser_id = story.adam.person_id
        assert call_list_recipients(session, activity=activity) == [story.adam.person_id]


async def test_at_24_hours_the_animator_gets_names_and_phones(
    engine: Engine, database: Database, clock: FrozenClock
) -> None:
    story = _story(engine, clock.now())
    chats = Chats()
    dispatcher = _dispatcher(database, chats, clock)
    clock.set(story.starts_at - timedelta(hours=24))
    await dispatcher.drain()
    [text] = chats.to(EWA)
    assert "📞 Zadzwoń do tych osób: Warsztaty ceramiki" in text
    assert "2 osoby bez Telegramu mają miejsca" in text
    assert "1. Pani Henryka — brak numeru telefonu" in text
    assert "2. Pani Zofia — 600 100 200" in text
    assert "Marek" not in text
    assert chats.to(ADAM) == []
    [(_, message)] = [(c, m) for c, m in chats.sent if c == EWA]
    assert message.buttons[0][0].callback_data == f"ano:csv:{story.activity_id}"
    assert not message.exempt_from_quiet_hours


async def test_the_list_is_the_one_true_when_it_is_sent(
    engine: Engine, database: Database, clock: FrozenClock
) -> None:
    story = _story(engine, clock.now())
    now = clock.now()
    with transaction(engine) as session:
        # Zofia gives her place back: Marek (without Telegram) gets it from the reserve list.
        proxy_cancel(
            session, actor=story.ewa, person_id=story.zofia, activity_id=story.activity_id, now=now
        )
    with transaction(engine) as session:
        erase_proxy_participant(
            session,
            person_id=story.henryka,
            animator_id=story.ewa.person_id,
            programme_ids={story.programme_id},
            now=now,
        )
    chats = Chats()
    clock.set(story.starts_at - timedelta(hours=24))
    await _dispatcher(database, chats, clock).drain()
    # First "phone Marek now" (his place came from the reserve list), then the list.
    phone_now, text = chats.to(EWA)
    assert "Pan Marek" in phone_now and "Zadzwoń" in phone_now
    assert "1 osoba bez Telegramu ma miejsce" in text
    assert "1. Pan Marek — +48 601 000 111" in text
    assert "Henryka" not in text and "Zofia" not in text


async def test_nothing_is_sent_when_nobody_is_left(
    engine: Engine, database: Database, clock: FrozenClock
) -> None:
    story = _story(engine, clock.now(), places=2)  # Jan and Zofia; Henryka and Marek wait
    with transaction(engine) as session:
        proxy_cancel(
            session,
            actor=story.ewa,
            person_id=story.zofia,
            activity_id=story.activity_id,
            now=clock.now(),
        )
    with transaction(engine) as session:
        # Henryka was promoted; now she gives the place back too, and so does Marek.
        for person_id in (story.henryka, story.marek):
            proxy_cancel(
                session,
                actor=story.ewa,
                person_id=person_id,
                activity_id=story.activity_id,
                now=clock.now(),
            )
    chats = Chats()
    clock.set(story.starts_at - timedelta(hours=24))
    await _dispatcher(database, chats, clock).drain()
    assert chats.to(EWA) == []
    # The list, and "phone them now" for Henryka and Marek: none is still true.
    assert [s.last_error for s in sends(engine, SendKind.CALL_LIST)] == ["no longer relevant"] * 3


async def test_nothing_is_sent_for_an_activity_called_off(
    engine: Engine, database: Database, clock: FrozenClock
) -> None:
    story = _story(engine, clock.now())
    with transaction(engine) as session:
        call_off(session, activity_id=story.activity_id, actor=story.ewa, now=clock.now())
    chats = Chats()
    clock.set(story.starts_at - timedelta(hours=24))
    await _dispatcher(database, chats, clock).drain()
    assert chats.to(EWA) == []
    assert [s.state for s in sends(engine, SendKind.CALL_LIST)] != [SendState.SENT.value]


async def test_a_moved_activity_gets_a_new_call_list_at_the_new_time(
    engine: Engine, database: Database, clock: FrozenClock
) -> None:
    story = _story(engine, clock.now())
    later = story.starts_at + timedelta(days=2)
    with transaction(engine) as session:
        activity = session.get(Activity, story.activity_id)
        assert activity is not None
        activity.starts_at, activity.ends_at = later, later + timedelta(hours=2)
        session.add(activity)
        move_reminders(session, activity_id=story.activity_id, now=clock.now())
    chats = Chats()
    dispatcher = _dispatcher(database, chats, clock)
    clock.set(story.starts_at - timedelta(hours=24))
    await dispatcher.drain()
    assert chats.to(EWA) == []
    clock.set(later - timedelta(hours=24))
    await dispatcher.drain()
    assert len(chats.to(EWA)) == 1
    states = sorted(s.state for s in sends(engine, SendKind.CALL_LIST))
    assert states == [SendState.DROPPED.value, SendState.SENT.value]


async def test_quiet_hours_hold_the_call_list_until_morning(
    engine: Engine, database: Database, clock: FrozenClock
) -> None:
    start = datetime(2026, 11, 27, 22, 30, tzinfo=WARSAW)
    story = _story(engine, clock.now(), starts_at=start)
    chats = Chats()
    night = (datetime(2026, 1, 1, 21, 0).time(), datetime(2026, 1, 1, 8, 0).time())
    dispatcher = Dispatcher(
        db=database,
        sender=chats,
        clock=clock,
        worker="test:1:1",
        settings=DispatchSettings(quiet_hours=night),
    )
    clock.set(story.starts_at - timedelta(hours=24))  # 22:30 the evening before
    await dispatcher.drain()
    assert chats.sent == []
    [held] = sends(engine, SendKind.CALL_LIST, SendState.PENDING)
    assert held.due_at == datetime(2026, 11, 27, 8, 0, tzinfo=WARSAW)
    clock.set(held.due_at)
    await dispatcher.drain()
    assert len(chats.to(EWA)) == 1


def test_staff_set_change_and_remove_a_phone_number(engine: Engine, clock: FrozenClock) -> None:
    story = _story(engine, clock.now())
    with transaction(engine) as session:
        person = set_proxy_phone(
            session, actor=story.ewa, person_id=story.henryka, raw="  +48 512   345 678 "
        )
    assert person.phone == "+48 512 345 678"
    for bad in ("12345", "600-abc-123", "9" * 25, "☎️ 600 100 200", "x" * 10_000):
        with transaction(engine) as session, pytest.raises(InvalidPhone):
            set_proxy_phone(session, actor=story.ewa, person_id=story.henryka, raw=bad)
    with transaction(engine) as session, pytest.raises(ProxyNotFound):
        set_proxy_phone(session, actor=story.adam, person_id=story.henryka, raw="600 100 200")
    with transaction(engine) as session, pytest.raises(ProxyNotFound):
        # Jan has Telegram: nobody records a number for him here.
        jan = session.exec(select(Person).where(Person.telegram_id == JAN)).one()
        set_proxy_phone(session, actor=story.ewa, person_id=int(jan.id or 0), raw="600 100 200")
    with transaction(engine) as session:
        set_proxy_phone(session, actor=story.ewa, person_id=story.henryka, raw=None)
    with Session(engine) as session:
        henryka = session.get(Person, story.henryka)
        assert henryka is not None and henryka.phone is None
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == PHONE_CHANGED)).all()
    assert [a.details for a in audit] == [{"has_phone": True}, {"has_phone": False}]
    assert all(a.actor_id == story.ewa.person_id for a in audit)


def test_the_phone_is_in_the_persons_data_and_erased_with_them(
    engine: Engine, clock: FrozenClock
) -> None:
    story = _story(engine, clock.now())
    now = clock.now()
    with Session(engine) as session:
        assert person_data(session, person_id=story.zofia, now=now).phone == "600 100 200"
    with transaction(engine) as session:
        erase_proxy_participant(
            session,
            person_id=story.zofia,
            animator_id=story.ewa.person_id,
            programme_ids={story.programme_id},
            now=now,
        )
    with Session(engine) as session:
        zofia = session.get(Person, story.zofia)
        assert zofia is not None and (zofia.display_name, zofia.phone) == (None, None)
        found = call_list(session, activity_id=story.activity_id, actor=story.ewa)
    assert "600 100 200" not in str(found)
    assert [e.display_name for e in found.entries] == ["Pan Marek", "Pani Henryka"]


def test_the_call_list_is_due_with_the_programmes_first_reminder(
    engine: Engine, clock: FrozenClock
) -> None:
    with transaction(engine) as session:
        programme = make_programme(session)
        programme.reminder_offsets = "48h,3h"
        ewa = make_person(session, telegram_id=EWA, programme=programme)
        grant(session, role=Role.ANIMATOR, telegram_id=EWA, programme_id=programme.id)
        start = clock.now() + timedelta(days=5)
        activity = make_activity(session, programme=programme, starts_at=start)
        assert programme.id and ewa.id and activity.id
        paper = create_proxy_participant(
            session, display_name="Pani Zofia", created_by_id=ewa.id, programme_id=programme.id
        )
        assert paper.id
        sign_up(
            session,
            person_id=paper.id,
            activity_id=activity.id,
            now=clock.now(),
            proxy_by_id=ewa.id,
        )
    [send] = sends(engine, SendKind.CALL_LIST)
    assert send.due_at == start - timedelta(hours=48)
    assert send.due_at.tzinfo is not None and send.due_at.astimezone(UTC) == send.due_at


async def test_a_place_from_the_reserve_list_late_is_phoned_at_once(
    engine: Engine, database: Database, clock: FrozenClock
) -> None:
    # Ten hours before the start the 24-hour call list has gone; Jan and Zofia hold the
    # two places, Henryka and Marek wait.
    story = _story(engine, clock.now(), starts_at=clock.now() + timedelta(hours=10), places=2)
    assert sends(engine, SendKind.CALL_LIST) == []
    with transaction(engine) as session:
        jan = session.exec(select(Person).where(Person.telegram_id == JAN)).one()
        cancel(session, person_id=int(jan.id or 0), activity_id=story.activity_id, now=clock.now())
    [send] = sends(engine, SendKind.CALL_LIST)
    assert send.due_at == clock.now() and send.person_id == story.ewa.person_id
    chats = Chats()
    await _dispatcher(database, chats, clock).drain()
    [text] = chats.to(EWA)
    assert text.startswith(
        "📞 Zwolniło się miejsce i dostaje je Pani Henryka – ta osoba nie "
        "ma Telegramu. Zadzwoń do niej: brak numeru telefonu"
    )
    assert "📌 Warsztaty ceramiki" in text and "Zofia" not in text


async def test_a_late_promotion_given_up_again_before_sending_is_not_sent(
    engine: Engine, database: Database, clock: FrozenClock
) -> None:
    story = _story(engine, clock.now(), starts_at=clock.now() + timedelta(hours=10), places=2)
    with transaction(engine) as session:
        proxy_cancel(
            session,
            actor=story.ewa,
            person_id=story.zofia,
            activity_id=story.activity_id,
            now=clock.now(),
        )
    with transaction(engine) as session:
        # Henryka got Zofia's place; Ewa gives it back for her at once (she said no).
        proxy_cancel(
            session,
            actor=story.ewa,
            person_id=story.henryka,
            activity_id=story.activity_id,
            now=clock.now(),
        )
    chats = Chats()
    await _dispatcher(database, chats, clock).drain()
    # Marek got the place last: only his call goes out.
    [text] = chats.to(EWA)
    assert "Pan Marek" in text and "+48 601 000 111" in text
    assert {s.last_error for s in sends(engine, SendKind.CALL_LIST, SendState.DROPPED)} == {
        "no longer relevant"
    }
