"""Residents sign up through `palbot run` talking real HTTP to the local Bot API server."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage.db import transaction
from storage.models import Person, Programme, Registration, RegistrationStatus
from tests.e2e.botapi import BotProcess, FakeBotApi, TgUser, bot_env
from tests.support.signup import make_people, seed_programme

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio]


@pytest.fixture
async def bot(
    api: FakeBotApi, db_file: str, store: Engine, tmp_path: Path
) -> AsyncIterator[BotProcess]:
    env = bot_env(api, PALBOT_DATABASE_URL=db_file, PALBOT_LOG_LEVEL="WARNING")
    async with BotProcess(env, tmp_path, ["run"], log_path=tmp_path / "bot.log") as proc:
        await proc.wait_ready(api, timeout=30)
        yield proc
        assert await proc.terminate() == 0, proc.log_tail()
    assert "Traceback" not in proc.log_text(), proc.log_tail()


async def _onboard(user: TgUser, name: str) -> None:
    await user.ask("/start", "Wybierz język")
    await user.tap("Polski", "Informacja o danych osobowych")
    await user.tap("Dalej", "Jak mają Cię widzieć animatorzy")
    await user.ask(name, f"Dziękujemy, {name}!")


async def test_onboarding_browse_and_sign_up(
    api: FakeBotApi, bot: BotProcess, store: Engine
) -> None:
    seed_programme(store, datetime.now(UTC), activities=3, places=2)
    olena = api.user(1001, language_code="pl")
    await _onboard(olena, "Olena")
    assert "📅 Zajęcia i spotkania" in str(olena.reply_keyboard)
    listing = await olena.ask("📅 Zajęcia i spotkania", "Zajęcia i spotkania: PAL")
    assert next(b for b in listing.button_texts if b.startswith("Warsztaty")).endswith(
        "2 wolne miejsca"
    )
    details = await olena.tap("Warsztaty 1", "Rodzaj: warsztaty")
    assert "Kiedy:" in details.body and "Gdzie: Klub Sąsiedzki" in details.body
    signed = await olena.tap("Zapisz się", "Masz miejsce na: Warsztaty 1")
    assert "📅 Dodaj do kalendarza" in signed.button_texts
    answer = await olena.expect_answer()
    assert answer.text == "✅ Masz miejsce na: Warsztaty 1"
    olena.press("Dodaj do kalendarza")
    ics = await olena.expect_document(".ics")
    assert b"SUMMARY:Warsztaty 1" in olena.file_bytes(ics)
    with Session(store) as session:
        person = session.exec(select(Person).where(Person.telegram_id == 1001)).one()
        assert person.display_name == "Olena" and person.language == "pl"
    commands = api.commands()
    assert {c.language_code for c in commands} >= {"pl", "uk", "en"}


async def test_a_new_resident_has_a_place_in_seven_actions_with_one_typed_answer(
    api: FakeBotApi, bot: BotProcess, store: Engine
) -> None:
    """/start, language, the notice, the name, the programme, the activity, "Zapisz się".

    Two programmes are open, so the choice of one is a step (with one it is skipped).
    Counted at the server: the messages the person sent and the buttons they pressed.
    """
    now = datetime.now(UTC)
    seed_programme(store, now, name="PAL Barwinek", activities=2)
    seed_programme(store, now, name="PAL Zagórska", activities=2)
    krystyna = api.user(1003, language_code="pl")
    await krystyna.ask("/start", "Wybierz język")
    await krystyna.tap("Polski", "Informacja o danych osobowych")
    await krystyna.tap("Dalej", "Jak mają Cię widzieć animatorzy")
    await krystyna.ask("Krystyna", "W którym programie bierzesz udział")
    await krystyna.tap("PAL Zagórska", "Zajęcia i spotkania: PAL Zagórska")
    await krystyna.tap("Warsztaty 1", "Rodzaj: warsztaty")
    await krystyna.tap("Zapisz się", "Masz miejsce na: Warsztaty 1")
    typed = [m.get("text") for m in api.user_messages(1003)]
    pressed = api.callback_presses(1003)
    assert len(typed) + len(pressed) == 7, (typed, [p.data for p in pressed])
    assert [t for t in typed if t and not t.startswith("/")] == ["Krystyna"]
    with Session(store) as session:
        person = session.exec(select(Person).where(Person.telegram_id == 1003)).one()
        places = session.exec(
            select(Registration).where(
                Registration.person_id == person.id,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
        ).all()
    assert len(places) == 1


async def test_reserve_list_and_cancel_frees_the_place(
    api: FakeBotApi, bot: BotProcess, store: Engine
) -> None:
    _, (activity,) = seed_programme(store, datetime.now(UTC), places=1)
    olena, jan = api.user(1101), api.user(1102, language_code="uk")
    await _onboard(olena, "Olena")
    await olena.ask(f"/start act_{activity}", "Warsztaty rękodzieła")
    await olena.tap("Zapisz się", "Masz miejsce na")
    await jan.ask("/start", "Оберіть мову")
    await jan.tap("Українська", "Інформація про персональні дані")
    await jan.tap("Далі", "Яке ім’я")
    await jan.ask("Ян", "Дякуємо, Ян!")
    await jan.ask(f"/start act_{activity}", "Вільних місць немає.")
    await jan.tap("Додати мене до резервного списку", "Ви в резервному списку (місце 1).")
    await olena.ask("/my", "Twoje zapisy")
    await olena.tap("Rezygnuję z miejsca", "Czy na pewno rezygnujesz")
    await olena.tap("Tak, rezygnuję", "Gotowe. Nie masz już miejsca na: Warsztaty rękodzieła")
    # The freed place is offered to Jan, first on the reserve list, in his language.
    offer = await jan.expect_new("Місце чекає на вас до:", timeout=10)
    jan.press("✅ Беру це місце", message=offer)
    await jan.expect_edit("Місце ваше", message=offer)
    mine = await jan.ask("/my", "Ваші записи")
    assert "✅ Вас записано" in mine.body


async def test_person_who_takes_an_offered_place_gets_a_cancel_button(
    api: FakeBotApi, bot: BotProcess, store: Engine
) -> None:
    _, (activity,) = seed_programme(store, datetime.now(UTC), places=1)
    olena, jan = api.user(1201), api.user(1202)
    await _onboard(olena, "Olena")
    await _onboard(jan, "Jan")
    await olena.ask(f"/start act_{activity}", "Warsztaty")
    await olena.tap("Zapisz się", "Masz miejsce na")
    await jan.ask(f"/start act_{activity}", "Warsztaty")
    await jan.tap("Dopisz mnie do listy rezerwowej", "(miejsce 1)")
    jan.skip()
    await olena.ask("/my", "Twoje zapisy")
    await olena.tap("Rezygnuję z miejsca", "Czy na pewno")
    await olena.tap("Tak, rezygnuję", "Gotowe.")
    offer = await jan.expect_new("Miejsce czeka na Ciebie do:", timeout=10)
    assert "Warsztaty rękodzieła" in offer.body
    jan.press("✅ Biorę to miejsce", message=offer)
    told = await jan.expect_edit("Miejsce jest Twoje", message=offer)
    assert "Rezygnuję z miejsca" in told.button_texts


async def test_where_places_are_given_at_once_the_promoted_person_is_told(
    api: FakeBotApi, bot: BotProcess, store: Engine
) -> None:
    programme, (activity,) = seed_programme(store, datetime.now(UTC), places=1)
    with transaction(store) as session:
        # A programme that gives freed places at once instead of offering them.
        row = session.get(Programme, programme)
        assert row is not None
        row.offer_time = "0s"
    olena, jan = api.user(1301), api.user(1302)
    await _onboard(olena, "Olena")
    await _onboard(jan, "Jan")
    await olena.ask(f"/start act_{activity}", "Warsztaty")
    await olena.tap("Zapisz się", "Masz miejsce na")
    await jan.ask(f"/start act_{activity}", "Warsztaty")
    await jan.tap("Dopisz mnie do listy rezerwowej", "(miejsce 1)")
    jan.skip()
    await olena.ask("/my", "Twoje zapisy")
    await olena.tap("Rezygnuję z miejsca", "Czy na pewno")
    await olena.tap("Tak, rezygnuję", "Gotowe.")
    told = await jan.expect_new("zwolniło się miejsce i jest Twoje", timeout=10)
    assert "Warsztaty rękodzieła" in told.body
    assert "Rezygnuję z miejsca" in told.button_texts


async def test_forty_residents_at_once_for_ten_places(
    api: FakeBotApi, bot: BotProcess, store: Engine
) -> None:
    programme, (activity,) = seed_programme(store, datetime.now(UTC), places=10)
    make_people(store, 40, programme_id=programme, first_telegram_id=50_000)
    residents = [api.user(50_000 + i) for i in range(40)]
    for resident in residents:
        resident.send(f"/start act_{activity}")
    await asyncio.gather(*(r.expect("Warsztaty rękodzieła") for r in residents))
    # Everyone presses at (nearly) the same moment, in an order nobody planned.
    order = residents[:]
    random.Random(40).shuffle(order)
    for resident in order:
        resident.press("Zapisz się")
    answers = await asyncio.gather(*(r.expect_answer(timeout=15) for r in order))
    assert sum("Masz miejsce" in (a.text or "") for a in answers) == 10
    assert sum("liście rezerwowej" in (a.text or "") for a in answers) == 30
    with Session(store) as session:
        rows = session.exec(
            select(Registration, Person)
            .join(Person, col(Person.id) == col(Registration.person_id))
            .where(Registration.activity_id == activity)
            .order_by(col(Registration.id))
        ).all()
    arrival = [r.user_id for r in order]
    assert [p.telegram_id for _, p in rows] == arrival
    assert [r.status for r, _ in rows] == (
        [RegistrationStatus.CONFIRMED] * 10 + [RegistrationStatus.RESERVE] * 30
    )
    for position, resident in enumerate(order[10:], start=1):
        answer = next(a for r, a in zip(order, answers, strict=True) if r is resident)
        assert answer.text == f"⏳ Jesteś na liście rezerwowej (miejsce {position})."


async def test_a_resident_of_an_ended_edition_moves_to_the_new_one(
    api: FakeBotApi, bot: BotProcess, store: Engine
) -> None:
    """The old edition's list is empty; "Programy" offers the new one; her place in the
    old edition stays in its history; leaving the old one takes two taps."""
    now = datetime.now(UTC)
    old, (old_activity,) = seed_programme(store, now, name="PAL Lipowa 2026", activities=1)
    seed_programme(store, now, name="PAL Lipowa 2027", activities=2)
    [halina] = make_people(store, 1, programme_id=old, first_telegram_id=1301)
    halina_user = api.user(1301)
    await halina_user.ask(f"/start act_{old_activity}", "Warsztaty rękodzieła")
    await halina_user.tap("Zapisz się", "Masz miejsce na")
    # The edition ends: its last activity is over and it takes no more sign-ups.
    with transaction(store) as session:
        ended = session.exec(select(Programme).where(Programme.name == "PAL Lipowa 2026")).one()
        ended.signup_open_until = datetime.now(UTC)
        session.add(ended)
    await halina_user.ask("/programmes", "Twoje programy")
    await halina_user.tap("Dołącz: PAL Lipowa 2027", "Zajęcia i spotkania: PAL Lipowa 2027")
    await halina_user.tap("Warsztaty 1", "Rodzaj: warsztaty")
    await halina_user.tap("Zapisz się", "Masz miejsce na: Warsztaty 1")
    await halina_user.ask("/programmes", "PAL Lipowa 2027 — teraz widzisz")
    await halina_user.tap("Wypisz się: PAL Lipowa 2026", "Ogłoszenia z niego przestaną")
    await halina_user.tap("Tak, wypisz mnie", "Wypisano Cię z programu PAL Lipowa 2026")
    with Session(store) as session:
        person = session.exec(select(Person).where(Person.telegram_id == 1301)).one()
        places = session.exec(select(Registration).where(Registration.person_id == halina)).all()
    assert person.programme_id != old
    assert len(places) == 2 and all(p.status == RegistrationStatus.CONFIRMED for p in places)
