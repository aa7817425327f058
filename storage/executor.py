"""Run database work off the event loop, in arrival order, with clear failure modes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session

from storage.db import DatabaseUnavailable, is_sqlite, read_only, transaction

P = ParamSpec("P")
T = TypeVar("T")
log = logging.getLogger(__name__)


class Database:
    """The engine plus a worker pool; every handler's database work goes through here.

    On SQLite one worker runs transactions in the order updates arrive: SQLite has a
    single writer anyway, and a FIFO keeps the reserve list in arrival order. On
    PostgreSQL several workers run in parallel and row locks keep the rules safe.
    """

    def __init__(self, engine: Engine, workers: int = 0) -> None:
        self.engine = engine
        count = workers or (1 if is_sqlite(engine) else 8)
        self._pool = ThreadPoolExecutor(max_workers=count, thread_name_prefix="db")

    def _run_write(self, fn: Callable[Concatenate[Session, P], T], *a: P.args, **k: P.kwargs) -> T:
        try:
            with transaction(self.engine) as session:
                return fn(session, *a, **k)
        except OperationalError as exc:
            if _is_connection_problem(exc):
                raise DatabaseUnavailable(type(exc.orig).__name__) from exc
            raise

    def _run_read(self, fn: Callable[Concatenate[Session, P], T], *a: P.args, **k: P.kwargs) -> T:
        try:
            with read_only(self.engine) as session:
                return fn(session, *a, **k)
        except OperationalError as exc:
            if _is_connection_problem(exc):
                raise DatabaseUnavailable(type(exc.orig).__name__) from exc
            raise

    async def write(
        self, fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `fn(session, …)` in one transaction that commits when it returns."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: self._run_write(fn, *args, **kwargs))

    async def read(
        self, fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `fn(session, …)` for reading only; nothing it changes is kept."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: self._run_read(fn, *args, **kwargs))

    def close(self) -> None:
        """Stop the workers and release connections."""
        self._pool.shutdown(wait=True)
        self.engine.dispose()


def _is_connection_problem(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower()
    if exc.connection_invalidated:
        return True
    markers = (
        "could not connect",
        "connection refused",
        "server closed",
        "terminating connection",
        "connection timed out",
        "connection is closed",
        "unable to open database",
        # psycopg 3's ConnectionTimeout, a reset or half-open link, a server restarting,
        # SQLite's single writer busy past the timeout: all pass in a moment.
        "timeout expired",
        "connection reset",
        "could not receive data",
        "consuming input failed",
        "the database system is",
        "database is locked",
    )
    return any(marker in text for marker in markers)
