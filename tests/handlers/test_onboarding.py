"""Onboarding on /start: language, notice, display name, programme, deep links."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from schedules.clock import FrozenClock
from storage.db import transaction
from storage.models import Person, Programme
from tests.support.chat import ChatUser
from tests.support.signup import onboard, seed_programme


def _person(engine: Engine, telegram_id: int) -> Person | None:
    with Session(engine) as session:
        return session.exec(select(Person).where(Person.telegram_id == telegram_id)).first()


async def test_olena_onboards_in_ukrainian(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    seed_programme(engine, clock.now())
    olena = chat_user(601, language_code="uk")
    await olena.send("/start")
    assert "Оберіть мову" in olena.last.text
    assert [b[0] for b in olena.last.buttons()] == ["Polski", "Українська", "English"]
    await olena.press("Українська")
    notice = olena.last.text
    assert "Інформація про персональні дані" in notice
    assert "Участь і анкети добровільні й не впливають на соціальні виплати." in notice
    assert "/mydata" in notice and "/forgetme" in notice
    await olena.press("Далі")
    assert olena.messages[-2].buttons() == []  # the notice stays, without its button
    assert "Яке ім’я бачитимуть аніматори" in olena.last.text
    await olena.send("  Олена  ")
    welcome = olena.messages[-2]
    assert "Дякуємо, Олена!" in welcome.text
    assert "📅 Заняття та зустрічі" in welcome.keyboard()
    # The programme's activities follow at once: the next tap can be a sign-up.
    assert "Заняття та зустрічі: PAL" in olena.last.text
    assert any("Warsztaty rękodzieła" in b[0] for b in olena.last.buttons())
    person = _person(engine, 601)
    assert person is not None and person.is_onboarded
    assert (person.display_name, person.language) == ("Олена", "uk")
    assert person.programme_id is not None


async def test_only_id_and_language_are_kept_from_telegram(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    seed_programme(engine, clock.now())
    jan = chat_user(602)
    jan.first_name = "Jan Kowalski-Prawdziwy"
    await jan.send("/start")
    person = _person(engine, 602)
    assert person is not None
    assert person.display_name is None and person.phone is None
    assert "Kowalski" not in repr(person.model_dump())


async def test_start_again_shows_main_menu_not_onboarding(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    seed_programme(engine, clock.now())
    jan = chat_user(603)
    await onboard(jan, "Jan")
    await jan.send("/start")
    assert jan.last.text == "Co chcesz zrobić? Wybierz poniżej."
    assert "🎟 Moje zapisy" in jan.last.keyboard()


async def test_start_midway_resumes_the_same_step(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    seed_programme(engine, clock.now())
    jan = chat_user(604)
    await jan.send("/start")
    await jan.press("Polski")
    await jan.send("/start")
    assert "Informacja o danych osobowych" in jan.last.text
    await jan.press("Dalej")
    await jan.send("/start")
    assert "Jak mają Cię widzieć animatorzy" in jan.last.text


async def test_choosing_a_programme_when_several_are_open(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    seed_programme(engine, clock.now(), name="PAL Barwinek")
    second, _ = seed_programme(engine, clock.now(), name="PAL Zagórska")
    krystyna = chat_user(605)
    await onboard(krystyna)
    assert "W którym programie bierzesz udział" in krystyna.last.text
    assert [b[0] for b in krystyna.last.buttons()] == ["PAL Barwinek", "PAL Zagórska"]
    await krystyna.press("PAL Zagórska")
    assert "Dziękujemy, Krystyna!" in krystyna.messages[-2].text
    assert "Zajęcia i spotkania: PAL Zagórska" in krystyna.last.text
    person = _person(engine, 605)
    assert person is not None and person.programme_id == second and person.is_onboarded


async def test_deep_link_opens_the_activity_after_onboarding(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    _, (activity,) = seed_programme(engine, clock.now())
    marek = chat_user(606)
    await marek.send(f"/start act_{activity}")
    await marek.press("Polski")
    await marek.press("Dalej")
    await marek.send("Marek")
    assert "Dziękujemy, Marek!" in marek.messages[-2].text
    assert "Warsztaty rękodzieła" in marek.last.text
    assert any("Zapisz się" in b[0] for b in marek.last.buttons())
    # The link opens once; a later /start is just the menu.
    await marek.send("/start")
    assert "Warsztaty" not in marek.last.text


async def test_deep_link_when_already_onboarded(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    _, (activity,) = seed_programme(engine, clock.now())
    jan = chat_user(607)
    await onboard(jan, "Jan")
    await jan.send(f"/start act_{activity}")
    assert "Warsztaty rękodzieła" in jan.last.text


async def test_bad_names_are_explained_and_nothing_is_stored(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    seed_programme(engine, clock.now())
    jan = chat_user(608)
    await jan.send("/start")
    await jan.press("Polski")
    await jan.press("Dalej")
    cases = {
        "x" * 10_000: "To za długie",
        "https://spam.example.com": "bez linków",
        "@jan": "bez oznaczeń @",
        "🌻🌻": "co najmniej jedną literę",
        "ab\u202ecd": "Wpisz je zwykłymi literami",
    }
    for text, expected in cases.items():
        await jan.send(text)
        assert expected in jan.last.text
        assert "Jak mają Cię widzieć animatorzy" in jan.last.text
        person = _person(engine, 608)
        assert person is not None and person.display_name is None
        assert person.onboarding_step == "name"
    await jan.send("مريم")
    person = _person(engine, 608)
    assert person is not None and person.display_name == "مريم" and person.is_onboarded


async def test_text_where_a_button_is_due_repeats_the_step(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    seed_programme(engine, clock.now())
    jan = chat_user(609, language_code="en")
    await jan.send("/start")
    await jan.send("hello?")
    assert jan.last.text.startswith("Please use the buttons under the message.")
    assert [b[0] for b in jan.last.buttons()] == ["Polski", "Українська", "English"]
    await jan.press("English")
    await jan.send("🙂 ‏שלום")
    assert "Please use the buttons" in jan.last.text and "About your personal data" in jan.last.text
    person = _person(engine, 609)
    assert person is not None and person.onboarding_step == "notice"


async def test_commands_before_onboarding_point_to_start(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    seed_programme(engine, clock.now())
    jan = chat_user(610)
    for command in ("/activities", "/my", "/help"):
        await jan.send(command)
        assert jan.last_answer() == "Najpierw kilka kroków na start: wyślij /start."
    await jan.press_data("su:1")
    assert jan.alerts()[-1] == "Najpierw kilka kroków na start: wyślij /start."
    assert _person(engine, 610) is None


async def test_stale_onboarding_buttons(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    seed_programme(engine, clock.now())
    jan = chat_user(611)
    await onboard(jan, "Jan")
    await jan.press_data("ob:ok")
    assert jan.alerts()[-1] == "Ten krok masz już za sobą."
    person = _person(engine, 611)
    assert person is not None and person.display_name == "Jan" and person.is_onboarded


async def test_programmes_closing_during_onboarding_do_not_trap_anyone(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    seed_programme(engine, clock.now(), name="PAL Barwinek")
    seed_programme(engine, clock.now(), name="PAL Zagórska")
    ewa = chat_user(612)
    await onboard(ewa, "Ewa")
    assert "W którym programie" in ewa.last.text
    with transaction(engine) as session:
        for programme in session.exec(select(Programme)):
            programme.signup_open_until = clock.now() + timedelta(hours=1)
            session.add(programme)
    clock.advance(timedelta(days=1))  # both programmes stop taking sign-ups
    await ewa.send("/start")
    assert "Dziękujemy, Ewa!" in ewa.last.text
    person = _person(engine, 612)
    assert person is not None and person.is_onboarded and person.programme_id is None
