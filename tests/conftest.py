"""Fixtures shared by every layer: settings, a migrated database, an offline bot."""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import closing
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


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated to the newest schema per test session, copied for each test.

    Running every migration costs ~70 ms a test; copying the finished file costs under 1 ms.
    """
    path = tmp_path_factory.mktemp("template") / "migrated.sqlite3"
    eng = make_engine(f"sqlite:///{path}")
    upgrade_to_latest(eng)
    eng.dispose()
    # Fold the write-ahead log into the file, so that one file is the whole database.
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def engine(db_url: str, migrated_sqlite_template: Path) -> Iterator[Engine]:
    """A migrated database engine (a copy of the session's migrated template)."""
    url = make_url(db_url)
    target = Path(url.database or "")
    copied = url.get_backend_name() == "sqlite" and not target.exists()
    if copied:
        shutil.copyfile(migrated_sqlite_template, target)
    eng = make_engine(db_url)
    if not copied:  # another backend, or a file the test made itself: migrate in place
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


def _temporary_postgres_database(server_url: str) -> Iterator[str]:
    """Create an empty database, yield its URL, drop it."""
    server = make_url(server_url)
    name = f"palbot_t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    yield from _temporary_postgres_database(postgres_server_url)


@pytest.fixture(scope="session")
def migrated_postgres_template(postgres_server_url: str) -> Iterator[str]:
    """A PostgreSQL database migrated once per session, the template of each test's copy."""
    for url in _temporary_postgres_database(postgres_server_url):
        eng = make_engine(url)
        upgrade_to_latest(eng)
        eng.dispose()  # CREATE DATABASE ... TEMPLATE needs the template without connections
        yield make_url(url).database or ""


@pytest.fixture
def postgres_engine(
    postgres_server_url: str, postgres_url: str, migrated_postgres_template: str
) -> Iterator[Engine]:
    """A migrated engine on the test's database (`postgres_url`), remade as a copy of the
    migrated template: other engines a test opens on `postgres_url` see the same data."""
    name = make_url(postgres_url).database
    admin = create_engine(make_url(postgres_server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{migrated_postgres_template}"'))
    admin.dispose()
    eng = make_engine(postgres_url)
    yield eng
    eng.dispose()
