"""Ewa asks her programme's residents; Krystyna, Olena and John answer in their languages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.consultation_schedule import TICK_JOB, start_schedule
from bot.context import PalApplication, Services
from bot.dispatch import dispatcher_of
from schedules.clock import FrozenClock
from storage.consultations.running import create_consultation
from storage.db import read_only, transaction
from storage.models import Consultation, ConsultationResponse, Person, Role
from storage.people.roles import grant
from storage.people.without_telegram import create_proxy_participant
from tests.support.animator import Scene, make_scene
from tests.support.chat import ChatUser
from tests.support.recording import RecordingRequest
from tests.support.signup import make_person, make_programme

EWA = 900
KRYSTYNA, JAN, OLENA, ZOFIA, JOHN = 5000, 5001, 5002, 5003, 5004


@pytest.fixture
def scene(engine: Engine, clock: FrozenClock) -> Scene:
    """Ewa's programme with five residents; Olena reads Ukrainian, John English."""
    found = make_scene(engine, clock.now(), places=3, people=5)
    with transaction(engine) as session:
        for person_id, language in ((found.placed[2], "uk"), (found.reserve[1], "en")):
            person = session.get(Person, person_id)
            assert person is not None
            person.language = language
            session.add(person)
        grant(session, role=Role.ANIMATOR, telegram_id=EWA, programme_id=found.programme_id)
    return found


@pytest.fixture
async def ewa(chat_user: Callable[..., ChatUser], scene: Scene) -> ChatUser:
    user = chat_user(EWA)
    await user.send("/animator")
    return user


async def deliver(user: ChatUser) -> None:
    services: Services = user.app.bot_data["services"]
    await dispatcher_of(services).drain()


async def create_poll(ewa: ChatUser, *, results: str = "Tak, wyślij im wyniki") -> None:
    await ewa.press("Konsultacje")
    await ewa.press("Nowe konsultacje")
    await ewa.press("Jedno pytanie")
    await ewa.send("Kiedy mają być spotkania?")
    await ewa.press("Kilka odpowiedzi")
    await ewa.press("Wstecz")  # one answer, after all
    await ewa.press("Jedna odpowiedź")
    await ewa.send("Rano\nPo południu\nWieczorem")
    await ewa.press("Dziś")
    await ewa.press("Za 7 dni")
    await ewa.press("Wszyscy w programie")
    await ewa.press(results)


def _consultation(engine: Engine) -> Consultation:
    with read_only(engine) as session:
        return session.exec(select(Consultation)).one()


async def test_ewa_creates_a_poll_and_residents_answer_in_their_languages(
    ewa: ChatUser,
    chat_user: Callable[..., ChatUser],
    engine: Engine,
    rec: RecordingRequest,
    clock: FrozenClock,
) -> None:
    await create_poll(ewa)
    assert "Sprawdź konsultacje:" in ewa.last.text
    assert "Po starcie trafi do 5 osób w czacie." in ewa.last.text
    await ewa.press("Opublikuj")
    assert "Konsultacje są otwarte" in ewa.last.text
    await deliver(ewa)
    texts = {tid: rec.chats[tid][-1].text for tid in (KRYSTYNA, OLENA, JOHN)}
    assert "Zespół programu prosi o Twoją opinię" in texts[KRYSTYNA]
    assert "Команда програми просить вашої думки" in texts[OLENA]
    assert "The programme team asks for your opinion" in texts[JOHN]
    assert "Kiedy mają być spotkania?" in texts[OLENA]

    krystyna, olena, john = (chat_user(KRYSTYNA), chat_user(OLENA, "uk"), chat_user(JOHN, "en"))
    await krystyna.press("Rano")
    assert "Dziękujemy! Twoje odpowiedzi są zapisane." in krystyna.last.text
    await olena.press("Wieczorem")
    assert "Дякуємо! Ваші відповіді збережено." in olena.last.text
    await john.press("Wieczorem")
    assert "Thank you! Your answers are saved." in john.last.text
    # Krystyna changes her mind.
    await krystyna.press("Zmień moje odpowiedzi")
    assert "✅ Rano" in str(krystyna.last.buttons())
    await krystyna.press("Po południu")

    await ewa.press("Dotychczasowe odpowiedzi")
    card = ewa.last.text
    assert "Odpowiedziały 3 osoby." in card
    assert "• Rano: 0" in card and "• Po południu: 1" in card and "• Wieczorem: 2" in card

    # Closing sends the results to those who answered, small counts hidden.
    await ewa.press("Zakończ teraz")
    await ewa.press("Tak, zakończ")
    assert "Zakończono. Wyniki trafią do 3 osób." in ewa.alerts()
    await deliver(ewa)
    result = rec.chats[OLENA][-1].text
    assert "Результати консультації" in result and "• Вечором" not in result
    assert "• Wieczorem: <5" in result
    # A late tap on the old question shows that it is closed, with the results.
    await john.press_data(f"cr:{_consultation(engine).id}:0:0")
    assert "closed on" in john.last.text and "Wieczorem: <5" in john.last.text


