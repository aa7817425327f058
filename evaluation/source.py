"""Where reports read from: a read-only, consistent snapshot, and calendar periods as SQL.

Reports never modify data. Every read runs in one transaction that the database itself
refuses to write in (`PRAGMA query_only` on SQLite, `SET TRANSACTION READ ONLY` on
PostgreSQL), and that sees one snapshot, so the indicators of one report agree with
each other even while people keep signing up.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Executable, case, literal
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Mapped
from sqlmodel import Session

from storage.db import is_sqlite, make_engine

# A model's datetime column (`col(Activity.starts_at)`) or any SQL expression of time.
TimeColumn = ColumnElement[datetime] | Mapped[datetime] | Mapped[datetime | None]


def read_only_engine(url: str) -> Engine:
    """An engine for reports that cannot create or change the database file.

    SQLite files are opened with `mode=ro`, so a mistyped path is an error rather than
    a new empty database.
    """
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
        path = parsed.database
        return make_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    return make_engine(url)


@contextmanager
def report_session(engine: Engine) -> Iterator[Session]:
    """A session on one read-only snapshot; nothing done through it can be written."""
    with engine.connect() as conn:
        if is_sqlite(engine):
            # A deferred transaction takes no write lock: reports never queue sign-ups.
            conn = conn.execution_options(sqlite_begin="DEFERRED")
            conn.exec_driver_sql("PRAGMA query_only = ON")
            try:
                with Session(bind=conn, expire_on_commit=False) as session:
                    try:
                        yield session
                    finally:
                        session.rollback()
            finally:
                # In-memory databases share one connection; give it back writable.
                conn.exec_driver_sql("PRAGMA query_only = OFF")
            return
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with Session(bind=conn, expire_on_commit=False) as session:
            session.connection().exec_driver_sql("SET TRANSACTION READ ONLY")
            try:
                yield session
            finally:
                session.rollback()


def fetch(session: Session, statement: Executable) -> Iterator[tuple[Any, ...]]:
    """Run a Core statement on the session's read-only connection; rows unpack as tuples."""
    # Rows are not objects: no identity map, so hundreds of thousands of answers stream
    # through in constant memory.
    return cast(Iterator[tuple[Any, ...]], iter(session.connection().execute(statement)))


@dataclass(frozen=True)
class Periods:
    """Consecutive local calendar periods (years or months) and their UTC start instants."""

    labels: tuple[str, ...]
    starts: tuple[datetime, ...]
    end: datetime

    def bucket(self, column: TimeColumn) -> ColumnElement[str]:
        """SQL that maps an instant in the range to its period label (portable CASE)."""
        whens = [
            (column < start, label)
            for label, start in zip(self.labels[:-1], self.starts[1:], strict=True)
        ]
        if not whens:
            return literal(self.labels[0])
        return case(*whens, else_=self.labels[-1])

    def label_of(self, moment: datetime) -> str | None:
        """The period label of one instant, or None outside the range."""
        if moment < self.starts[0] or moment >= self.end:
            return None
        index = sum(1 for start in self.starts if start <= moment) - 1
        return self.labels[index]


def _local_start(year: int, month: int, zone: ZoneInfo) -> datetime:
    return datetime(year, month, 1, tzinfo=zone).astimezone(UTC)


def years_between(first: int, last: int, zone: ZoneInfo) -> Periods:
    """Every calendar year from `first` to `last` inclusive, in local time."""
    years = range(first, last + 1)
    return Periods(
        tuple(str(y) for y in years),
        tuple(_local_start(y, 1, zone) for y in years),
        _local_start(last + 1, 1, zone),
    )


def months_of(years: Sequence[str], zone: ZoneInfo) -> Periods:
    """Every month of the given consecutive years, labelled `YYYY-MM`."""
    first, last = int(years[0]), int(years[-1])
    labels, starts = [], []
    for year in range(first, last + 1):
        for month in range(1, 13):
            labels.append(f"{year}-{month:02d}")
            starts.append(_local_start(year, month, zone))
    return Periods(tuple(labels), tuple(starts), _local_start(last + 1, 1, zone))


def local_year(moment: datetime, zone: ZoneInfo) -> int:
    """The calendar year of an instant in local time."""
    return moment.astimezone(zone).year
