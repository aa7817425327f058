"""Two `palbot run --webhook` processes on one PostgreSQL database serve one bot.

Updates reach the processes through a round-robin forwarder, so one person's
consecutive messages land on different processes.
"""
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
import yaml
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage.db import make_engine
from storage.migrate import upgrade_to_latest
from storage.models import (
    Person,
    Programme,
    Registration,
    RegistrationStatus,
    SurveyAnswer,
    SurveyResponse,
)
from tests.e2e.botapi import FakeBotApi, TgUser
from tests.e2e.webhook_cluster import SECRET, WebhookCluster
from tests.support.privacy import QUESTIONNAIRE
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


async def onboard(user: TgUser, name: str, timeout: float = 60.0) -> None:
    """/start → language → notice → name, in Polish."""
    await user.ask("/start", "Wybierz język", timeout=timeout)
    await user.tap("Polski", "Informacja o danych osobowych", timeout=timeout)
    await user.tap("Dalej", "Jak mają Cię widzieć animatorzy", timeout=timeout)
    await user.ask(name, f"Dziękujemy, {name}!", timeout=timeout)


async def sign_up(user: TgUser, activity_id: int, timeout: float = 60.0) -> str:
    """Open the activity by its deep link and take a place or join the reserve list."""
    details = await user.ask(f"/start act_{activity_id}", "Warsztaty", timeout=timeout)
    label = "Zapisz się" if "Zapisz się" in str(details.button_texts) else "Dopisz mnie"
    user.press(label)
    result = await user.expect(
        lambda m: "Masz miejsce" in (m.text or "") or "rezerwow" in (m.text or ""), timeout=timeout
    )
    return result.text or ""


async def answer_survey(user: TgUser, note: str, timeout: float = 60.0) -> None:
    """The three-question survey: two agreement items and a free-text note."""
    await user.ask("/survey", "Ankieta testowa", timeout=timeout)
    await user.tap("Dalej", "1/3", timeout=timeout)
    await user.tap("4 — ", "2/3", timeout=timeout)
    await user.tap("2 — ", "3/3", timeout=timeout)
    await user.ask(note, "Sprawdź odpowiedzi", timeout=timeout)
    await user.tap("Wyślij", "Dziękujemy", timeout=timeout)


def _use_survey(store: Engine, programme_id: int, folder: Path) -> None:
    survey = folder / "survey.yaml"
    survey.write_text(yaml.safe_dump(QUESTIONNAIRE, allow_unicode=True), encoding="utf-8")
    with Session(store) as session:
        programme = session.get(Programme, programme_id)
        assert programme is not None
        programme.survey_path = str(survey)
        session.add(programme)
        session.commit()


async def test_two_processes_serve_one_bot(
    api: FakeBotApi, store: Engine, postgres_url: str, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    programme, activities = seed_programme(store, now, activities=5, places=20)
    _use_survey(store, programme, tmp_path)
    residents = [api.user(70_000 + n, first_name=f"R{n}") for n in range(200)]
    rng = random.Random(7)
    # 200 people, 100 places: popular activities fill up and grow reserve lists.
    wanted = {r.user_id: rng.choice(activities[:3] + activities) for r in residents}

    # Dozens of people at once per step; the sign-up itself all 200 at once. (The fake
    # Bot API and the 200 simulated people share one test process: waves keep it
    # responsive on a 2-core machine.)
    wave = asyncio.Semaphore(50)

    async def in_wave(step: Awaitable[None]) -> None:
        async with wave:
            await step

    async with WebhookCluster(
        api,
        postgres_url,
        tmp_path,
        extra_env={"PALBOT_QUIET_HOURS": "off", "PALBOT_RATE_LIMIT": "false"},
    ) as cluster:
        await asyncio.gather(
            *(in_wave(onboard(r, f"Mieszkanka {n}")) for n, r in enumerate(residents))
        )
        await asyncio.gather(*(sign_up(r, wanted[r.user_id]) for r in residents))
        await asyncio.gather(
            *(in_wave(answer_survey(r, f"Uwagi numer {n}")) for n, r in enumerate(residents))
        )
        assert cluster.delivery is not None
        await cluster.delivery.drained()
        served = cluster.forwarder.served
        assert len(served) == 2 and min(served.values()) > 0.4 * sum(served.values())
        assert cluster.delivery.stats.given_up == 0
        logs = cluster.logs()
    assert "Traceback" not in logs, logs[logs.find("Traceback") - 500 :][:3000]
    with Session(store) as session:
        people = session.exec(select(Person).where(col(Person.telegram_id) >= 70_000)).all()
        assert len(people) == 200 and all(p.is_onboarded for p in people)
        rows = session.exec(select(Registration)).all()
        responses = session.exec(select(SurveyResponse)).all()
        answers = session.exec(select(SurveyAnswer)).all()
    # Every sign-up counted once, no place given twice, the reserve list in arrival order.
    assert len(rows) == 200 and len({r.person_id for r in rows}) == 200
    demand = Counter(wanted.values())
    for activity_id in activities:
        mine = sorted((r for r in rows if r.activity_id == activity_id), key=lambda r: r.id or 0)
        assert len(mine) == demand[activity_id]
        assert all(r.status == RegistrationStatus.CONFIRMED for r in mine[:20])
        assert all(r.status == RegistrationStatus.RESERVE for r in mine[20:])
    # Every survey submitted once, with exactly its three answers; no answer lost or doubled.
    assert len(responses) == 200 and all(r.submitted_at for r in responses)
    assert len({r.participant_code_id for r in responses}) == 200
    assert len(answers) == 600
    notes = sorted(a.value or "" for a in answers if a.item_id == "note")
    assert notes == sorted(f"Uwagi numer {n}" for n in range(200))
    assert {a.value for a in answers if a.item_id == "q1"} == {"4"}


async def test_webhook_refuses_a_wrong_secret(
    api: FakeBotApi, store: Engine, postgres_url: str, tmp_path: Path
) -> None:
    async with WebhookCluster(api, postgres_url, tmp_path, count=1) as cluster:
        port = cluster.ports[0]
        update = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 1_780_000_000,
                "text": "/start",
                "chat": {"id": 71_001, "type": "private", "first_name": "X"},
                "from": {"id": 71_001, "is_bot": False, "first_name": "X"},
            },
        }
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": SECRET[:-1]}):
                async with http.post(
                    f"http://127.0.0.1:{port}/tg", json=update, headers=headers
                ) as response:
                    assert response.status == 403
        await asyncio.sleep(0.5)
        assert api.messages(71_001) == []
        [registered] = api.calls("setWebhook")
        assert registered.params["url"] == "https://pal.example.org/tg"
        assert registered.params["secret_token"] == SECRET
