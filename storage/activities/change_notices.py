"""Changing or cancelling an activity, and telling everyone who is signed up.

`announce_activity_change` is the single entry point for "an activity changed": the
CLI calls it through `change_activity` / `cancel_activity` here, and the animator's
chat tools call it after editing an activity. It moves the reminders and queues one
change notice per person holding a place or on the reserve list; each notice is
written in the person's own language when it is sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Session, col, select

from storage.activities.listing import ActivityNotFound
from storage.activities.offers import offer_free_places, void_offers
from storage.audit import AuditAction, record
from storage.messaging.outbox import cancel_pending, enqueue
from storage.messaging.reminders import cancel_activity_reminders, move_reminders
from storage.models import (
    Activity,
    ActivityStatus,
    PendingSend,
    Registration,
    SendKind,
    SendState,
)
from storage.models.activities import ACTIVE_STATUSES

log = logging.getLogger(__name__)

__all__ = [
    "ActivityNotFound",
    "ChangeProblem",
    "InvalidChange",
    "announce_activity_change",
    "cancel_activity",
    "change_activity",
]


class ChangeProblem(StrEnum):
    """Why a change was refused."""

    CANCELLED = "cancelled"  # the activity is already cancelled
    STARTED = "started"  # it has begun; changing it now would confuse people on their way
    IN_PAST = "in_past"  # the new start is not in the future
    ENDS_BEFORE_START = "ends_before_start"
    NOTHING = "nothing"  # no field given, or every value is the current one
    EMPTY_VENUE = "empty_venue"


class InvalidChange(ValueError):
    """A change that cannot be made; `problem` says why."""

    def __init__(self, problem: ChangeProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


@dataclass(frozen=True)
class ChangeNotice:
    """What the notice payload says changed (the current values are read at send time)."""

    old_starts_at: datetime | None = None
    old_venue: str | None = None
    cancelled: bool = False

    def payload(self) -> dict[str, Any]:
        """The JSON payload of the pending send."""
        data: dict[str, Any] = {"cancelled": self.cancelled}
        if self.old_starts_at is not None:
            data["old_starts_at"] = self.old_starts_at.isoformat()
        if self.old_venue is not None:
            data["old_venue"] = self.old_venue
        return data

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> ChangeNotice:
        """Read a payload back."""
        raw = payload.get("old_starts_at")
        return cls(
            old_starts_at=datetime.fromisoformat(raw) if isinstance(raw, str) else None,
            old_venue=payload.get("old_venue")
            if isinstance(payload.get("old_venue"), str)
            else None,
            cancelled=bool(payload.get("cancelled")),
        )


def _notice_key(registration_id: int, now: datetime) -> str:
    return f"change:{registration_id}:{int(now.timestamp() * 1000)}"


def announce_activity_change(
    session: Session,
    *,
    activity_id: int,
    now: datetime,
    old_starts_at: datetime | None = None,
    old_venue: str | None = None,
    cancelled: bool = False,
) -> int:
    """Move reminders and queue change notices after an activity changed; returns how many.

    Call it in the transaction that changed the activity, with the values it had
    before. Notices still waiting from an earlier change are replaced by one notice
    that compares against the oldest values, so people read one clear message.
    """
    activity = session.get(Activity, activity_id)
    if activity is None:
        raise ActivityNotFound(activity_id)
    moved = old_starts_at is not None and old_starts_at != activity.starts_at
    relocated = old_venue is not None and old_venue != activity.venue
    if not (moved or relocated or cancelled):
        return 0
    if cancelled:
        cancel_activity_reminders(session, activity_id=activity_id)
        # A "the place is yours" notice not yet sent would only confuse: this one replaces it.
        cancel_pending(session, activity_id=activity_id, kinds=[SendKind.PROMOTION])
    elif moved:
        move_reminders(session, activity_id=activity_id, now=now)

    earlier = _withdraw_waiting_notices(session, activity_id)
    registrations = session.exec(
        select(Registration).where(
            Registration.activity_id == activity_id,
            col(Registration.status).in_([s.value for s in ACTIVE_STATUSES]),
        )
    ).all()
    count = 0
    for registration in registrations:
        assert registration.id is not None
        if moved and registration.confirmed_coming_at is not None:
            # "I'm coming" was said for the old time; the notice asks again.
            registration.confirmed_coming_at = None
            session.add(registration)
        before = earlier.get(registration.id, ChangeNotice())
        notice = ChangeNotice(
            old_starts_at=before.old_starts_at or (old_starts_at if moved else None),
            old_venue=before.old_venue or (old_venue if relocated else None),
            cancelled=cancelled,
        )
        enqueue(
            session,
            kind=SendKind.CHANGE,
            person_id=registration.person_id,
            due_at=now,
            activity_id=activity_id,
            registration_id=registration.id,
            programme_id=activity.programme_id,
            payload=notice.payload(),
            dedupe_key=_notice_key(registration.id, now),
        )
        count += 1
    log.info(
        "activity %s changed (moved=%s venue=%s cancelled=%s): %d notices",
        activity_id,
        moved,
        relocated,
        cancelled,
        count,
    )
    return count


def _withdraw_waiting_notices(session: Session, activity_id: int) -> dict[int, ChangeNotice]:
    waiting = session.exec(
        select(PendingSend).where(
            PendingSend.activity_id == activity_id,
            PendingSend.kind == SendKind.CHANGE.value,
            PendingSend.state == SendState.PENDING.value,
        )
    ).all()
    earlier = {
        send.registration_id: ChangeNotice.from_payload(send.payload)
        for send in waiting
        if send.registration_id is not None
    }
    cancel_pending(session, activity_id=activity_id, kinds=[SendKind.CHANGE])
    return earlier


def _changeable(session: Session, activity_id: int, now: datetime) -> Activity:
    activity = session.exec(
        select(Activity)
        .where(Activity.id == activity_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if activity is None:
        raise ActivityNotFound(activity_id)
    if activity.status == ActivityStatus.CANCELLED:
        raise InvalidChange(ChangeProblem.CANCELLED)
    if activity.starts_at <= now:
        raise InvalidChange(ChangeProblem.STARTED)
    return activity


def change_activity(
    session: Session,
    *,
    activity_id: int,
    now: datetime,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    venue: str | None = None,
    actor_id: int | None = None,
) -> int:
    """Move an activity and/or change its venue, then tell people; returns the notices.

    A new start without a new end keeps the activity's length.
    """
    activity = _changeable(session, activity_id, now)
    new_start = starts_at if starts_at is not None else activity.starts_at
    if ends_at is not None:
        new_end = ends_at
    else:
        new_end = activity.ends_at + (new_start - activity.starts_at)
    new_venue = activity.venue if venue is None else venue.strip()
    if not new_venue:
        raise InvalidChange(ChangeProblem.EMPTY_VENUE)
    if new_start <= now:
        raise InvalidChange(ChangeProblem.IN_PAST)
    if new_end <= new_start:
        raise InvalidChange(ChangeProblem.ENDS_BEFORE_START)
    changed = [
        name
        for name, old, new in (
            ("starts_at", activity.starts_at, new_start),
            ("ends_at", activity.ends_at, new_end),
            ("venue", activity.venue, new_venue),
        )
        if old != new
    ]
    if not changed:
        raise InvalidChange(ChangeProblem.NOTHING)
    old_start, old_venue = activity.starts_at, activity.venue
    activity.starts_at, activity.ends_at, activity.venue = new_start, new_end, new_venue
    activity.updated_at = now
    session.add(activity)
    session.flush()
    if "starts_at" in changed and void_offers(session, activity_id=activity_id, now=now):
        # The offers named the old time and their deadlines followed from it.
        offer_free_places(session, activity=activity, now=now)
    record(
        session,
        actor_id=actor_id,
        action=AuditAction.ACTIVITY_CHANGED,
        subject_type="activity",
        subject_id=activity_id,
        details={"fields": changed},
        at=now,
    )
    return announce_activity_change(
        session, activity_id=activity_id, now=now, old_starts_at=old_start, old_venue=old_venue
    )


def cancel_activity(
    session: Session, *, activity_id: int, now: datetime, actor_id: int | None = None
) -> int:
    """Call an activity off and tell everyone signed up; returns the notices.

    Places stay recorded as they were (indicators count cancelled activities), but no
    reminder goes out and nobody is promoted any more.
    """
    activity = _changeable(session, activity_id, now)
    activity.status = ActivityStatus.CANCELLED
    activity.cancelled_at = now
    activity.updated_at = now
    session.add(activity)
    session.flush()
    # Offers of a place in it mean nothing now: "Take the place" answers that it is off.
    void_offers(session, activity_id=activity_id, now=now)
    record(
        session,
        actor_id=actor_id,
        action=AuditAction.ACTIVITY_CANCELLED,
        subject_type="activity",
        subject_id=activity_id,
        at=now,
    )
    return announce_activity_change(session, activity_id=activity_id, now=now, cancelled=True)
