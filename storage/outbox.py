"""Pending sends: creating and withdrawing them, and the claim that lets exactly one
dispatcher send each. The dispatcher itself lives in schedules/dispatcher.py.

The life of a row: `pending` → `claimed` (one short transaction, by one worker) →
`sent`, or back to `pending` with a later due time, or `failed`, `dropped`,
`cancelled`. Only `pending` rows are ever claimed, and every later change checks
that the row is still claimed by the same worker, so two processes never both send it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, func, insert, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, or_, select

from storage.models import PendingSend, SendKind, SendState
from storage.people import mark_unreachable, person_by_telegram_id
from storage.types import utcnow

log = logging.getLogger(__name__)

# After this many failed attempts a send is given up as `failed`.
MAX_ATTEMPTS = 5
# `last_error` of sends that stopped because the person blocked the bot.
UNREACHABLE = "unreachable"


def enqueue(
    session: Session,
    *,
    kind: SendKind,
    person_id: int | None,
    due_at: datetime,
    activity_id: int | None = None,
    registration_id: int | None = None,
    broadcast_id: int | None = None,
    programme_id: int | None = None,
    payload: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> PendingSend | None:
    """Add a message due at `due_at`; with a dedupe_key an existing live row is reused.

    Returns the pending row, or None if the same dedupe_key was already sent.
    """
    if dedupe_key is not None:
        existing = session.exec(
            select(PendingSend).where(PendingSend.dedupe_key == dedupe_key)
        ).first()
        if existing is not None:
            if existing.state in (SendState.PENDING, SendState.CLAIMED):
                if existing.state == SendState.PENDING:
                    existing.due_at = due_at
                    if payload is not None:
                        existing.payload = dict(payload)
                    session.add(existing)
                    _note_enqueued(session, due_at)
                return existing
            if existing.state == SendState.SENT:
                return None
            # Cancelled or dropped earlier and wanted again: revive it.
            existing.state = SendState.PENDING
            existing.due_at = due_at
            existing.attempts = 0
            existing.last_error = None
            existing.claimed_by = None
            existing.claimed_at = None
            if payload is not None:
                existing.payload = dict(payload)
            session.add(existing)
            _note_enqueued(session, due_at)
            return existing
    send = PendingSend(
        kind=kind.value,
        person_id=person_id,
        due_at=due_at,
        activity_id=activity_id,
        registration_id=registration_id,
        broadcast_id=broadcast_id,
        programme_id=programme_id,
        payload=dict(payload or {}),
        dedupe_key=dedupe_key,
    )
    session.add(send)
    session.flush()
    _note_enqueued(session, due_at)
    return send


@dataclass(frozen=True)
class NewSend:
    """One send for `enqueue_many`: the same fields `enqueue` takes."""

    kind: SendKind
    person_id: int | None
    due_at: datetime
    activity_id: int | None = None
    registration_id: int | None = None
    broadcast_id: int | None = None
    programme_id: int | None = None
    payload: dict[str, Any] | None = None
    dedupe_key: str | None = None


def enqueue_many(session: Session, sends: Sequence[NewSend]) -> int:
    """Add many sends at once (an announcement to a whole programme); returns how many.

    The same rules as `enqueue`, but new rows go in with one multi-row INSERT instead of
    a query and a flush each: 5,000 copies take a fraction of a second, not the seconds
    that would hold every other database call of the bot behind them. Keys that already
    exist are handed to `enqueue` one by one.
    """
    if not sends:
        return 0
    keys = [s.dedupe_key for s in sends if s.dedupe_key is not None]
    existing: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        existing.update(
            key for key in session.exec(
                select(PendingSend.dedupe_key).where(col(PendingSend.dedupe_key).in_(chunk))
            ) if key is not None
        )
    added = 0
    rows: list[dict[str, Any]] = []
    now = utcnow()
    for send in sends:
        if send.dedupe_key is not None and send.dedupe_key in existing:
            added += enqueue(session, kind=send.kind, person_id=send.person_id,
                             due_at=send.due_at, activity_id=send.activity_id,
                             registration_id=send.registration_id,
                             broadcast_id=send.broadcast_id, programme_id=send.programme_id,
                             payload=send.payload, dedupe_key=send.dedupe_key) is not None
            continue
        rows.append({
            "kind": send.kind.value, "person_id": send.person_id, "due_at": send.due_at,
            "activity_id": send.activity_id, "registration_id": send.registration_id,
            "broadcast_id": send.broadcast_id, "programme_id": send.programme_id,
            "state": SendState.PENDING.value, "attempts": 0,
            "payload": dict(send.payload or {}), "dedupe_key": send.dedupe_key,
            "created_at": now,
        })
    if rows:
        session.flush()
        # Core executemany on the session's own connection and transaction.
        session.connection().execute(insert(PendingSend), rows)
        _note_enqueued(session, min(row["due_at"] for row in rows))
    return added + len(rows)


def cancel_pending(
    session: Session,
    *,
    person_id: int | None = None,
    registration_id: int | None = None,
    activity_id: int | None = None,
    broadcast_id: int | None = None,
    kinds: Iterable[SendKind] | None = None,
) -> int:
    """Withdraw not-yet-claimed sends matching every given filter; returns how many."""
    conditions = [col(PendingSend.state) == SendState.PENDING.value]
    if person_id is not None:
        conditions.append(col(PendingSend.person_id) == person_id)
    if registration_id is not None:
        conditions.append(col(PendingSend.registration_id) == registration_id)
    if activity_id is not None:
        conditions.append(col(PendingSend.activity_id) == activity_id)
    if broadcast_id is not None:
        conditions.append(col(PendingSend.broadcast_id) == broadcast_id)
    if kinds is not None:
        conditions.append(col(PendingSend.kind).in_([k.value for k in kinds]))
    if len(conditions) == 1:
        raise ValueError("cancel_pending needs at least one filter")
    result = session.exec(
        update(PendingSend).where(*conditions).values(state=SendState.CANCELLED.value)
    )
    return int(result.rowcount or 0)


# --- telling the dispatcher -------------------------------------------------------------

EnqueueListener = Callable[[datetime], None]
_listeners: list[EnqueueListener] = []
_listeners_lock = threading.Lock()
_INFO_KEY = "palbot_outbox_earliest_due"


def add_enqueue_listener(listener: EnqueueListener) -> Callable[[], None]:
    """Call `listener(due_at)` after each commit that created or moved pending sends.

    It runs in the committing thread with the earliest due time of that transaction;
    the dispatcher uses it to send "right now" messages without waiting for its timer.
    Returns a function that removes the listener.
    """
    with _listeners_lock:
        _listeners.append(listener)

    def remove() -> None:
        with _listeners_lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return remove


def _note_enqueued(session: Session, due_at: datetime) -> None:
    if not _listeners:
        return
    info = session.info
    if _INFO_KEY not in info:
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_soft_rollback", _after_rollback)
        info[_INFO_KEY] = due_at
    elif info[_INFO_KEY] is None or due_at < info[_INFO_KEY]:
        info[_INFO_KEY] = due_at


def _after_commit(session: Session) -> None:
    due_at = session.info.get(_INFO_KEY)
    session.info[_INFO_KEY] = None
    if due_at is None:
        return
    with _listeners_lock:
        listeners = list(_listeners)
    for listener in listeners:
        try:
            listener(due_at)
        except Exception:  # a listener must never undo a committed transaction's caller
            log.exception("outbox enqueue listener failed")


def _after_rollback(session: Session, _previous: object) -> None:
    session.info[_INFO_KEY] = None


# --- claiming and finishing ---------------------------------------------------------------


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
            for name, value in (("state", SendState.CLAIMED.value), ("claimed_by", worker),
                                ("claimed_at", now)):
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
    return _finish(session, send_id, worker, state=SendState.SENT.value, sent_at=now,
                   telegram_message_id=message_id, last_error=None)


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
        return _finish(session, send_id, worker, state=SendState.FAILED.value, attempts=tried,
                       last_error=error[:200])
    return _finish(session, send_id, worker, state=SendState.PENDING.value, attempts=tried,
                   due_at=due_at, claimed_by=None, claimed_at=None, last_error=error[:200])


def retry_delay(attempts: int) -> timedelta:
    """How long a send that failed `attempts` times waits: 30 s, 1 min, 2 min… up to 30 min."""
    delay: timedelta = timedelta(seconds=30) * 2 ** max(attempts - 1, 0)
    return min(delay, timedelta(minutes=30))


def mark_failed(session: Session, *, send_id: int, worker: str, error: str) -> bool:
    """Give up on a claimed send."""
    return _finish(session, send_id, worker, state=SendState.FAILED.value, last_error=error[:200])


def mark_dropped(session: Session, *, send_id: int, worker: str, reason: str) -> bool:
    """Retire a claimed send that is no longer relevant (activity gone, person erased…)."""
    return _finish(session, send_id, worker, state=SendState.DROPPED.value,
                   last_error=reason[:200])


def hold_until(session: Session, *, send_id: int, worker: str, due_at: datetime) -> bool:
    """Put a claimed send back unsent, due later (quiet hours); not a failed attempt."""
    return _finish(session, send_id, worker, state=SendState.PENDING.value, due_at=due_at,
                   claimed_by=None, claimed_at=None)


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
                .where(col(PendingSend.id).in_(chunk),
                       col(PendingSend.state) == SendState.CLAIMED.value)
                .values(state=SendState.PENDING.value, claimed_by=None, claimed_at=None,
                        attempts=col(PendingSend.attempts) + 1,
                        last_error="claim of a stopped worker released")
                .returning(col(PendingSend.id))
                .execution_options(synchronize_session=False)
            ).scalars()
        )
    if released:
        log.warning("released %d sends claimed by stopped workers: ids=%s",
                    len(released), released[:20])
    return released


def _chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# --- people who blocked the bot -----------------------------------------------------------


def person_blocked_bot(session: Session, *, telegram_id: int, now: datetime) -> int | None:
    """Mark the person unreachable and withdraw their pending sends.

    Withdrawn sends keep `last_error = UNREACHABLE`, so delivery reports count them as
    "blocked the bot". Returns the person's id, or None if nobody has that Telegram id.
    """
    person = person_by_telegram_id(session, telegram_id)
    if person is None or person.id is None:
        return None
    mark_unreachable(session, telegram_id=telegram_id, now=now)
    result = session.exec(
        update(PendingSend)
        .where(col(PendingSend.person_id) == person.id,
               col(PendingSend.state) == SendState.PENDING.value)
        .values(state=SendState.CANCELLED.value, last_error=UNREACHABLE)
        .execution_options(synchronize_session=False)
    )
    log.info("person %s blocked the bot; %d pending sends withdrawn", person.id, result.rowcount)
    return person.id


def person_is_back(session: Session, *, telegram_id: int) -> bool:
    """Clear the unreachable mark once the person unblocks or writes to the bot again."""
    person = person_by_telegram_id(session, telegram_id)
    if person is None or person.unreachable_at is None:
        return False
    person.unreachable_at = None
    session.add(person)
    return True
