"""Two webhook processes on PostgreSQL: reminders exactly once, SIGTERM mid-work, and the
Bot API server unreachable for a few seconds."""
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from storage.activities.seats import sign_up
from storage.db import make_engine, transaction
from storage.migrate import upgrade_to_latest
from storage.models import PendingSend, Programme, SendKind, SendState
from tests.e2e.botapi import FakeBotApi
from tests.e2e.webhook_cluster import WebhookCluster
from tests.support.signup import make_people, seed_programme

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio]
TOKEN = "123456:E2E-webhook-faults"


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


def _places_with_reminders(
    store: Engine, *, people: int, first_id: int, starts_in: timedelta, offset: str
) -> list[int]:
    """People holding places in one activity whose one reminder is due `offset` before."""
    # One "now" for every sign-up: slow seeding must not push a reminder's due time
    # behind the moment its place is confirmed (such reminders are rightly skipped).
    now = datetime.now(UTC)
    programme, (activity,) = seed_programme(store, now, places=people, first_in=starts_in)
    with transaction(store) as session:
        row = session.get(Programme, programme)
        assert row is not None
        row.reminder_offsets = offset
        session.add(row)
    ids = make_people(store, people, programme_id=programme, first_telegram_id=first_id)
    for person_id in ids:
        with transaction(store) as session:
            sign_up(session, person_id=person_id, activity_id=activity, now=now)
    return [first_id + n for n in range(people)]


def _reminders(store: Engine) -> dict[str, int]:
    with Session(store) as session:
        rows = session.exec(
            select(PendingSend.state, func.count())
            .where(PendingSend.kind == SendKind.REMINDER.value)
            .group_by(col(PendingSend.state))
        ).all()
    return {str(state): int(n) for state, n in rows}


async def _until(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


async def test_each_reminder_once_from_two_processes(
    api: FakeBotApi, store: Engine, postgres_url: str, tmp_path: Path
) -> None:
    chats = _places_with_reminders(
        store, people=40, first_id=81_000, starts_in=timedelta(seconds=45), offset="35s"
    )
    assert _reminders(store) == {"pending": 40}
    async with WebhookCluster(
        api, postgres_url, tmp_path, extra_env={"PALBOT_QUIET_HOURS": "off"}
    ) as cluster:
        await _until(lambda: _reminders(store) == {"sent": 40}, 60, "40 reminders sent")
        await asyncio.sleep(2)  # a duplicate would show up by now
        logs = cluster.logs()
    for chat in chats:
        sent = [m for m in api.messages(chat) if "Warsztaty rękodzieła" in (m.text or "")]
        assert len(sent) == 1, f"chat {chat} got {len(sent)} reminders"
    # Both processes took part in sending (claims interleave), and none sent twice.
    assert "Traceback" not in logs


async def test_sigterm_mid_work_leaves_sends_claimable(
    api: FakeBotApi, store: Engine, postgres_url: str, tmp_path: Path
) -> None:
    chats = _places_with_reminders(
        store, people=400, first_id=82_000, starts_in=timedelta(seconds=90), offset="88s"
    )
    assert _reminders(store) == {"pending": 400}
    api.set_latency(0.1)  # each send takes a while: there is work in flight to interrupt
    async with WebhookCluster(
        api, postgres_url, tmp_path, extra_env={"PALBOT_QUIET_HOURS": "off"}
    ) as cluster:
        await _until(lambda: _reminders(store).get("sent", 0) >= 20, 60, "sending to start")
        first = cluster.processes[0]
        code = await first.terminate(timeout=30)
        assert code == 0, first.log_tail()
        at_exit = _reminders(store)
        await _until(
            lambda: _reminders(store) == {"sent": 400}, 120, "the other process to send the rest"
        )
        await asyncio.sleep(1)
    assert at_exit.get("sent", 0) < 400, f"nothing left to take over: {at_exit}"
    with Session(store) as session:
        senders = session.exec(select(PendingSend.claimed_by).distinct()).all()
    assert len(set(senders)) == 2, "both processes sent, the second finished the first's work"
    for chat in chats:
        sent = [m for m in api.messages(chat) if "Warsztaty rękodzieła" in (m.text or "")]
        assert len(sent) == 1, f"chat {chat} got {len(sent)} reminders"


async def test_bot_api_unreachable_sends_wait_and_resume(
    api: FakeBotApi, store: Engine, postgres_url: str, tmp_path: Path
) -> None:
    chats = _places_with_reminders(
        store, people=10, first_id=83_000, starts_in=timedelta(seconds=60), offset="52s"
    )
    assert _reminders(store) == {"pending": 10}
    async with WebhookCluster(
        api, postgres_url, tmp_path, count=1, extra_env={"PALBOT_QUIET_HOURS": "off"}
    ) as cluster:
        api.pause()  # the Bot API server stops answering
        olena = api.user(chats[0])
        olena.send("/privacy")
        await asyncio.sleep(12)  # reminders fall due while nothing gets through
        assert api.messages(chats[1]) == []
        status, report = await cluster.health(0)
        assert (status, report["bot_api"]) == (503, "unreachable")
        api.resume()
        await olena.expect("Informacja o danych osobowych", timeout=30)
        await _until(lambda: _reminders(store) == {"sent": 10}, 60, "reminders after resume")
        await asyncio.sleep(1)
        logs = cluster.logs()
    for chat in chats:
        sent = [m for m in api.messages(chat) if "Warsztaty rękodzieła" in (m.text or "")]
        assert len(sent) == 1, f"chat {chat} got {len(sent)} reminders"
    assert SendState.FAILED.value not in _reminders(store)
    assert "Traceback" not in logs, logs[logs.find("Traceback") - 300 :][:3000]
