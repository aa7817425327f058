"""Bring a database to the latest schema with alembic.

Every `palbot run` starts here, and almost always the database is already at the newest
migration. Importing alembic and loading its script directory to find that out costs more
than the rest of the check (about 6 MB resident), so the newest revision is first read from
the migration scripts' headers and compared with the one the database stores; alembic is
imported only when there is something to do, or when the scripts' history is not one plain
line of revisions.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSIONS_DIR = MIGRATIONS_DIR / "versions"
VERSION_TABLE = "alembic_version"  # alembic's default; env.py keeps it

# `revision: str = '0003'` and the like at the top of a migration script.
_HEADER = re.compile(
    r"^(revision|down_revision|branch_labels|depends_on)\s*(?::[^=\n]*)?=\s*(.+?)\s*$",
    re.MULTILINE,
)


def alembic_config(url: str) -> Config:
    """An alembic Config pointing at our migrations, without an ini file."""
    from alembic.config import Config  # heavy: alembic, only when migrating

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@cache
def known_head(versions: Path = VERSIONS_DIR) -> str | None:
    """The newest revision, read from the scripts' headers; None unless history is a line.

    None (ask alembic) for branches, merges, labels, dependencies or a header that is not
    a plain literal: only the simple case is answered here.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in versions.glob("*.py"):
        fields: dict[str, object] = {}
        for name, value in _HEADER.findall(script.read_text(encoding="utf-8")):
            if name in fields:
                return None
            try:
                fields[name] = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                return None
        if not fields:
            continue  # not a migration (e.g. __init__.py)
        revision, parent = fields.get("revision"), fields.get("down_revision")
        if not isinstance(revision, str) or revision in revisions:
            return None
        if fields.get("branch_labels") is not None or fields.get("depends_on") is not None:
            return None
        if parent is not None and not isinstance(parent, str):
            return None  # a merge point
        revisions.add(revision)
        if parent is not None:
            parents.add(parent)
    if not parents <= revisions:
        return None
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def stored_revisions(connection: Connection) -> set[str]:
    """The revisions the database says it is at (none for a database never migrated)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return set()
    rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
    return {str(row[0]) for row in rows}


def at_known_head(engine: Engine) -> bool:
    """Whether the database is at the scripts' newest revision, without alembic.

    False also when the newest revision cannot be read cheaply: then alembic decides.
    """
    head = known_head()
    if head is None:
        return False
    with engine.connect() as connection:
        return stored_revisions(connection) == {head}


def upgrade_to_latest(engine: Engine) -> None:
    """Apply every migration the database has not seen yet."""
    if at_known_head(engine):
        return
    from alembic import command  # heavy: alembic, only when migrating

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
    """Whether the database is at the newest migration, as alembic sees it."""
    from alembic.runtime.migration import MigrationContext  # heavy: alembic
    from alembic.script import ScriptDirectory  # heavy: alembic

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    head = ScriptDirectory.from_config(config).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head
