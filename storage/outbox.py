"""Creating and withdrawing pending sends. Claiming and sending live in schedules/."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage.models import PendingSend, SendKind, SendState


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
        existing = session.exec(select(PendingSend).where(PendingSend.dedupe_key == dedupe_key)).first()
        if existing is not None:
            if existing.state in (SendState.PENDING, SendState.CLAIMED):
                if existing.state == SendState.PENDING:
                    existing.due_at = due_at
                    if payload is not None:
                        existing.payload = dict(payload)
                    session.add(existing)
                return existing
            if existing.state == SendState.SENT:
                return None
            # Cancelled or dropped earlier and wanted again: revive it.
            existing.state = SendState.PENDING
            existing.due_at = due_at
            existing.attempts = 0
            existing.last_error = None
            if payload is not None:
                existing.payload = dict(payload)
            session.add(existing)
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
    return send


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
    result = session.exec(  # type: ignore[call-overload]
        update(PendingSend).where(*conditions).values(state=SendState.CANCELLED.value)
    )
    return int(result.rowcount or 0)