async def test_a_needs_survey_with_multiple_choice_and_an_open_question(
    ewa: ChatUser,
    chat_user: Callable[..., ChatUser],
    engine: Engine,
    rec: RecordingRequest,
    clock: FrozenClock,
) -> None:
    await ewa.press("Konsultacje")
    await ewa.press("Nowe konsultacje")
    await ewa.press("Badanie potrzeb")
    await ewa.send("Potrzeby mieszkańców")
    await ewa.send("Co Cię interesuje?")
    await ewa.press("Kilka odpowiedzi")
    await ewa.send("Gimnastyka\nKomputer\nWycieczki")
    assert "Badanie ma 1 pytanie. Co dalej?" in ewa.last.text
    await ewa.press("Pytanie otwarte")
    await ewa.send("Czego brakuje na osiedlu?")
    await ewa.send("dziś")
    await ewa.press("Za 14 dni")
    await ewa.press("Osoby z miejscem na wydarzeniu")
    await ewa.press("Warsztaty")
    await ewa.press("Nie, wyniki widzi tylko zespół")
    assert "Po starcie trafi do 3 osób w czacie." in ewa.last.text
    await ewa.press("Opublikuj")
    await deliver(ewa)
    assert JOHN not in rec.chats  # on the reserve list, not asked

    olena = chat_user(OLENA, "uk")
    assert "Питання 1 з 2" in olena.last.text
    await olena.press("Gimnastyka")
    await olena.press("Wycieczki")
    assert "✅ Gimnastyka" in str(olena.last.buttons())
    await olena.press("Gimnastyka")  # untick
    await olena.press("Готово")
    assert "Czego brakuje na osiedlu?" in olena.last.text
    await olena.send("x" * 10_000)
    assert "2000" in olena.last_answer().replace("\u00a0", "").replace(" ", "")
    await olena.send("Лавок біля дому")
    assert "Дякуємо! Ваші відповіді збережено." in olena.last.text
    with read_only(engine) as session:
        row = session.exec(select(ConsultationResponse)).one()
    assert row.choices == {"0": [2]} and row.free_text == "Лавок біля дому"

    await ewa.press("Dotychczasowe odpowiedzi")
    await ewa.press("Odpowiedzi pisemne")
    assert "Лавок біля дому" in ewa.last.text

    # Olena goes back to the open question, and it closes while she thinks.
    await olena.press("Змінити мої відповіді")
    await olena.press("Готово")
    assert "Czego brakuje na osiedlu?" in olena.last.text
    clock.advance(timedelta(days=20))
    await olena.send("Ще й світла")
    assert "завершилася" in olena.last_answer()
    await olena.send("Привіт")  # her messages are no longer taken as an answer
    assert "завершилася" not in olena.last_answer()
    with read_only(engine) as session:
        row = session.exec(select(ConsultationResponse)).one()
    assert row.free_text == "Лавок біля дому"


