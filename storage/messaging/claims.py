"""Claiming pending sends so exactly one dispatcher sends each, and finishing them.

The life of a row: `pending` → `claimed` (one short transaction, by one worker) →
`sent`, or back to `pending` with a later due time, or `failed` or `dropped`. Only
`pending` rows are ever claimed, and every later change checks that the row is still
claimed by the same worker, so two processes never both send it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, or_, select

from storage.models import PendingSend, SendState

log = logging.getLogger(__name__)

# After this many failed attempts a send is given up as `failed`.
MAX_ATTEMPTS = 5


def next_due_at(session: Session) -> datetime | None:
    """The earliest due time of any pending send, if there is one."""
    return session.exec(
        select(func.min(PendingSend.due_at)).where(
            col(PendingSend.state) == SendState.PENDING.value
        )
    ).one()


def claim_due(
    session: Session,
    *,
    worker: str,
    now: datetime,
    limit: int,
    busy_people: Iterable[int] = (),
) -> list[PendingSend]:
    """Claim up to `limit` due sends for `worker`, at most one per person.

    On PostgreSQL the candidate rows are locked with FOR UPDATE SKIP LOCKED, so
    concurrent claimers take different rows without waiting; on SQLite the transaction
    already holds the write lock (BEGIN IMMEDIATE). Either way the state change is a
    conditional UPDATE on `state = 'pending'`, so a row is claimed once or not at all.
    `busy_people` are people this worker is already sending to (one chat, one send).
    """
    if limit <= 0:
        return []
    busy = set(busy_people)
    query = (
        select(PendingSend)
        .where(col(PendingSend.state) == SendState.PENDING.value, col(PendingSend.due_at) <= now)
        .order_by(col(PendingSend.due_at), col(PendingSend.id))
        # Exactly `limit` rows: every row read here is locked until commit, and rows
        # locked but not claimed would only hold up another worker.
        .limit(limit)
    )
    if busy:
        query = query.where(
            or_(col(PendingSend.person_id).is_(None), col(PendingSend.person_id).not_in(busy))
        )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    chosen: list[PendingSend] = []
    people: set[int] = set(busy)
    for row in session.exec(query):
        if row.person_id is not None:
            if row.person_id in people:
                continue
            people.add(row.person_id)
        chosen.append(row)
        if len(chosen) == limit:
            break
    if not chosen:
        return []
    ids = [row.id for row in chosen]
    claimed = set(
        session.exec(
            update(PendingSend)
            .where(col(PendingSend.id).in_(ids), col(PendingSend.state) == SendState.PENDING.value)
            .values(state=SendState.CLAIMED.value, claimed_by=worker, claimed_at=now)
            .returning(col(PendingSend.id))
            .execution_options(synchronize_session=False)
        ).scalars()
    )
    result = []
    for row in chosen:
        if row.id in claimed:
            # Keep the loaded objects in step with the row without another UPDATE.
            for name, value in (
                ("state", SendState.CLAIMED.value),
                ("claimed_by", worker),
                ("claimed_at", now),
            ):
                set_committed_value(row, name, value)
            result.append(row)
    return result


def _finish(session: Session, send_id: int, worker: str, **values: Any) -> bool:
    result = session.exec(
        update(PendingSend)
        .where(
            col(PendingSend.id) == send_id,
            col(PendingSend.state) == SendState.CLAIMED.value,
            col(PendingSend.claimed_by) == worker,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    done = bool(result.rowcount)
    if not done:
        # Our claim expired and was resolved by someone else; never overwrite their result.
        log.warning("send %s is no longer claimed by this worker", send_id)
    return done


def mark_sent(
    session: Session, *, send_id: int, worker: str, now: datetime, message_id: int | None
) -> bool:
    """Record that Telegram accepted the send."""
    return _finish(
        session,
        send_id,
        worker,
        state=SendState.SENT.value,
        sent_at=now,
        telegram_message_id=message_id,
        last_error=None,
    )


def mark_retry(
    session: Session,
    *,
    send_id: int,
    worker: str,
    attempts: int,
    due_at: datetime,
    error: str,
) -> bool:
    """Give a claimed send back for a later try, or fail it past MAX_ATTEMPTS.

    `attempts` is the row's attempt count when it was claimed.
    """
    tried = attempts + 1
    if tried >= MAX_ATTEMPTS:
        return _finish(
            session,
            send_id,
            worker,
            state=SendState.FAILED.value,
            attempts=tried,
            last_error=error[:200],
        )
    return _finish(
        session,
        send_id,
        worker,
        state=SendState.PENDING.value,
        attempts=tried,
        due_at=due_at,
        claimed_by=None,
        claimed_at=None,
        last_error=error[:200],
    )


def retry_delay(attempts: int) -> timedelta:
    """How long a send that failed `attempts` times waits: 30 s, 1 min, 2 min… up to 30 min."""
    delay: timedelta = timedelta(seconds=30) * 2 ** max(attempts - 1, 0)
    return min(delay, timedelta(minutes=30))


def mark_failed(session: Session, *, send_id: int, worker: str, error: str) -> bool:
    """Give up on a claimed send."""
    return _finish(session, send_id, worker, state=SendState.FAILED.value, last_error=error[:200])


def mark_dropped(session: Session, *, send_id: int, worker: str, reason: str) -> bool:
    """Retire a claimed send that is no longer relevant (activity gone, person erased…)."""
    return _finish(session, send_id, worker, state=SendState.DROPPED.value, last_error=reason[:200])


def hold_until(session: Session, *, send_id: int, worker: str, due_at: datetime) -> bool:
    """Put a claimed send back unsent, due later (quiet hours); not a failed attempt."""
    return _finish(
        session,
        send_id,
        worker,
        state=SendState.PENDING.value,
        due_at=due_at,
        claimed_by=None,
        claimed_at=None,
    )


def release_stale_claims(
    session: Session,
    *,
    now: datetime,
    lease: timedelta,
    is_dead: Callable[[str], bool] = lambda _worker: False,
) -> list[int]:
    """Give claims of crashed workers back to `pending`; returns the send ids.

    A claim is stale when its worker is known to be dead (`is_dead`) or it is older than
    `lease`: a live worker finishes a claim within seconds. The send may have reached
    Telegram just before the crash (the one window where a duplicate is possible); a
    claim only ever covers the moments around one API call, so that window is tiny.
    """
    query = select(PendingSend.id, PendingSend.claimed_by, PendingSend.claimed_at).where(
        col(PendingSend.state) == SendState.CLAIMED.value
    )
    stale: list[int] = []
    for send_id, claimed_by, claimed_at in session.exec(query):
        if send_id is None:
            continue
        expired = claimed_at is None or claimed_at <= now - lease
        if expired or is_dead(claimed_by or ""):
            stale.append(send_id)
    if not stale:
        return []
    released: list[int] = []
    for chunk in _chunks(stale, 500):
        released.extend(
            session.exec(
                update(PendingSend)
                .where(
                    col(PendingSend.id).in_(chunk),
                    col(PendingSend.state) == SendState.CLAIMED.value,
                )
                .values(
                    state=SendState.PENDING.value,
                    claimed_by=None,
                    claimed_at=None,
                    attempts=col(PendingSend.attempts) + 1,
                    last_error="claim of a stopped worker released",
                )
                .returning(col(PendingSend.id))
                .execution_options(synchronize_session=False)
            ).scalars()
        )
    if released:
        log.warning(
            "released %d sends claimed by stopped workers: ids=%s", len(released), released[:20]
        )
    return released


def _chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
