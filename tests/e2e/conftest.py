"""Fixtures every end-to-end test shares: the bot's database file and the local Bot API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from storage.db import make_engine
from storage.migrate import upgrade_to_latest
from tests.e2e.botapi import FakeBotApi

E2E_TOKEN = "123456:E2E-token"


@pytest.fixture
def db_file(tmp_path: Path) -> str:
    """The SQLite file the bot under test uses."""
    return f"sqlite:///{tmp_path / 'palbot.sqlite3'}"


@pytest.fixture
def store(db_file: str) -> Iterator[Engine]:
    """The bot's database, migrated before the bot starts so tests can seed it."""
    engine = make_engine(db_file)
    upgrade_to_latest(engine)
    yield engine
    engine.dispose()


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    """The local Bot API server the bot talks to and the tests act through."""
    async with FakeBotApi(token=E2E_TOKEN) as server:
        yield server
