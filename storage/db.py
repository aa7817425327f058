"""Engine, sessions and transactions: the one place that opens database work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool
from sqlmodel import Session, create_engine

SQLITE_BUSY_TIMEOUT_MS = 15_000


class DatabaseUnavailable(Exception):
    """The database could not be reached; the caller should ask the user to retry."""


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine tuned for the backend: WAL and immediate writes on SQLite."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            echo=echo,
            # Statement parameters hold names and answers: keep them out of errors and logs.
            hide_parameters=True,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            # Connections are kept open and reused (one at a time per thread): opening one
            # per transaction costs the PRAGMAs, and closing the last one checkpoints the
            # WAL every time, which capped sign-ups at ~40/s (tests/bench/bench_signup.py).
            poolclass=QueuePool if ":memory:" not in url else None,
            **({"pool_size": 8, "max_overflow": 56} if ":memory:" not in url else {}),
        )
        _tune_sqlite(engine)
        return engine
    return create_engine(
        url,
        echo=echo,
        hide_parameters=True,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        connect_args={"connect_timeout": 5} if url.startswith("postgresql") else {},
    )


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself so that we can choose BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Erased personal data must not linger in free pages (RODO erasure).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Every transaction takes the write lock up front: read-then-write rules
        # (seat allocation, claiming sends) would otherwise race and fail with
        # "database is locked" on upgrade instead of waiting for the busy timeout.
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")


def is_sqlite(engine: Engine) -> bool:
    """Whether the engine talks to SQLite."""
    return engine.dialect.name == "sqlite"


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session whose work commits together or not at all."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def read_only(engine: Engine) -> Iterator[Session]:
    """A session for reads: on SQLite a deferred transaction, so readers never queue."""
    if is_sqlite(engine):
        with engine.connect() as conn:
            conn = conn.execution_options(sqlite_begin="DEFERRED")
            with Session(bind=conn, expire_on_commit=False) as session:
                try:
                    yield session
                finally:
                    # Detach first: a rollback would expire what was read, and callers
                    # use the loaded objects after the session is gone.
                    session.expunge_all()
                    session.rollback()
        return
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
        finally:
            session.expunge_all()
            session.rollback()
