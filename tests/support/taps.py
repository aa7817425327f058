"""Counting what one tap costs the database: statements, transactions, thread hops."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from bot.context import PalApplication, Services


@dataclass
class TapCost:
    """What the updates processed inside `measure()` cost."""

    statements: int = 0
    transactions: int = 0
    hops: int = 0
    sql: list[str] = field(default_factory=list)


class _CountingPool(ThreadPoolExecutor):
    """The executor's pool, counting every job handed to it (one per thread hop)."""

    def __init__(self, inner: ThreadPoolExecutor, cost: TapCost) -> None:
        self._inner = inner
        self._cost = cost

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        self._cost.hops += 1
        return self._inner.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._inner.shutdown(wait=wait, cancel_futures=cancel_futures)


@contextmanager
def measure(app: PalApplication) -> Iterator[TapCost]:
    """Count SQL statements (`before_cursor_execute`), transactions (`begin`) and hops."""
    services: Services = app.bot_data["services"]
    database = services.db
    engine: Engine = database.engine
    cost = TapCost()

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        cost.statements += 1
        cost.sql.append(statement.split("\n")[0][:120])

    def on_begin(_conn: Any) -> None:
        cost.transactions += 1

    pool = database._pool
    database._pool = _CountingPool(pool, cost)
    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "begin", on_begin)
    try:
        yield cost
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine, "begin", on_begin)
        database._pool = pool
