"""Bring a database to the latest schema with alembic."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    """An alembic Config pointing at our migrations, without an ini file."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_to_latest(engine: Engine) -> None:
    """Apply every migration the database has not seen yet."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection = connection.execution_options(sqlite_begin="IMMEDIATE")
        elif engine.dialect.name == "postgresql":
            # Several `palbot run` processes start together: one migrates, the others wait.
            connection.execute(text("SELECT pg_advisory_xact_lock(7426001)"))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()


def is_up_to_date(engine: Engine) -> bool:
    """Whether the database is at the newest migration."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    head = ScriptDirectory.from_config(config).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head
