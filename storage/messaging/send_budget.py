"""The send budget every process of a deployment shares, kept in PostgreSQL.

Telegram counts a bot's messages, not a process's. So the processes on one database
take their send slots from one row (`SendBudget`): a slot is an instant at which one
message may go, handed out in order and spaced by the rate (the GCRA rule: the row holds
the next free instant). A process reserves a few slots at a time, at most `horizon`
seconds ahead, and sends each at its instant; a process that dies loses only those few
reserved slots, so there is no share to hand back. Replies are charged afterwards as
`debt` (they never wait for this row). A 429 stores `paused_until` for every process.

Replies that find no slot at hand go at once; each process keeps those under its share
of Telegram's limit, split among the live processes (`SendBudgetMember`, a heartbeat a
second), so a burst of replies spread over all processes stays within it too, and a
process that dies hands its share to the others within a few seconds.

Per-chat spacing across processes: before a bulk send, its chat is held in
`SendChatHold` (an atomic test-and-set); replies hold the chat for bulk sends and wait
for a bulk send's hold. Instants are seconds since the epoch on the database's clock.

This module decides nothing about rates or priorities: schedules.pacing owns pacing
and passes the numbers in.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, SQLModel

from storage.db import transaction
from storage.models.budget import BUDGET_ROW, SendBudget, SendBudgetMember, SendChatHold

P = ParamSpec("P")
T = TypeVar("T")

BUDGET: Table = SQLModel.metadata.tables[SendBudget.__tablename__]  # type: ignore[index]
HOLDS: Table = SQLModel.metadata.tables[SendChatHold.__tablename__]  # type: ignore[index]
MEMBERS: Table = SQLModel.metadata.tables[SendBudgetMember.__tablename__]  # type: ignore[index]
# Chat holds older than this are deleted (they hold nothing any more).
HOLD_CLEANUP_SECONDS = 30.0


@dataclass(frozen=True)
class Grant:
    """Slots taken from the budget, and what every process should know now."""

    slots: tuple[float, ...]  # instants, in order, one message each
    now: float  # the database's clock when the slots were taken
    paused_until: float
    # The last slot handed to any bulk send: bulk sending is going on while it is recent.
    last_bulk_slot: float
    # The first instant the budget could give this lane another slot.
    next_free: float


def _db_now(conn: Connection) -> float:
    return float(conn.execute(select(func.extract("epoch", func.clock_timestamp()))).scalar_one())


def ensure_budget(session: Session) -> None:
    """Create the budget row if this is the first process on the database."""
    session.connection().execute(
        insert(BUDGET)
        .values(
            id=BUDGET_ROW,
            next_slot=0.0,
            next_broadcast_slot=0.0,
            paused_until=0.0,
            last_bulk_slot=0.0,
        )
        .on_conflict_do_nothing()
    )


def take_slots(
    session: Session,
    *,
    count: int,
    interval: float,
    broadcast_interval: float | None = None,
    horizon: float,
    debt: int = 0,
    tolerance: float = 0.0,
    credit: int = 0,
) -> Grant:
    """Take up to `count` slots no further than `horizon` s ahead; charge `debt` replies.

    Every message uses up `interval` of the budget; announcements
    (`broadcast_interval` given) are also spaced by their own, longer interval. Slots
    never start before a pause ends; one may start up to `tolerance` s before its turn
    (the burst a slower lane leaves room for). `credit` announcement slots this process
    gave to replies are handed back to the announcements' own rate. Fewer (or no) slots
    come back when the budget is taken up to the horizon by other processes.
    """
    conn = session.connection()
    b = BUDGET.c
    row = conn.execute(
        select(
            b.next_slot,
            b.next_broadcast_slot,
            b.paused_until,
            b.last_bulk_slot,
            func.extract("epoch", func.clock_timestamp()),
        )
        .where(b.id == BUDGET_ROW)
        .with_for_update()
    ).one()
    next_slot, next_broadcast, paused_until, last_bulk, now = (float(value) for value in row)
    # Replies already sent used up slots: the next bulk send moves back by as many.
    charged = max(next_slot, now) + debt * interval if debt else next_slot
    broadcast = broadcast_interval is not None
    # Announcement slots a process gave to replies are given back to the announcements'
    # own rate (the replies used up the overall slots, as they should).
    tat, tat_broadcast = charged, next_broadcast - credit * (broadcast_interval or 0.0)

    def earliest() -> float:
        # GCRA: a slot conforms from `tolerance` before the theoretical time, so one
        # reply between two announcement slots takes the room the lower announcement
        # rate leaves instead of pushing the announcement back.
        start = max(tat - tolerance, now, paused_until)
        return max(start, tat_broadcast) if broadcast else start

    slots: list[float] = []
    while len(slots) < count and (slot := earliest()) <= now + horizon:
        slots.append(slot)
        tat = max(tat, slot) + interval
        if broadcast_interval is not None:
            tat_broadcast = slot + broadcast_interval
    values: dict[str, float] = {"next_slot": tat}
    if slots:
        values["last_bulk_slot"] = last_bulk = slots[-1]
        if broadcast:
            values["next_broadcast_slot"] = tat_broadcast
    if slots or debt or credit:
        values.setdefault("next_broadcast_slot", tat_broadcast)
        conn.execute(update(BUDGET).where(b.id == BUDGET_ROW).values(**values))
    next_free = earliest()
    return Grant(
        slots=tuple(slots),
        now=now,
        paused_until=paused_until,
        last_bulk_slot=last_bulk,
        next_free=next_free,
    )


def pause_all(session: Session, *, seconds: float) -> float:
    """Hold every process's bulk sends for `seconds` (Telegram said 429); returns the end."""
    conn = session.connection()
    until = _db_now(conn) + seconds
    conn.execute(
        update(BUDGET)
        .where(BUDGET.c.id == BUDGET_ROW)
        .values(paused_until=func.greatest(BUDGET.c.paused_until, until))
    )
    return until


