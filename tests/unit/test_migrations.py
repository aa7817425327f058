"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import storage.models  # noqa: F401
from storage.migrate import is_up_to_date, upgrade_to_latest


def _diff(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), SQLModel.metadata))


def test_sqlite_schema_matches_models(engine: Engine) -> None:
    assert is_up_to_date(engine)
    assert _diff(engine) == [], "models changed: run scripts/regen_migration.sh"


def test_postgres_schema_matches_models(postgres_engine: Engine) -> None:
    assert is_up_to_date(postgres_engine)
    assert _diff(postgres_engine) == []


def test_upgrade_twice_is_harmless(engine: Engine) -> None:
    upgrade_to_latest(engine)
    assert is_up_to_date(engine)


def test_telegram_ids_fit_64_bits(postgres_engine: Engine) -> None:
    from sqlmodel import Session, select

    from storage.models import Broadcast, Person, Programme

    big = 7_900_000_123  # Telegram ids grow past 2**31
    with Session(postgres_engine) as session:
        programme = Programme(name="PAL")
        author = Person(telegram_id=big)
        session.add_all([programme, author])
        session.flush()
        assert programme.id is not None and author.id is not None
        session.add(
            Broadcast(
                programme_id=programme.id,
                author_id=author.id,
                text="x",
                audience="programme",
                progress_chat_id=big,
            )
        )
        session.commit()
        assert session.exec(select(Broadcast)).one().progress_chat_id == big
