"""THE seat rule: places, the reserve list in arrival order, cancellation and promotion.

Every change runs inside one transaction that first locks the activity row (SELECT …
FOR UPDATE on PostgreSQL; on SQLite every transaction is BEGIN IMMEDIATE, which holds
the single write lock). While the lock is held the place count is re-read, so two
people can never take the last place, and registration ids — which are the reserve
list's arrival order — are handed out one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from storage.activities.listing import (
    ActivityNotFound,
    ClosedReason,
)
from storage.activities.offers import held, offer_free_places, void_offers
from storage.activities.resident_views import (
    CONFIRMED,
    RESERVE,
)
from storage.activities.seat_counts import counts, reserve_position
from storage.activities.seat_statements import (
    CANCEL_REGISTRATION,
    INSERT_REGISTRATION,
    LockedActivity,
    lock_activity,
    standing,
)
from storage.messaging.outbox import add_sends
from storage.messaging.reminders import (
    cancel_reminders,
    offsets_from,
    reminder_sends,
    schedule_reminders,
)
from storage.models import (
    Activity,
    ActivityStatus,
    AuditEntry,
    Programme,
    Registration,
    RegistrationStatus,
)
from storage.models.activities import ACTIVE_STATUSES
from storage.programmes.defaults import defaults_of

__all__ = [
    "ActivityNotFound",
    "CancelResult",
    "LockedActivity",
    "MyRegistration",
    "NotRegistered",
    "Place",
    "RegistrationClosed",
    "Released",
    "SignUpResult",
    "cancel",
    "fill_free_places",
    "lock_activity",
    "my_registrations",
    "release",
    "sign_up",
    "take_place",
]


class RegistrationClosed(Exception):
    """Signing up (or cancelling) is no longer possible; `reason` says why."""

    def __init__(self, reason: ClosedReason) -> None:
        super().__init__(reason.value)
        self.reason = reason


class NotRegistered(LookupError):
    """The person holds no place and no reserve position in that activity."""


@dataclass(frozen=True)
class SignUpResult:
    """Where a sign-up put the person."""

    registration: Registration
    activity: Activity
    # Reserve-list position (1 = next in line); None for a place.
    position: int | None
    # False when the person was already signed up and nothing changed.
    created: bool
    # Places taken and people waiting once this sign-up is in (for the reply).
    confirmed_count: int = 0
    reserve_count: int = 0
    programme: Programme | None = None

    @property
    def confirmed(self) -> bool:
        """Whether the person holds a place."""
        return self.registration.status == RegistrationStatus.CONFIRMED


@dataclass(frozen=True)
class CancelResult:
    """What a cancellation changed."""

    registration: Registration
    activity: Activity
    was_confirmed: bool
    # Whoever got the freed place, if anyone.
    promoted: Registration | None


def _confirmed(session: Session, activity_id: int) -> int:
    return counts(session, activity_id)[0]


def _audit(
    session: Session,
    *,
    actor_id: int,
    action: str,
    registration_id: int,
    activity_id: int,
    person_id: int,
) -> None:
    # Only acts done for someone else are recorded; ids only, never names.
    session.add(
        AuditEntry(
            actor_id=actor_id,
            action=action,
            subject_type="registration",
            subject_id=registration_id,
            details={"activity_id": activity_id, "person_id": person_id},
        )
    )


# ------------------------------------------------------------------ the rule, in Core


@dataclass(frozen=True)
class Place:
    """Where `take_place` put the person, and what the reply and the survey offer need."""

    locked: LockedActivity
    registration_id: int
    status: str
    # Reserve-list position (1 = next in line); None for a place.
    position: int | None
    # False when the person was already signed up and nothing changed.
    created: bool
    taken: int
    waiting: int
    # The person's sign-ups in this programme before this one (cancelled ones too).
    earlier_sign_ups_here: int
    has_initial_response: bool
    reachable: bool
    # Open offers to the reserve list once this sign-up is in: they hold places.
    deadline_offers: int = 0
    first_come_open: bool = False

    @property
    def confirmed(self) -> bool:
        """Whether the person holds a place."""
        return self.status == CONFIRMED


def take_place(
    session: Session,
    *,
    locked: LockedActivity,
    person_id: int,
    now: datetime,
    proxy_by_id: int | None = None,
) -> Place:
    """Give the person a place if one is free, else a reserve-list position.

    Call with the activity locked (`lock_activity`). Signing up again returns the
    existing registration unchanged; RegistrationClosed when the activity takes no
    sign-ups. A new place gets its reminders in the same transaction.
    """
    card = locked.card
    facts = standing(session, card, person_id)
    if facts.my_id is not None:
        return Place(
            locked,
            facts.my_id,
            facts.my_status,
            facts.my_position if facts.my_status == RESERVE else None,
            False,
            facts.taken,
            facts.waiting,
            facts.sign_ups_here - 1,
            facts.initial_responses > 0,
            facts.telegram_id is not None,
            facts.deadline_offers,
            facts.first_come_offers > 0,
        )
    reason = card.closed(now)
    if reason is not None:
        raise RegistrationClosed(reason)
    if facts.waiting and facts.taken < card.places:
        # Someone already waiting goes first if a place appeared (e.g. places were raised).
        fill_free_places(session, activity=_orm_activity(session, card.id), now=now)
        facts = standing(session, card, person_id)
    # Places offered to the reserve list are not free for newcomers.
    free = card.places - facts.taken
    has_place = free - held(free, facts.deadline_offers, facts.first_come_offers > 0) > 0
    status = CONFIRMED if has_place else RESERVE
    registration_id = (
        session.connection()
        .execute(
            INSERT_REGISTRATION,
            {
                "activity_id": card.id,
                "person_id": person_id,
                "status": status,
                "joined_reserve": not has_place,
                "proxy_by_id": proxy_by_id,
                "created_at": now,
                "attended": False,
            },
        )
        .scalar_one()
    )
    deadline_offers, first_come_open = facts.deadline_offers, facts.first_come_offers > 0
    if has_place and facts.telegram_id is not None:
        add_sends(
            session,
            reminder_sends(
                registration_id=registration_id,
                person_id=person_id,
                activity_id=card.id,
                programme_id=card.programme_id,
                starts_at=card.starts_at,
                now=now,
                offsets=offsets_from(
                    locked.reminder_offsets,
                    programme_id=card.programme_id,
                    default=defaults_of(session).reminder_offsets,
                ),
            ),
            revive=True,
        )
    elif has_place:
        # Paper participants (no Telegram): their animators get the call list instead.
        registration = session.get(Registration, registration_id)
        assert registration is not None
        _on_place_confirmed(session, registration, now)
    elif free > 0:
        # A last-minute round is open: the newcomer may tap for the place like the others.
        fill_free_places(session, activity=_orm_activity(session, card.id), now=now)
    if proxy_by_id is not None and proxy_by_id != person_id:
        _audit(
            session,
            actor_id=proxy_by_id,
            action="registration.sign_up",
            registration_id=registration_id,
            activity_id=card.id,
            person_id=person_id,
        )
    # Under the activity's lock ids only grow, so a newcomer is last on the list.
    return Place(
        locked,
        registration_id,
        status,
        None if has_place else facts.waiting + 1,
        True,
        facts.taken + has_place,
        facts.waiting + (not has_place),
        facts.sign_ups_here,
        facts.initial_responses > 0,
        facts.telegram_id is not None,
        deadline_offers,
        first_come_open,
    )


@dataclass(frozen=True)
class Released:
    """What `release` changed."""

    locked: LockedActivity
    registration_id: int
    was_confirmed: bool
    # Whoever got the freed place (by fill_free_places), first in line first.
    promoted: list[Registration]


def release(
    session: Session,
    *,
    locked: LockedActivity,
    person_id: int,
    now: datetime,
    by_id: int | None = None,
) -> Released:
    """Give up a place or a reserve position; a freed place goes to the first in line.

    Call with the activity locked. Raises NotRegistered, or RegistrationClosed(STARTED)
    once the activity has begun (attendance is then the animator's business).
    """
    card = locked.card
    facts = standing(session, card, person_id)
    if facts.my_id is None:
        raise NotRegistered(card.id)
    if card.status != ActivityStatus.CANCELLED and now >= card.starts_at:
        raise RegistrationClosed(ClosedReason.STARTED)
    was_confirmed = facts.my_status == CONFIRMED
    session.connection().execute(CANCEL_REGISTRATION, {"registration_id": facts.my_id, "now": now})
    if was_confirmed:
        _on_place_released(session, facts.my_id)
    # Someone on the reserve list leaving with an open offer frees the place it held
    # (only then is it worth asking for their offers).
    held_one = (
        not was_confirmed
        and facts.deadline_offers + facts.first_come_offers > 0
        and void_offers(session, activity_id=card.id, now=now, registration_id=facts.my_id) > 0
    )
    if by_id is not None and by_id != person_id:
        _audit(
            session,
            actor_id=by_id,
            action="registration.cancel",
            registration_id=facts.my_id,
            activity_id=card.id,
            person_id=person_id,
        )
    promoted = (
        fill_free_places(session, activity=_orm_activity(session, card.id), now=now)
        if was_confirmed or held_one
        else []
    )
    return Released(locked, facts.my_id, was_confirmed, promoted)


def _orm_activity(session: Session, activity_id: int) -> Activity:
    # Already locked; read again so an object in the session shows what is stored now.
    activity = session.get(Activity, activity_id, populate_existing=True)
    assert activity is not None
    return activity


# ------------------------------------------------------------------ the ORM-facing API


def sign_up(
    session: Session,
    *,
    person_id: int,
    activity_id: int,
    now: datetime,
    proxy_by_id: int | None = None,
) -> SignUpResult:
    """Give the person a place if one is free, else a reserve-list position.

    Signing up again returns the existing registration unchanged. Raises
    ActivityNotFound, or RegistrationClosed when the activity takes no sign-ups.
    """
    locked = lock_activity(session, activity_id)
    place = take_place(
        session, locked=locked, person_id=person_id, now=now, proxy_by_id=proxy_by_id
    )
    registration = session.get(Registration, place.registration_id, populate_existing=True)
    activity = _orm_activity(session, activity_id)
    assert registration is not None
    programme = session.get(Programme, activity.programme_id) if place.created else None
    return SignUpResult(
        registration, activity, place.position, place.created, place.taken, place.waiting, programme
    )


def cancel(
    session: Session,
    *,
    person_id: int,
    activity_id: int,
    now: datetime,
    by_id: int | None = None,
) -> CancelResult:
    """Give up a place or a reserve position; a freed place goes to the first in line.

    Raises ActivityNotFound, NotRegistered, or RegistrationClosed(STARTED) once the
    activity has begun (attendance is then the animator's business).
    """
    locked = lock_activity(session, activity_id)
    released = release(session, locked=locked, person_id=person_id, now=now, by_id=by_id)
    registration = session.get(Registration, released.registration_id, populate_existing=True)
    assert registration is not None
    return CancelResult(
        registration,
        _orm_activity(session, activity_id),
        released.was_confirmed,
        released.promoted[0] if released.promoted else None,
    )


def fill_free_places(session: Session, *, activity: Activity, now: datetime) -> list[Registration]:
    """Offer free places to the reserve list in arrival order (see storage.activities.offers).

    Call with the activity locked (sign_up and cancel do; so must anyone who raises the
    number of places). Returns the registrations the places went or were offered to;
    each gets a durable notice through the outbox. Nothing happens once the activity has
    started or was cancelled.
    """
    return offer_free_places(session, activity=activity, now=now)


def _on_place_confirmed(session: Session, registration: Registration, now: datetime) -> None:
    """Hook: a place became confirmed (sign-up or promotion), inside the seat transaction."""
    schedule_reminders(session, registration=registration, now=now)


def _on_place_released(session: Session, registration_id: int) -> None:
    """Hook: a confirmed place stopped being confirmed (cancelled), inside the transaction."""
    cancel_reminders(session, registration_id=registration_id)


@dataclass(frozen=True)
class MyRegistration:
    """One of a person's upcoming sign-ups with its standing."""

    activity: Activity
    registration: Registration
    position: int | None


def my_registrations(session: Session, *, person_id: int, now: datetime) -> list[MyRegistration]:
    """The person's places and reserve positions in activities not yet over, soonest first."""
    rows = session.exec(
        select(Registration, Activity)
        .join(Activity, col(Activity.id) == col(Registration.activity_id))
        .where(
            Registration.person_id == person_id,
            col(Registration.status).in_([s.value for s in ACTIVE_STATUSES]),
            col(Activity.ends_at) > now,
        )
        .order_by(col(Activity.starts_at), col(Activity.id))
    ).all()
    return [
        MyRegistration(activity, registration, reserve_position(session, registration))
        for registration, activity in rows
    ]
