"""Every row of every table, to show that a refused action changed nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

# The shared send budget's bookkeeping (PostgreSQL): every process's heartbeat and slot
# use change it in the background, whatever anyone taps.
_BOOKKEEPING = frozenset({"sendbudget", "sendbudgetmember", "sendchathold"})


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (but the send budget's bookkeeping), in primary-key order."""
    with Session(engine) as session:
        return {
            table.name: [
                tuple(row)
                for row in session.execute(
                    table.select().order_by(*table.primary_key.columns)
                ).all()
            ]
            for table in SQLModel.metadata.sorted_tables
            if table.name not in _BOOKKEEPING
        }
