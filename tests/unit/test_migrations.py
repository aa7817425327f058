"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

import storage.models  # noqa: F401
from storage.db import make_engine
from storage.migrate import (
    alembic_config,
    at_known_head,
    is_up_to_date,
    known_head,
    stored_revisions,
    upgrade_to_latest,
)
from storage.models import Broadcast, Person, Programme


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


def test_head_read_from_the_scripts_is_alembics() -> None:
    from alembic.script import ScriptDirectory

    config = alembic_config("sqlite://")
    assert known_head() is not None
    assert known_head() == ScriptDirectory.from_config(config).get_current_head()


def _script(folder: Path, revision: str, parent: str) -> None:
    (folder / f"{revision}_step.py").write_text(
        f'"""step\n\nRevision ID: {revision}\n"""\n'
        f"revision: str = '{revision}'\ndown_revision: str | tuple[str, ...] | None = {parent}\n"
        "branch_labels = None\ndepends_on = None\n\n\ndef upgrade() -> None:\n    pass\n"
    )


def test_history_that_is_not_a_line_is_left_to_alembic(tmp_path: Path) -> None:
    line, branched, merged = (tmp_path / name for name in ("line", "branched", "merged"))
    for folder in (line, branched, merged):
        folder.mkdir()
        _script(folder, "a1", "None")
        _script(folder, "b2", "'a1'")
    _script(branched, "c3", "'a1'")  # two heads: b2 and c3
    _script(merged, "c3", "'a1'")
    _script(merged, "d4", "('b2', 'c3')")
    assert known_head(line) == "b2"
    assert known_head(branched) is None
    assert known_head(merged) is None


def test_a_database_behind_the_head_is_not_taken_for_migrated(engine: Engine) -> None:
    assert at_known_head(engine)
    with engine.begin() as connection:
        assert stored_revisions(connection) == {known_head()}
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    assert not at_known_head(engine)
    assert not is_up_to_date(engine)


def test_a_database_never_migrated_stores_no_revision(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.connect() as connection:
        assert stored_revisions(connection) == set()
    assert not at_known_head(engine)
    upgrade_to_latest(engine)
    assert at_known_head(engine) and is_up_to_date(engine)
    engine.dispose()