async def test_bad_input_gets_short_polite_answers(
    ewa: ChatUser,
    chat_user: Callable[..., ChatUser],
    engine: Engine,
    rec: RecordingRequest,
    clock: FrozenClock,
) -> None:
    await ewa.press("Konsultacje")
    await ewa.press("Nowe konsultacje")
    await ewa.send("Jakieś pytanie")  # text where a button is due
    assert "Użyj przycisków poniżej." in ewa.last.text
    await ewa.press("Jedno pytanie")
    await ewa.send("x" * 10_000)
    assert "2000" in ewa.last_answer().replace("\u00a0", "").replace(" ", "")
    await ewa.send("Pytanie\u202e z odwróceniem")
    assert "niewidoczne znaki" in ewa.last.text
    await ewa.send("Dobre pytanie?")
    await ewa.press("Jedna odpowiedź")
    await ewa.send("Tylko jedna")
    assert "co najmniej 2 odpowiedzi" in ewa.last.text
    await ewa.send("Tak\nNie")
    await ewa.send("1.1.2020")
    assert "Ta data już minęła" in ewa.last.text
    await ewa.press("Dziś")
    await ewa.press("Za 3 dni")
    await ewa.press("Wszyscy w programie")
    await ewa.press("Nie, wyniki widzi tylko zespół")
    await ewa.press("Opublikuj")
    await deliver(ewa)
    cid = _consultation(engine).id

    krystyna = chat_user(KRYSTYNA)
    await krystyna.send("Tak")  # text where a button is due
    assert "Użyj przycisków poniżej" in krystyna.last.text or "przycisk" in (krystyna.last_answer())
    await krystyna.press_data(f"cr:{cid}:0:7")  # forged option
    assert "nieaktywny" in krystyna.last_answer()
    await krystyna.press_data("cr:999999:0:0")  # no such consultation
    assert "nieaktywny" in krystyna.last_answer()
    stranger = chat_user(7777)
    await stranger.press_data(f"cr:{cid}:0:0")
    assert "/start" in stranger.last_answer()
    # Residents cannot use the team's buttons.
    await krystyna.press_data(f"anc:c:{cid}")
    assert "tylko dla zespołu" in krystyna.last_answer()
    # After the closing date nothing changes any more.
    clock.advance(timedelta(days=5))
    await krystyna.press_data(f"cr:{cid}:0:0")
    assert "zakończyły się" in krystyna.last_answer()
    with read_only(engine) as session:
        assert session.exec(select(ConsultationResponse)).all() == []


async def test_paper_answers_are_entered_by_the_team(
    ewa: ChatUser,
    engine: Engine,
    scene: Scene,
) -> None:
    with transaction(engine) as session:
        create_proxy_participant(
            session,
            display_name="Pani Halina",
            created_by_id=scene.animator_id,
            programme_id=scene.programme_id,
        )
    await create_poll(ewa, results="Nie, wyniki widzi tylko zespół")
    await ewa.press("Opublikuj")
    await ewa.press("Dotychczasowe odpowiedzi")
    await ewa.press("Wpisz odpowiedź z papieru")
    await ewa.press("Pani Halina")
    assert "Odpowiedzi z papieru" in ewa.last.text
    await ewa.press("Wieczorem")
    assert "Dziękujemy!" in ewa.last.text
    await ewa.press("Wstecz")
    assert "W tym 1 na papierze." in ewa.last.text
    with read_only(engine) as session:
        row = session.exec(select(ConsultationResponse)).one()
    assert row.channel == "paper"


