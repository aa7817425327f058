"""Fixtures shared by every layer: settings, a migrated database, an offline bot."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from bot.app import build_application
from bot.context import PalApplication, Services
from bot.settings import Settings, load_settings
from schedules.clock import FrozenClock
from storage.db import make_engine
from storage.migrate import upgrade_to_latest
from tests.support.chat import ChatUser
from tests.support.recording import RecordingRequest

TEST_TOKEN = "123456:TEST-token"
POSTGRES_ENV = "PALBOT_TEST_POSTGRES_URL"
# A Monday morning in Warsaw; tests move it explicitly.
TEST_NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep a developer's PALBOT_* variables and .env file out of the tests."""
    for name in list(os.environ):
        if name.startswith("PALBOT_") and name != POSTGRES_ENV:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def clock() -> FrozenClock:
    """A clock the test moves by hand."""
    return FrozenClock(TEST_NOW)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A fresh SQLite file per test."""
    return f"sqlite:///{tmp_path / 'palbot.sqlite3'}"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated database engine."""
    eng = make_engine(db_url)
    upgrade_to_latest(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def settings(db_url: str) -> Settings:
    """Settings for an offline bot on the test database."""
    return load_settings(_env_file=None, token=TEST_TOKEN, database_url=db_url)


@pytest.fixture
def rec() -> RecordingRequest:
    """The offline Bot API."""
    return RecordingRequest()


@pytest.fixture
async def app(
    settings: Settings, engine: Engine, rec: RecordingRequest, clock: FrozenClock
) -> AsyncIterator[PalApplication]:
    """A real Application on the offline Bot API, initialised, background work not started."""
    application = build_application(
        settings, request=rec, get_updates_request=rec, with_updater=False, clock=clock
    )
    await application.initialize()
    yield application
    await application.shutdown()
    services: Services = application.bot_data["services"]
    services.db.close()


@pytest.fixture
def chat_user(app: PalApplication, rec: RecordingRequest) -> Callable[..., ChatUser]:
    """Make a Telegram user who talks to the offline bot."""

    def make(user_id: int, language_code: str = "pl") -> ChatUser:
        return ChatUser(app, rec, user_id, language_code=language_code)

    return make


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """The local PostgreSQL server, or a visible skip where it is not configured."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"{POSTGRES_ENV} is not set: PostgreSQL tests skipped")
    return url


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    server = make_url(postgres_server_url)
    name = f"palbot_t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    """A migrated engine on a fresh PostgreSQL database."""
    eng = make_engine(postgres_url)
    upgrade_to_latest(eng)
    yield eng
    eng.dispose()
