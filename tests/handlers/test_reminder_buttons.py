"""Reminders arrive through the real dispatcher and bot; their two buttons work."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session
from telegram import Update

from bot.context import PalApplication, Services
from bot.dispatch import dispatcher_of
from schedules.clock import FrozenClock
from schedules.dispatcher import Dispatcher
from storage.models import Person, RegistrationStatus, SendKind, SendState
from tests.support.chat import ChatUser
from tests.support.recording import RecordingRequest
from tests.support.reminders import first_reminder_due, make_scene, registration, sends


def _dispatcher(app: PalApplication) -> Dispatcher:
    services: Services = app.bot_data["services"]
    return dispatcher_of(services)


async def test_a_reminder_names_what_when_where_and_who(
    app: PalApplication, engine: Engine, clock: FrozenClock, chat_user: Callable[..., ChatUser]
) -> None:
    scene = make_scene(
        engine,
        starts_at=clock.now() + timedelta(days=2),
        places=5,
        people=[("Olena", 701, "uk"), ("Jan", 702, "pl")],
        now=clock.now(),
        contact="Pani Ewa, tel. 500 100 200",
    )
    olena, jan = chat_user(701, "uk"), chat_user(702, "pl")
    clock.set(first_reminder_due(scene))
    assert await _dispatcher(app).drain() == 2
    assert jan.last.text == (
        "🔔 Przypomnienie: Warsztaty rękodzieła\n"
        "📅 Kiedy: środa, 25 listopada, godz. 10:00\n"
        "📍 Gdzie: Klub Sąsiedzki, ul. Słoneczna 5\n"
        "☎️ Kontakt: Pani Ewa, tel. 500 100 200\n\n"
        "Czy przyjdziesz? Daj znać przyciskiem poniżej."
    )
    assert [b[0] for b in jan.last.buttons()] == ["✅ Będę", "❌ Nie dam rady przyjść"]
    assert olena.last.text.startswith(
        "🔔 Нагадування: Warsztaty rękodzieła\n📅 Коли: середа, 25 листопада, о 10:00"
    )
    assert [b[0] for b in olena.last.buttons()] == ["✅ Прийду", "❌ Не зможу прийти"]
    sent = sends(engine, SendKind.REMINDER, SendState.SENT)
    assert len(sent) == 2 and all(s.telegram_message_id for s in sent)
    # Drained again at the same moment, nothing goes out twice.
    assert await _dispatcher(app).drain() == 0


async def test_im_coming_is_recorded_and_thanked(
    app: PalApplication, engine: Engine, clock: FrozenClock, chat_user: Callable[..., ChatUser]
) -> None:
    scene = make_scene(
        engine,
        starts_at=clock.now() + timedelta(days=2),
        places=5,
        people=[("Jan", 702, "pl")],
        now=clock.now(),
    )
    jan = chat_user(702, "pl")
    clock.set(first_reminder_due(scene))
    await _dispatcher(app).drain()
    reminder = jan.last
    await jan.press("Będę")
    assert jan.alerts()[-1] == "Dziękujemy! Do zobaczenia."
    assert reminder.text.endswith("\n\n✅ Potwierdzone: będziesz. Do zobaczenia!")
    assert reminder.buttons() == []
    assert registration(engine, scene.people["Jan"].registration_id).confirmed_coming_at == (
        clock.now()
    )
    # A second tap on an old copy of the button thanks again and changes nothing.
    clock.advance(timedelta(minutes=5))
    await jan.press_data(f"rem:y:{scene.people['Jan'].registration_id}")
    assert registration(engine, scene.people["Jan"].registration_id).confirmed_coming_at == (
        clock.now() - timedelta(minutes=5)
    )


async def test_i_cant_come_frees_the_place_for_the_reserve_list(
    app: PalApplication, engine: Engine, clock: FrozenClock, chat_user: Callable[..., ChatUser]
) -> None:
    scene = make_scene(
        engine,
        starts_at=clock.now() + timedelta(days=2),
        places=1,
        people=[("Jan", 702, "pl"), ("Krystyna", 703, "pl")],
        now=clock.now(),
    )
    jan, krystyna = chat_user(702, "pl"), chat_user(703, "pl")
    clock.set(first_reminder_due(scene))
    await _dispatcher(app).drain()
    assert krystyna.messages == []  # on the reserve list: no reminder
    reminder = jan.last
    await jan.press("Nie dam rady")
    assert reminder.text.endswith(
        "\n\n🙏 Dziękujemy, że dajesz znać. Twoje miejsce dostaje pierwsza osoba z listy "
        "rezerwowej."
    )
    assert registration(engine, scene.people["Jan"].registration_id).status == (
        RegistrationStatus.CANCELLED
    )
    assert registration(engine, scene.people["Krystyna"].registration_id).status == (
        RegistrationStatus.RESERVE
    )
    # Jan's last reminder is withdrawn; Krystyna is offered the place now and takes it.
    jans = [
        s.state
        for s in sends(engine, SendKind.REMINDER)
        if s.person_id == scene.people["Jan"].person_id
    ]
    assert jans == [SendState.SENT, SendState.CANCELLED]
    await _dispatcher(app).drain()
    assert "Warsztaty rękodzieła" in krystyna.last.text
    await krystyna.press("Biorę to miejsce")
    assert registration(engine, scene.people["Krystyna"].registration_id).status == (
        RegistrationStatus.CONFIRMED
    )
    # Pressing again: the place is gone, so it is refused kindly.
    await jan.press_data(f"rem:n:{scene.people['Jan'].registration_id}")
    assert jan.alerts()[-1] == "Nie masz zapisu na to wydarzenie."


async def test_someone_elses_or_forged_buttons_change_nothing(
    app: PalApplication, engine: Engine, clock: FrozenClock, chat_user: Callable[..., ChatUser]
) -> None:
    scene = make_scene(
        engine,
        starts_at=clock.now() + timedelta(days=2),
        places=5,
        people=[("Jan", 702, "pl"), ("Olena", 701, "uk")],
        now=clock.now(),
    )
    jan = chat_user(702, "pl")
    await jan.press_data(f"rem:n:{scene.people['Olena'].registration_id}")
    await jan.press_data("rem:n:99999999")
    assert jan.alerts() == ["Ten przycisk jest już nieaktywny. Otwórz menu ponownie."] * 2
    assert registration(engine, scene.people["Olena"].registration_id).status == (
        RegistrationStatus.CONFIRMED
    )
    stranger = chat_user(799, "en")  # never onboarded
    await stranger.press_data(f"rem:y:{scene.people['Jan'].registration_id}")
    assert registration(engine, scene.people["Jan"].registration_id).confirmed_coming_at is None


async def test_answers_after_the_start_are_refused(
    app: PalApplication, engine: Engine, clock: FrozenClock, chat_user: Callable[..., ChatUser]
) -> None:
    scene = make_scene(
        engine,
        starts_at=clock.now() + timedelta(days=2),
        places=5,
        people=[("Jan", 702, "pl")],
        now=clock.now(),
    )
    jan = chat_user(702, "pl")
    clock.set(scene.starts_at + timedelta(minutes=10))
    await jan.press_data(f"rem:n:{scene.people['Jan'].registration_id}")
    assert jan.alerts() == ["To wydarzenie już się zaczęło."]
    assert registration(engine, scene.people["Jan"].registration_id).status == (
        RegistrationStatus.CONFIRMED
    )


async def test_a_person_who_blocked_the_bot_is_marked_and_their_sends_withdrawn(
    app: PalApplication,
    engine: Engine,
    clock: FrozenClock,
    rec: RecordingRequest,
) -> None:
    scene = make_scene(
        engine,
        starts_at=clock.now() + timedelta(days=2),
        places=5,
        people=[("Jan", 702, "pl")],
        now=clock.now(),
    )
    rec.fail_with["sendMessage"] = (
        403,
        {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
    )
    clock.set(first_reminder_due(scene))
    await _dispatcher(app).drain()
    first, second = sends(engine, SendKind.REMINDER)
    assert (first.state, first.last_error) == (SendState.FAILED, "unreachable")
    assert (second.state, second.last_error) == (SendState.CANCELLED, "unreachable")
    with Session(engine) as session:
        person = session.get(Person, scene.people["Jan"].person_id)
        assert person is not None and person.unreachable_at == clock.now()


async def test_writing_again_after_blocking_makes_the_person_reachable(
    app: PalApplication, engine: Engine, clock: FrozenClock, chat_user: Callable[..., ChatUser]
) -> None:
    scene = make_scene(
        engine,
        starts_at=clock.now() + timedelta(days=2),
        places=5,
        people=[("Jan", 702, "pl")],
        now=clock.now(),
    )
    jan = chat_user(702, "pl")
    with Session(engine) as session:
        person = session.get(Person, scene.people["Jan"].person_id)
        assert person is not None
        person.unreachable_at = clock.now()
        session.add(person)
        session.commit()
    await jan.send("/help")
    with Session(engine) as session:
        person = session.get(Person, scene.people["Jan"].person_id)
        assert person is not None and person.unreachable_at is None


async def test_blocking_and_unblocking_the_bot_is_noticed(
    app: PalApplication, engine: Engine, clock: FrozenClock
) -> None:
    scene = make_scene(
        engine,
        starts_at=clock.now() + timedelta(days=2),
        places=5,
        people=[("Jan", 702, "pl")],
        now=clock.now(),
    )

    async def member_update(old: str, new: str) -> None:
        user = {"id": 702, "is_bot": False, "first_name": "Jan", "language_code": "pl"}
        bot = {"id": 123456, "is_bot": True, "first_name": "PAL Bot"}
        payload = {
            "update_id": 9_000_000 + len(old + new),
            "my_chat_member": {
                "chat": {"id": 702, "type": "private", "first_name": "Jan"},
                "from": user,
                "date": 1_780_000_000,
                "old_chat_member": {"status": old, "user": bot, "until_date": 0},
                "new_chat_member": {"status": new, "user": bot, "until_date": 0},
            },
        }
        await app.process_update(Update.de_json(payload, app.bot))

    await member_update("member", "kicked")
    assert {s.state for s in sends(engine, SendKind.REMINDER)} == {SendState.CANCELLED}
    with Session(engine) as session:
        person = session.get(Person, scene.people["Jan"].person_id)
        assert person is not None and person.unreachable_at == clock.now()
    await member_update("kicked", "member")
    with Session(engine) as session:
        person = session.get(Person, scene.people["Jan"].person_id)
        assert person is not None and person.unreachable_at is None
