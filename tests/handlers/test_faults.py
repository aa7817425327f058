"""Faults: PostgreSQL unreachable for a few seconds, through a proxy the test cuts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, select

from bot.app import build_application
from bot.context import PalApplication, Services
from bot.settings import load_settings
from schedules.clock import FrozenClock
from storage.activities.seats import sign_up
from storage.db import DatabaseUnavailable, make_engine, transaction
from storage.migrate import upgrade_to_latest
from storage.models import PendingSend, Registration
from tests.conftest import TEST_TOKEN
from tests.support.chat import ChatUser
from tests.support.recording import RecordingRequest
from tests.support.signup import make_activity, make_person, make_programme
from tests.support.tcp_proxy import TcpProxy

TEMPORARY = "Chwilowy problem po naszej stronie. Spróbuj ponownie za chwilę."


@pytest.fixture
def proxy(postgres_url: str) -> Iterator[TcpProxy]:
    """A cuttable link to the test's PostgreSQL server."""
    url = make_url(postgres_url)
    with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as link:
        yield link


@pytest.fixture
def direct(postgres_url: str) -> Iterator[Engine]:
    """The database, migrated, reached directly (the test's own view)."""
    engine = make_engine(postgres_url)
    upgrade_to_latest(engine)
    yield engine
    engine.dispose()


@pytest.fixture
async def pg_app(
    postgres_url: str,
    proxy: TcpProxy,
    direct: Engine,
    rec: RecordingRequest,
    clock: FrozenClock,
) -> AsyncIterator[PalApplication]:
    """The bot on PostgreSQL through the proxy."""
    through_proxy = make_url(postgres_url).set(port=proxy.port)
    settings = load_settings(
        _env_file=None,
        token=TEST_TOKEN,
        database_url=through_proxy.render_as_string(hide_password=False),
    )
    application = build_application(
        settings, request=rec, get_updates_request=rec, with_updater=False, clock=clock
    )
    await application.initialize()
    yield application
    await application.shutdown()
    services: Services = application.bot_data["services"]
    services.db.close()


async def test_database_outage_asks_to_try_again_then_recovers(
    pg_app: PalApplication,
    rec: RecordingRequest,
    proxy: TcpProxy,
    direct: Engine,
    clock: FrozenClock,
) -> None:
    with transaction(direct) as session:
        programme = make_programme(session)
        make_person(session, telegram_id=4401, name="Jadwiga", programme=programme)
    jadwiga = ChatUser(pg_app, rec, 4401)
    proxy.cut()
    await jadwiga.send("/my")
    assert jadwiga.last_answer() == TEMPORARY
    await jadwiga.send("/privacy")
    assert jadwiga.last_answer() == TEMPORARY
    # One answer per message: nothing else ran on the half-handled updates.
    assert [m.text for m in jadwiga.messages] == [TEMPORARY, TEMPORARY]
    proxy.restore()
    await jadwiga.send("/my")
    assert jadwiga.last_answer().startswith("Nie masz zapisów")


async def test_a_sign_up_cut_before_commit_leaves_nothing_behind(
    pg_app: PalApplication, proxy: TcpProxy, direct: Engine, clock: FrozenClock
) -> None:
    with transaction(direct) as session:
        programme = make_programme(session)
        person = make_person(session, telegram_id=4402, programme=programme)
        activity = make_activity(
            session, programme=programme, starts_at=clock.now() + timedelta(days=3)
        )
        ids = (person.id, activity.id)
    person_id, activity_id = ids
    assert person_id and activity_id

    def sign_up_then_lose_the_link(session: Session) -> None:
        # The place, its reminders and the audit are written; the link dies before COMMIT.
        sign_up(session, person_id=person_id, activity_id=activity_id, now=clock.now())
        session.flush()
        proxy.cut()

    services: Services = pg_app.bot_data["services"]
    with pytest.raises(DatabaseUnavailable):
        await services.db.write(sign_up_then_lose_the_link)
    proxy.restore()
    with Session(direct) as session:
        assert session.exec(select(Registration)).all() == []
        assert session.exec(select(PendingSend)).all() == []
    # And the same sign-up works once the database is back.
    result = await services.db.write(
        sign_up, person_id=person_id, activity_id=activity_id, now=clock.now()
    )
    assert result.confirmed
