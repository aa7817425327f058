"""Migration 0002: grants without a programme become grants for the programmes the person
worked in (or the only programme), else stay and grant nothing — on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, SQLModel, col, select

from storage.access import Action, load_access, may, programmes_for
from storage.db import make_engine
from storage.migrate import alembic_config, upgrade_to_latest
from storage.models import Activity, Person, Programme, RoleGrant
from storage.models.people import OnboardingStep

ORGANISER, EVALUATOR, NEWCOMER, SCOPED = 811, 812, 813, 814


def _at_0001(url: str) -> Engine:
    engine = make_engine(url)
    config = alembic_config(url)
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.commit()
    return engine


def _seed(engine: Engine, *, programmes: int) -> list[int]:
    """Rows as revision 0001 stored them: only the columns that schema has (later
    migrations add columns the models already know)."""
    schema = MetaData()
    schema.reflect(engine)

    def add(conn: Connection, row: SQLModel) -> int:
        table = schema.tables[str(type(row).__tablename__)]
        values = {k: v for k, v in row.model_dump().items() if k in table.c and k != "id"}
        key = conn.execute(table.insert().values(values)).inserted_primary_key
        assert key is not None
        return int(key[0])

    with engine.begin() as conn:
        ids = [add(conn, Programme(name=f"PAL Osiedle {i}")) for i in range(programmes)]
        organiser = add(
            conn,
            Person(
                telegram_id=ORGANISER,
                display_name="Ewa",
                language="pl",
                onboarding_step=OnboardingStep.DONE,
                programme_id=ids[-1],
            ),
        )
        starts_at = datetime(2026, 12, 10, 17, tzinfo=UTC)
        add(
            conn,
            Activity(
                programme_id=ids[0],
                title="Warsztaty",
                category="warsztaty",
                venue="Klub",
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=2),
                places=10,
                description="",
                organiser_id=organiser,
            ),
        )
        add(
            conn,
            Person(
                telegram_id=NEWCOMER,
                display_name="Jan",
                language="pl",
                onboarding_step=OnboardingStep.DONE,
                programme_id=ids[0],
            ),
        )
        for telegram_id, role in (
            (ORGANISER, "animator"),
            (EVALUATOR, "evaluator"),
            (NEWCOMER, "animator"),
        ):
            add(conn, RoleGrant(telegram_id=telegram_id, role=role))
        add(conn, RoleGrant(telegram_id=SCOPED, role="animator", programme_id=ids[-1]))
        add(
            conn,
            RoleGrant(
                telegram_id=SCOPED, role="admin", granted_at=datetime.now(UTC) - timedelta(days=1)
            ),
        )
    return ids


def _grants(session: Session, telegram_id: int) -> list[tuple[str, int | None]]:
    rows = session.exec(
        select(RoleGrant)
        .where(RoleGrant.telegram_id == telegram_id)
        .order_by(col(RoleGrant.role), col(RoleGrant.programme_id))
    ).all()
    return [(g.role, g.programme_id) for g in rows]


def _check_several(engine: Engine, ids: list[int]) -> None:
    upgrade_to_latest(engine)
    with Session(engine) as session:
        # Ewa organised in the first programme (she lives in the last): granted the first.
        assert _grants(session, ORGANISER) == [("animator", ids[0])]
        # Nothing to go by: the grant stays, names no programme and grants none.
        assert _grants(session, EVALUATOR) == [("evaluator", None)]
        assert _grants(session, NEWCOMER) == [("animator", None)]
        for telegram_id, action in (
            (EVALUATOR, Action.READ_REPORTS),
            (NEWCOMER, Action.WORK_IN_PROGRAMME),
        ):
            access = load_access(session, telegram_id)
            assert programmes_for(access, action) == frozenset()
            assert not any(may(access, action, programme_id=p) for p in ids)
        # Grants that already named a programme, and admin grants, are left alone.
        assert _grants(session, SCOPED) == [("admin", None), ("animator", ids[-1])]
        assert load_access(session, SCOPED).is_admin


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'old.sqlite3'}"


@pytest.fixture
def old_sqlite(sqlite_url: str) -> Iterator[Engine]:
    engine = _at_0001(sqlite_url)
    yield engine
    engine.dispose()


@pytest.fixture
def old_postgres(postgres_url: str) -> Iterator[Engine]:
    engine = _at_0001(postgres_url)
    yield engine
    engine.dispose()


def test_sqlite_grants_go_to_where_the_person_worked(old_sqlite: Engine) -> None:
    _check_several(old_sqlite, _seed(old_sqlite, programmes=2))


def test_postgres_grants_go_to_where_the_person_worked(old_postgres: Engine) -> None:
    _check_several(old_postgres, _seed(old_postgres, programmes=2))


def test_with_one_programme_every_grant_goes_to_it(old_sqlite: Engine) -> None:
    (only,) = _seed(old_sqlite, programmes=1)
    upgrade_to_latest(old_sqlite)
    with Session(old_sqlite) as session:
        assert _grants(session, EVALUATOR) == [("evaluator", only)]
        assert _grants(session, NEWCOMER) == [("animator", only)]
        assert _grants(session, ORGANISER) == [("animator", only)]