async def test_another_programmes_animator_sees_nothing(
    ewa: ChatUser,
    chat_user: Callable[..., ChatUser],
    engine: Engine,
) -> None:
    await create_poll(ewa)
    await ewa.press("Opublikuj")
    cid = _consultation(engine).id
    with transaction(engine) as session:
        elsewhere = make_programme(session)
        make_person(session, telegram_id=901, name="Adam", programme=elsewhere)
        grant(session, role=Role.ANIMATOR, telegram_id=901, programme_id=elsewhere.id)
    adam = chat_user(901)
    for data in (f"anc:c:{cid}", f"anc:ft:{cid}", f"anc:xy:{cid}", f"anc:pp:{cid}"):
        await adam.press_data(data)
        assert "nie są dla Ciebie dostępne" in adam.last_answer()
    assert _consultation(engine).state == "open"


async def test_residents_find_open_consultations_with_a_command(
    ewa: ChatUser,
    chat_user: Callable[..., ChatUser],
    rec: RecordingRequest,
) -> None:
    john = chat_user(JOHN, "en")
    await john.send("/consultations")
    assert john.last_answer() == "No consultation is open for you now."
    await create_poll(ewa)
    await ewa.press("Opublikuj")
    await john.send("/consultations")
    await john.press("Kiedy mają być spotkania?")
    assert "Choose one answer." in john.last.text
    await john.press("Rano")
    await john.send("/consultations")
    await john.press("Kiedy mają być spotkania?")
    assert "Thank you! Your answers are saved." in john.last.text


async def test_the_schedule_catches_up_on_start(
    app: PalApplication,
    engine: Engine,
    scene: Scene,
    clock: FrozenClock,
) -> None:
    draft = {
        "kind": "poll",
        "audience": "programme",
        "show_results": False,
        "opens": "2026-11-24",
        "closes": "2026-11-30",
        "questions": [{"text": "Kiedy?", "multiple": False, "options": ["Rano", "Wieczór"]}],
    }
    with transaction(engine) as session:
        create_consultation(
            session,
            draft=draft,
            programme_id=scene.programme_id,
            actor=scene.actor,
            now=clock.now(),
            zone=ZoneInfo("Europe/Warsaw"),
        )
    # The bot was down when it was due to open.
    clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    await start_schedule(app)
    assert _consultation(engine).state == "open"
    assert app.job_queue is not None and app.job_queue.get_jobs_by_name(TICK_JOB)


async def test_ewa_adds_the_texts_in_ukrainian(
    ewa: ChatUser,
    chat_user: Callable[..., ChatUser],
    engine: Engine,
    rec: RecordingRequest,
) -> None:
    await create_poll(ewa)
    await ewa.press("Dodaj tekst: Українська")
    assert "Kiedy mają być spotkania?\nRano\nPo południu\nWieczorem" in ewa.last.text
    await ewa.send("Коли проводити зустрічі?\nЗранку\nПісля обіду")  # one answer missing
    assert "Układ się nie zgadza" in ewa.last.text
    await ewa.send("Коли проводити зустрічі?\nЗранку\nПісля обіду\nУвечері")
    assert "Wersje w innych językach: Українська." in ewa.last.text
    await ewa.press("Opublikuj")
    await deliver(ewa)
    assert "Коли проводити зустрічі?" in rec.chats[OLENA][-1].text
    assert "Kiedy mają być spotkania?" in rec.chats[KRYSTYNA][-1].text
    olena = chat_user(OLENA, "uk")
    assert [text for text, _ in olena.last.buttons()] == ["Зранку", "Після обіду", "Увечері"]
    await olena.press("Увечері")
    with read_only(engine) as session:
        assert session.exec(select(ConsultationResponse)).one().choices == {"0": [2]}
    await ewa.press("Dotychczasowe odpowiedzi")
    assert "• Wieczorem: 1" in ewa.last.text  # the team reads the original
    await ewa.press("Zakończ teraz")
    await ewa.press("Tak, zakończ")
    await deliver(ewa)
    result = rec.chats[OLENA][-1].text
    assert "Результати консультації: Коли проводити зустрічі?" in result
    assert "• Увечері: <5" in result
