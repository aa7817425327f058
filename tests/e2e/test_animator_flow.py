"""Animators through `palbot run` and the local Bot API server: a whole activity, and an
announcement that survives SIGKILL without anybody getting it twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from storage.models import Activity, Broadcast, PendingSend, Registration
from tests.e2e.botapi import BotProcess, FakeBotApi, bot_env
from tests.support.animator import seat_animator, seat_resident
from tests.support.signup import make_people

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio]
EWA = 900
WARSAW = ZoneInfo("Europe/Warsaw")


def _env(api: FakeBotApi, db_file: str) -> dict[str, str]:
    # Quiet hours off: the test must not depend on the time of day it runs at.
    return bot_env(
        api,
        PALBOT_DATABASE_URL=db_file,
        PALBOT_LOG_LEVEL="WARNING",
        PALBOT_QUIET_HOURS="off",
        PALBOT_BROADCAST_RATE_PER_SECOND="28",
        PALBOT_GLOBAL_RATE_PER_SECOND="30",
    )


@pytest.fixture
async def bot(
    api: FakeBotApi, db_file: str, store: Engine, tmp_path: Path
) -> AsyncIterator[BotProcess]:
    async with BotProcess(_env(api, db_file), tmp_path, ["run"]) as proc:
        await proc.wait_ready(api, timeout=30)
        yield proc
        assert await proc.terminate() == 0, proc.log_tail()
    assert "Traceback" not in proc.log_text(), proc.log_tail()


async def test_an_animator_runs_an_activity_from_the_chat(
    api: FakeBotApi, bot: BotProcess, store: Engine
) -> None:
    _, programme_id = seat_animator(store, telegram_id=EWA)
    seat_resident(store, telegram_id=5001, programme_id=programme_id, name="Krystyna")
    ewa, krystyna = api.user(EWA), api.user(5001)

    # Publish an activity starting in 50 minutes, through the wizard.
    start = (datetime.now(UTC) + timedelta(minutes=50)).astimezone(WARSAW)
    await ewa.ask("/animator", "Panel animatora")
    await ewa.tap("Nowe wydarzenie", "pytanie 1 z 10")
    await ewa.ask("Spacer z kijami", "Jaki to rodzaj")
    await ewa.ask("sport", "Który dzień?")
    await ewa.ask(start.strftime("%d.%m.%Y"), "O której się zaczyna?")
    await ewa.ask(start.strftime("%H:%M"), "Ile trwa?")
    await ewa.tap("1 godz.", "co tydzień o tej porze")
    await ewa.tap("Tylko raz", "Gdzie się odbywa?")
    await ewa.ask("Park Miejski, wejście od ul. Lipowej", "Ile jest miejsc?")
    await ewa.ask("0", "Liczba miejsc musi wynosić od 1 do 500")
    await ewa.ask("12", "Do kiedy można się zapisać?")
    await ewa.tap("Bez terminu", "Dodaj krótki opis")
    preview = await ewa.tap("Pomiń", "Sprawdź nowe wydarzenie")
    assert "12 miejsc" in preview.body
    await ewa.tap("Opublikuj", "Opublikowano: Spacer z kijami")

    # Krystyna finds it and signs up.
    listing = await krystyna.ask("/activities", "Zajęcia i spotkania")
    assert any("Spacer z kijami" in text for text in listing.button_texts)
    await krystyna.tap("Spacer z kijami", "📌 Spacer z kijami")
    await krystyna.tap("Zapisz się", "Masz miejsce na: Spacer z kijami")

    # Ewa takes attendance: one tap, saved and shown at once.
    await ewa.ask("/animator", "Panel animatora")
    await ewa.tap("Obecność", "Obecność: wybierz wydarzenie")
    checklist = await ewa.tap("Spacer z kijami", "Obecni: 0 z 1.")
    ewa.press("Krystyna", message=checklist)
    await ewa.expect_edit("Obecni: 1 z 1.", message=checklist)
    with Session(store) as session:
        registration = session.exec(select(Registration)).one()
        assert registration.attended

    # And announces something to the whole programme.
    await ewa.ask("/animator", "Panel animatora")
    await ewa.tap("Ogłoszenie", "Nowe ogłoszenie")
    await ewa.ask("Weźcie wygodne buty!", "Kto ma dostać ogłoszenie?")
    await ewa.tap("Wszyscy w programie (1)", "Odbiorcy: 1")
    await ewa.tap("Wyślij do 1 osoby", "Ogłoszenie: wysłano")
    told = await krystyna.expect_new("Weźcie wygodne buty!", timeout=10)
    assert told.body == "Weźcie wygodne buty!"
    await ewa.expect_edit("Dostarczono: 1", timeout=15)


def _copies(api: FakeBotApi, chat_id: int, text: str) -> int:
    return sum(1 for m in api.messages(chat_id) if m.body == text)


async def test_a_broadcast_to_300_survives_sigkill_without_duplicates(
    api: FakeBotApi, db_file: str, store: Engine, tmp_path: Path
) -> None:
    _, programme_id = seat_animator(store, telegram_id=EWA)
    residents = make_people(store, 300, programme_id=programme_id, first_telegram_id=60_000)
    assert len(residents) == 300
    text = "Zebranie mieszkańców w czwartek o 18:00 w świetlicy."
    env = _env(api, db_file)
    first = BotProcess(env, tmp_path, ["run"], log_path=tmp_path / "first.log")
    with first:
        await first.wait_ready(api, timeout=30)
        ewa = api.user(EWA)
        await ewa.ask("/animator", "Panel animatora")
        await ewa.tap("Ogłoszenie", "Nowe ogłoszenie")
        await ewa.ask(text, "Kto ma dostać ogłoszenie?")
        await ewa.tap("Wszyscy w programie (300)", "Odbiorcy: 300")
        await ewa.tap("Wyślij do 300 osób", "Ogłoszenie: wysłano")

        def delivered() -> int:
            return sum(_copies(api, 60_000 + i, text) for i in range(300))

        await api.wait_until(lambda: delivered() >= 100, 15, description="100 delivered")
        # Telegram says "slow down" for a while: the bot holds every bulk send, so the kill
        # below lands between sends, never between Telegram's answer and the record of it.
        api.fail_next("sendMessage", 429, retry_after=25)
        await api.wait_until(
            lambda: any(c.status == 429 for c in api.calls("sendMessage")), 10, description="a 429"
        )
        # Sends already past the pacer finish; then nothing moves.
        settled = -1
        while settled != delivered():
            settled = delivered()
            await asyncio.sleep(0.7)
        first.kill()
    assert first.returncode == -9
    sent_before = delivered()
    assert 100 <= sent_before < 300, sent_before
    with Session(store) as session:
        claimed = session.exec(select(PendingSend).where(PendingSend.state == "claimed")).all()
        assert claimed, "the crash left claims behind for the restart to resolve"

    async with BotProcess(env, tmp_path, ["run"], log_path=tmp_path / "second.log") as second:
        await second.wait_ready(api, timeout=30)
        await api.wait_until(lambda: delivered() >= 300, 20, description="all delivered")
        # The animator's progress message ends with the report.
        await api.wait_until(
            lambda: any("Dostarczono: 300" in m.body for m in api.messages(EWA)),
            15,
            description="delivery report",
        )
        assert await second.terminate() == 0, second.log_tail()
    assert "Traceback" not in second.log_text(), second.log_tail()
    copies = [_copies(api, 60_000 + i, text) for i in range(300)]
    assert copies == [1] * 300, {i: c for i, c in enumerate(copies) if c != 1}
    with Session(store) as session:
        broadcast = session.exec(select(Broadcast)).one()
        states = {
            s.state
            for s in session.exec(
                select(PendingSend).where(PendingSend.broadcast_id == broadcast.id)
            )
        }
        assert broadcast.state == "done" and states == {"sent"}
        assert session.exec(select(Activity)).all() == []
