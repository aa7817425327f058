"""Two `palbot run --webhook` processes on one PostgreSQL database serve one bot.

Updates reach the processes through a round-robin forwarder, so one person's
consecutive messages land on different processes.
"""
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage.db import make_engine
from storage.migrate import upgrade_to_latest
from storage.models import Person, Registration, RegistrationStatus
from tests.e2e.botapi import FakeBotApi, TgUser
from tests.e2e.webhook_cluster import SECRET, WebhookCluster
from tests.support.signup import seed_programme

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio]
TOKEN = "123456:E2E-webhook"


@pytest.fixture
def store(postgres_url: str) -> Iterator[Engine]:
    """The bot's PostgreSQL database, migrated so tests can seed it first."""
    engine = make_engine(postgres_url)
    upgrade_to_latest(engine)
    yield engine
    engine.dispose()


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(token=TOKEN) as server:
        yield server


async def onboard(user: TgUser, name: str, timeout: float = 30.0) -> None:
    """/start → language → notice → name, in Polish."""
    await user.ask("/start", "Wybierz język", timeout=timeout)
    await user.tap("Polski", "Informacja o danych osobowych", timeout=timeout)
    await user.tap("Dalej", "Jak mają Cię widzieć animatorzy", timeout=timeout)
    await user.ask(name, f"Dziękujemy, {name}!", timeout=timeout)


async def sign_up(user: TgUser, activity_id: int, timeout: float = 30.0) -> str:
    """Open the activity by its deep link and take a place or join the reserve list."""
    details = await user.ask(f"/start act_{activity_id}", "Warsztaty", timeout=timeout)
    label = "Zapisz się" if "Zapisz się" in str(details.button_texts) else "Dopisz mnie"
    user.press(label)
    result = await user.expect(lambda m: "Masz miejsce" in (m.text or "")
                               or "rezerwow" in (m.text or ""), timeout=timeout)
    return result.text or ""


async def test_two_processes_serve_one_bot(
    api: FakeBotApi, store: Engine, postgres_url: str, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    _, activities = seed_programme(store, now, activities=10, places=20)
    residents = [api.user(70_000 + n, first_name=f"R{n}") for n in range(200)]
    async with WebhookCluster(api, postgres_url, tmp_path) as cluster:
        await asyncio.gather(*(onboard(r, f"Mieszkanka {n}") for n, r in enumerate(residents)))
        rng = random.Random(7)
        wanted = {r.user_id: rng.sample(activities, 2) for r in residents}

        async def both(resident: TgUser) -> None:
            for activity_id in wanted[resident.user_id]:
                await sign_up(resident, activity_id)

        await asyncio.gather(*(both(r) for r in residents))
        assert cluster.delivery is not None
        await cluster.delivery.drained()
        served = cluster.forwarder.served
        assert len(served) == 2 and min(served.values()) > 0.4 * sum(served.values())
        assert cluster.delivery.stats.given_up == 0
        logs = cluster.logs()
    assert "Traceback" not in logs, logs[-3000:]
    with Session(store) as session:
        people = session.exec(select(Person).where(col(Person.telegram_id) >= 70_000)).all()
        assert len(people) == 200 and all(p.is_onboarded for p in people)
        rows = session.exec(select(Registration)).all()
    # Every request counted once, no place given twice, the reserve list in order.
    assert len(rows) == 400
    assert len({(r.person_id, r.activity_id) for r in rows}) == 400
    demand = Counter(a for chosen in wanted.values() for a in chosen)
    for activity_id in activities:
        mine = sorted((r for r in rows if r.activity_id == activity_id), key=lambda r: r.id or 0)
        confirmed = [r for r in mine if r.status == RegistrationStatus.CONFIRMED]
        assert len(confirmed) == min(20, demand[activity_id])
        # Places went to the first 20 arrivals; everyone after is on the reserve list.
        assert all(r.status == RegistrationStatus.CONFIRMED for r in mine[:20])
        assert all(r.status == RegistrationStatus.RESERVE for r in mine[20:])


async def test_webhook_refuses_a_wrong_secret(
    api: FakeBotApi, store: Engine, postgres_url: str, tmp_path: Path
) -> None:
    async with WebhookCluster(api, postgres_url, tmp_path, count=1) as cluster:
        port = cluster.ports[0]
        update = {"update_id": 1, "message": {
            "message_id": 1, "date": 1_780_000_000, "text": "/start",
            "chat": {"id": 71_001, "type": "private", "first_name": "X"},
            "from": {"id": 71_001, "is_bot": False, "first_name": "X"}}}
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": SECRET[:-1]}):
                async with http.post(f"http://127.0.0.1:{port}/tg", json=update,
                                     headers=headers) as response:
                    assert response.status == 403
        await asyncio.sleep(0.5)
        assert api.messages(71_001) == []
        [registered] = api.calls("setWebhook")
        assert registered.params["url"] == "https://pal.example.org/tg"
        assert registered.params["secret_token"] == SECRET
