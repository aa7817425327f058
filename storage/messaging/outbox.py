"""Pending sends: creating and withdrawing them (the ONLY way to create future sends),
telling the dispatcher about new ones, and withdrawing everything for a person who
blocked the bot. Claiming and finishing sends live in storage/messaging/claims.py, the
dispatcher in schedules/dispatcher.py.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from storage.models import PendingSend, SendKind, SendState
from storage.people.onboarding import mark_unreachable, person_by_telegram_id
from storage.types import utcnow

log = logging.getLogger(__name__)

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
        chunk = keys[start : start + 500]
        existing.update(
            key
            for key in session.exec(
                select(PendingSend.dedupe_key).where(col(PendingSend.dedupe_key).in_(chunk))
            )
            if key is not None
        )
    added = 0
    rows: list[dict[str, Any]] = []
    now = utcnow()
    for send in sends:
        if send.dedupe_key is not None and send.dedupe_key in existing:
            added += (
                enqueue(
                    session,
                    kind=send.kind,
                    person_id=send.person_id,
                    due_at=send.due_at,
                    activity_id=send.activity_id,
                    registration_id=send.registration_id,
                    broadcast_id=send.broadcast_id,
                    programme_id=send.programme_id,
                    payload=send.payload,
                    dedupe_key=send.dedupe_key,
                )
                is not None
            )
            continue
        rows.append(
            {
                "kind": send.kind.value,
                "person_id": send.person_id,
                "due_at": send.due_at,
                "activity_id": send.activity_id,
                "registration_id": send.registration_id,
                "broadcast_id": send.broadcast_id,
                "programme_id": send.programme_id,
                "state": SendState.PENDING.value,
                "attempts": 0,
                "payload": dict(send.payload or {}),
                "dedupe_key": send.dedupe_key,
                "created_at": now,
            }
        )
    if rows:
        session.flush()
        # Core executemany on the session's own connection and transaction.
        session.connection().execute(insert(PendingSend), rows)
        _note_enqueued(session, min(row["due_at"] for row in rows))
    return added + len(rows)


def add_sends(session: Session, sends: Sequence[NewSend], *, revive: bool) -> int:
    """Add keyed sends with one statement; returns how many were handed to the database.

    The lean twin of `enqueue` for taps: a key that already exists is revived and moved
    (`revive=True`, as `enqueue` does, unless it was sent or is being sent) or left alone
    (`revive=False`). Every send must carry a dedupe key.
    """
    if not sends:
        return 0
    now = utcnow()
    rows = [
        {
            "kind": s.kind.value,
            "person_id": s.person_id,
            "due_at": s.due_at,
            "activity_id": s.activity_id,
            "registration_id": s.registration_id,
            "broadcast_id": s.broadcast_id,
            "programme_id": s.programme_id,
            "state": SendState.PENDING.value,
            "attempts": 0,
            "payload": dict(s.payload or {}),
            "dedupe_key": s.dedupe_key,
            "created_at": now,
        }
        for s in sends
    ]
    if any(row["dedupe_key"] is None for row in rows):
        raise ValueError("add_sends needs a dedupe key on every send")
    connection = session.connection()
    statement = _UPSERT[connection.dialect.name][revive]
    connection.execute(statement, rows)
    _note_enqueued(session, min(s.due_at for s in sends))
    return len(rows)


def _upserts(
    insert_of: Callable[[Any], Any],
) -> dict[bool, Any]:
    table = PendingSend.__table__  # type: ignore[attr-defined]
    revive = insert_of(table)
    return {
        True: revive.on_conflict_do_update(
            index_elements=[table.c.dedupe_key],
            set_={
                "state": SendState.PENDING.value,
                "due_at": revive.excluded.due_at,
                "payload": revive.excluded.payload,
                "attempts": 0,
                "last_error": None,
                "claimed_by": None,
                "claimed_at": None,
            },
            where=(table.c.state != SendState.SENT.value)
            & (table.c.state != SendState.CLAIMED.value),
        ),
        False: insert_of(table).on_conflict_do_nothing(index_elements=[table.c.dedupe_key]),
    }


# Built once per dialect: compiled once, then reused from SQLAlchemy's statement cache.
_UPSERT = {"sqlite": _upserts(sqlite.insert), "postgresql": _upserts(postgresql.insert)}


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
        .where(
            col(PendingSend.person_id) == person.id,
            col(PendingSend.state) == SendState.PENDING.value,
        )
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