def hold_chat(session: Session, *, chat_id: int, seconds: float, bulk: bool) -> float:
    """Hold a chat for the next `seconds`; 0 if held now, else seconds until it is free.

    A bulk send holds the chat only if nothing holds it; a reply holds it unless a bulk
    send does (replies to one chat do not wait for each other).
    """
    conn = session.connection()
    now = _db_now(conn)
    table = HOLDS
    free = table.c.until <= now
    if not bulk:
        free = free | table.c.bulk.is_(False)
    statement = (
        insert(HOLDS)
        .values(chat_id=chat_id, until=now + seconds, bulk=bulk)
        .on_conflict_do_update(
            index_elements=[table.c.chat_id],
            set_={
                "until": func.greatest(table.c.until, now + seconds) if not bulk else now + seconds,
                "bulk": bulk,
            },
            where=free,
        )
        .returning(table.c.chat_id)
    )
    if conn.execute(statement).first() is not None:
        return 0.0
    until = conn.execute(select(HOLDS.c.until).where(HOLDS.c.chat_id == chat_id)).scalar()
    return max(float(until) - now, 0.0) if until is not None else 0.0


@dataclass(frozen=True)
class Members:
    """What a heartbeat learns."""

    live: int  # processes alive lately, this one included
    now: float  # the database's clock
    last_bulk_slot: float  # bulk sending goes on while this is recent
    # The oldest latest heartbeat among the other live processes (inf when alone): each
    # of them has counted every process that joined before it.
    others_seen_since: float


def heartbeat(session: Session, *, worker: str, alive_within: float) -> Members:
    """Say this process is alive; learn how many are, and whether bulk sends are going."""
    conn = session.connection()
    now = _db_now(conn)
    conn.execute(
        insert(MEMBERS)
        .values(worker=worker, seen_at=now)
        .on_conflict_do_update(index_elements=[MEMBERS.c.worker], set_={"seen_at": now})
    )
    conn.execute(delete(MEMBERS).where(MEMBERS.c.seen_at < now - 60 * alive_within))
    live, others_seen = conn.execute(
        select(func.count(), func.min(MEMBERS.c.seen_at).filter(MEMBERS.c.worker != worker)).where(
            MEMBERS.c.seen_at >= now - alive_within
        )
    ).one()
    last_bulk = conn.execute(
        select(BUDGET.c.last_bulk_slot).where(BUDGET.c.id == BUDGET_ROW)
    ).scalar()
    return Members(
        live=max(int(live), 1),
        now=now,
        last_bulk_slot=float(last_bulk or 0.0),
        others_seen_since=math.inf if others_seen is None else float(others_seen),
    )


def leave(session: Session, *, worker: str) -> None:
    """This process stops: its share goes to the others at once."""
    session.connection().execute(delete(MEMBERS).where(MEMBERS.c.worker == worker))


def forget_old_holds(session: Session) -> int:
    """Delete chat holds that lapsed long ago; returns how many."""
    conn = session.connection()
    cutoff = _db_now(conn) - HOLD_CLEANUP_SECONDS
    return int(conn.execute(delete(HOLDS).where(HOLDS.c.until < cutoff)).rowcount or 0)


class BudgetStore:
    """The budget's statements run off the event loop on their own connection.

    Its own small engine and thread keep these short statements from queueing behind
    the handlers' database work.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="budget")

    async def run(
        self, fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `fn(session, …)` in one transaction."""

        def call() -> T:
            with transaction(self.engine) as session:
                return fn(session, *args, **kwargs)

        return await asyncio.get_running_loop().run_in_executor(self._pool, call)

    def close(self) -> None:
        """Release the connections and the threads."""
        self._pool.shutdown(wait=False)
        self.engine.dispose()
