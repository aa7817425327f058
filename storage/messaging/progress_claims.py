"""Which process edits a broadcast's progress message: a lease on the Broadcast row.

Every process watches the running broadcasts; the one holding the lease edits the
author's progress message, renewing it on each tick. When that process stops or dies
another takes over once the lease lapses (at once if the owner is known to be dead),
and keeps going until the delivery report has been shown (`reported_at`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage.models import Broadcast


def claim_progress(
    session: Session,
    *,
    broadcast_id: int,
    worker: str,
    now: datetime,
    lease: timedelta,
    is_dead: Callable[[str], bool] = lambda _worker: False,
) -> bool:
    """Take or renew the lease on editing the progress; False if another process holds it."""
    row = session.exec(
        select(Broadcast.progress_owner, Broadcast.progress_lease_until).where(
            col(Broadcast.id) == broadcast_id
        )
    ).first()
    if row is None:
        return False
    owner, until = row
    held_elsewhere = owner is not None and owner != worker
    if held_elsewhere and until is not None and until > now and not is_dead(owner or ""):
        return False
    same_owner = (
        col(Broadcast.progress_owner).is_(None)
        if owner is None
        else col(Broadcast.progress_owner) == owner
    )
    # Compare-and-set on the owner seen: of two processes taking over, one wins.
    result = session.exec(
        update(Broadcast)
        .where(col(Broadcast.id) == broadcast_id, same_owner)
        .values(progress_owner=worker, progress_lease_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def mark_reported(session: Session, *, broadcast_id: int, worker: str, now: datetime) -> bool:
    """Record that the delivery report is in the author's chat; nobody edits it again."""
    result = session.exec(
        update(Broadcast)
        .where(col(Broadcast.id) == broadcast_id, col(Broadcast.reported_at).is_(None))
        .values(reported_at=now, progress_owner=worker, progress_lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)
