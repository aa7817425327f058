"""Promotion with a deadline through `palbot run` and the local Bot API server.

An offer of a freed place with a deadline of seconds; the bot is SIGKILLed between the
offer and its deadline, restarted after it, and the offer expires to the next person,
who takes the place with a tap.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage.activities.seats import cancel
from storage.db import transaction
from storage.models import (
    OfferState,
    Person,
    PlaceOffer,
    Programme,
    Registration,
    RegistrationStatus,
)
from tests.e2e.botapi import BotProcess, FakeBotApi, TgUser, bot_env
from tests.support.signup import make_people, seed_programme

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio]
OFFER_SECONDS = 20


def _env(api: FakeBotApi, database_url: str) -> dict[str, str]:
    return bot_env(
        api,
        PALBOT_DATABASE_URL=database_url,
        PALBOT_LOG_LEVEL="INFO",
        PALBOT_QUIET_HOURS="off",
        PALBOT_OFFER_TIME=f"{OFFER_SECONDS}s",
    )


async def _sign_up(user: TgUser, activity_id: int, button: str, expected: str) -> None:
    await user.ask(f"/start act_{activity_id}", "Warsztaty rękodzieła")
    await user.tap(button, expected)


def _statuses(store: Engine) -> dict[int | None, str]:
    with Session(store) as session:
        return {
            p.telegram_id: r.status
            for r, p in session.exec(
                select(Registration, Person).join(
                    Person, col(Person.id) == col(Registration.person_id)
                )
            )
        }


async def test_sigkill_between_offer_and_deadline_then_it_expires_to_the_next_person(
    api: FakeBotApi, db_file: str, store: Engine, tmp_path: Path
) -> None:
    env = _env(api, db_file)
    async with BotProcess(env, tmp_path, ["run"], log_path=tmp_path / "first.log") as bot:
        await bot.wait_ready(api, timeout=30)
        programme, (activity,) = seed_programme(store, datetime.now(UTC), places=1)
        people = make_people(store, 3, programme_id=programme, first_telegram_id=3600)
        with transaction(store) as session:
            # The programme's own window: it holds in every process that frees a place.
            settings_row = session.get(Programme, programme)
            assert settings_row is not None
            settings_row.offer_time = f"{OFFER_SECONDS}s"
        jan, krystyna, marek = api.user(3600), api.user(3601), api.user(3602)
        await _sign_up(jan, activity, "Zapisz się", "Masz miejsce na")
        await _sign_up(krystyna, activity, "Dopisz mnie do listy rezerwowej", "(miejsce 1)")
        await _sign_up(marek, activity, "Dopisz mnie do listy rezerwowej", "(miejsce 2)")
        # Jan gives his place back (from the command line's side of the database: the
        # bot learns of the offer from its outbox sweep, as from any other process).
        with transaction(store) as session:
            cancel(session, person_id=people[0], activity_id=activity, now=datetime.now(UTC))
        offer = await krystyna.expect_new("Miejsce czeka na Ciebie do:", timeout=10)
        assert [b.text for b in offer.buttons] == [
            "✅ Biorę to miejsce",
            "Rezygnuję – wypisz mnie z listy rezerwowej",
        ]
        bot.kill()  # SIGKILL between the offer and its deadline
    with Session(store) as session:
        [row] = session.exec(select(PlaceOffer)).all()
    assert row.state == OfferState.OFFERED
    wait = (row.deadline - datetime.now(UTC)).total_seconds() + 1.0
    assert 0 < wait <= OFFER_SECONDS + 1, "the offer expired before the bot was killed"
    await asyncio.sleep(wait)
    await marek.expect_nothing("Miejsce czeka", within=0.2)  # nobody runs while the bot is down
    async with BotProcess(env, tmp_path, ["run"], log_path=tmp_path / "second.log") as bot:
        await bot.wait_ready(api, timeout=30)
        # Right after start the expiry schedule catches the offer that fell due.
        told = await krystyna.expect_new("Minął czas na zajęcie miejsca", timeout=15)
        assert "Nadal jesteś na liście rezerwowej." in told.body
        second = await marek.expect_new("Miejsce czeka na Ciebie do:", timeout=10)
        # Krystyna's old button is refused kindly; Marek takes the place.
        krystyna.press("Biorę to miejsce", message=offer)
        answer = await krystyna.expect_answer()
        assert answer.text is not None and "czas na zajęcie tego miejsca minął" in answer.text
        marek.press("Biorę to miejsce", message=second)
        await marek.expect_edit("Miejsce jest Twoje", message=second)
        # A second tap on the edited-away button would be refused; the place stays his.
        marek.press_data(second, str(second.buttons[0].callback_data))
        again = await marek.expect_answer()
        assert again.text == "To miejsce już jest Twoje."
        assert await bot.terminate() == 0, bot.log_tail()
    assert "Traceback" not in bot.log_text(), bot.log_tail()
    assert _statuses(store) == {
        3600: RegistrationStatus.CANCELLED,
        3601: RegistrationStatus.RESERVE,
        3602: RegistrationStatus.CONFIRMED,
    }
    with Session(store) as session:
        states = session.exec(select(PlaceOffer.state).order_by(col(PlaceOffer.id))).all()
    assert states == [OfferState.EXPIRED, OfferState.TAKEN]
