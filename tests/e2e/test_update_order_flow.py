"""Over real HTTP: a resident who types and then taps at once gets answers in that order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage.models import Person
from tests.e2e.botapi import BotProcess, FakeBotApi, bot_env
from tests.support.signup import seed_programme

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio]


@pytest.fixture
async def bot(
    api: FakeBotApi, db_file: str, store: Engine, tmp_path: Path
) -> AsyncIterator[BotProcess]:
    env = bot_env(api, PALBOT_DATABASE_URL=db_file, PALBOT_LOG_LEVEL="WARNING")
    async with BotProcess(env, tmp_path, ["run"]) as proc:
        await proc.wait_ready(api, timeout=30)
        yield proc
        assert await proc.terminate() == 0, proc.log_tail()
    assert "Traceback" not in proc.log_text(), proc.log_tail()


async def test_a_name_and_a_command_sent_together_during_onboarding(
    api: FakeBotApi, bot: BotProcess, store: Engine
) -> None:
    seed_programme(store, datetime.now(UTC), activities=2)
    residents = [api.user(7001 + i) for i in range(5)]
    for resident in residents:
        await resident.ask("/start", "Wybierz język")
        await resident.tap("Polski", "Informacja o danych osobowych")
        await resident.tap("Dalej", "Jak mają Cię widzieć animatorzy")
    for n, resident in enumerate(residents):  # nobody waits for an answer in between
        resident.send(f"Osoba {n}")
        resident.send("/activities")
    for n, resident in enumerate(residents):
        await resident.expect("Zajęcia i spotkania: PAL", timeout=20)
        texts = [m.text or "" for m in resident.messages]
        thanks = next(i for i, t in enumerate(texts) if f"Dziękujemy, Osoba {n}!" in t)
        listing = next(i for i, t in enumerate(texts) if "Zajęcia i spotkania: PAL" in t)
        assert thanks < listing
        assert sum("Jak mają Cię widzieć animatorzy" in t for t in texts) == 1
    with Session(store) as session:
        people = session.exec(select(Person).where(col(Person.telegram_id) >= 7001)).all()
    assert sorted(p.display_name or "" for p in people) == [f"Osoba {n}" for n in range(5)]
    assert all(p.is_onboarded for p in people)
