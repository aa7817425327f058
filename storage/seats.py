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

from sqlalchemy import bindparam, func
from sqlmodel import Session, col, select

from storage.activities import (
    ActivityNotFound,
    ActivityView,
    ClosedReason,
    activity_view,
    closed_reason,
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
from storage.offers import held_places, offer_free_places, void_offers
from storage.reminders import cancel_reminders, schedule_reminders

__all__ = [
    "ActivityNotFound",
    "CancelResult",
    "MyRegistration",
    "NotRegistered",
    "RegistrationClosed",
    "SignUpResult",
    "cancel",
    "counts",
    "fill_free_places",
    "live_registration",
    "my_registrations",
    "reserve_position",
    "sign_up",
    "sign_up_and_view",
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


# Built once: the seat rule runs on every press, and building these costs more than
# running them on SQLite.
_LOCK_ACTIVITY = (
    select(Activity)
    .where(Activity.id == bindparam("activity_id"))
    .with_for_update()
    # A row already in the session must be re-read under the lock.
    .execution_options(populate_existing=True)
)
# "Not cancelled" rather than IN (…): the same predicate as the unique partial index, and
# no expanding parameters to re-render on every run.
_LIVE_REGISTRATION = select(Registration).where(
    Registration.activity_id == bindparam("activity_id"),
    Registration.person_id == bindparam("person_id"),
    Registration.status != RegistrationStatus.CANCELLED,
)
_COUNTS = (
    select(Registration.status, func.count())
    .where(
        Registration.activity_id == bindparam("activity_id"),
        Registration.status != RegistrationStatus.CANCELLED,
    )
    .group_by(col(Registration.status))
)
_AHEAD_IN_RESERVE = (
    select(func.count())
    .select_from(Registration)
    .where(
        Registration.activity_id == bindparam("activity_id"),
        Registration.status == RegistrationStatus.RESERVE,
        col(Registration.id) < bindparam("registration_id"),
    )
)


def _lock_activity(session: Session, activity_id: int) -> Activity:
    activity = session.exec(_LOCK_ACTIVITY, params={"activity_id": activity_id}).first()
    if activity is None:
        raise ActivityNotFound(activity_id)
    return activity


def live_registration(
    session: Session, *, person_id: int, activity_id: int
) -> Registration | None:
    """The person's confirmed or reserve registration for an activity, if any."""
    return session.exec(
        _LIVE_REGISTRATION, params={"activity_id": activity_id, "person_id": person_id}
    ).first()


def counts(session: Session, activity_id: int) -> tuple[int, int]:
    """(places taken, people on the reserve list) in one query."""
    found = {
        str(status): int(n)
        for status, n in session.exec(_COUNTS, params={"activity_id": activity_id}).all()
    }
    return (found.get(RegistrationStatus.CONFIRMED, 0), found.get(RegistrationStatus.RESERVE, 0))


def _confirmed(session: Session, activity_id: int) -> int:
    return counts(session, activity_id)[0]


def reserve_position(session: Session, registration: Registration) -> int | None:
    """1-based position on the reserve list (arrival order), or None if not on it."""
    if registration.status != RegistrationStatus.RESERVE or registration.id is None:
        return None
    ahead = session.exec(
        _AHEAD_IN_RESERVE,
        params={"activity_id": registration.activity_id, "registration_id": registration.id},
    ).one()
    return int(ahead) + 1


def _audit(session: Session, *, actor_id: int, action: str, registration: Registration) -> None:
    # Only acts done for someone else are recorded; ids only, never names.
    session.add(
        AuditEntry(
            actor_id=actor_id,
            action=action,
            subject_type="registration",
            subject_id=registration.id,
            details={"activity_id": registration.activity_id, "person_id": registration.person_id},
        )
    )


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
    activity = _lock_activity(session, activity_id)
    existing = live_registration(session, person_id=person_id, activity_id=activity_id)
    if existing is not None:
        confirmed, waiting = counts(session, activity_id)
        return SignUpResult(existing, activity, reserve_position(session, existing), False,
                            confirmed, waiting)
    programme = session.get(Programme, activity.programme_id)
    reason = closed_reason(activity, programme, now)
    if reason is not None:
        raise RegistrationClosed(reason)
    confirmed, waiting = counts(session, activity_id)
    if waiting and confirmed < activity.places:
        # Someone already waiting goes first if a place appeared (e.g. places were raised).
        fill_free_places(session, activity=activity, now=now)
        confirmed, waiting = counts(session, activity_id)
    # Places offered to the reserve list are not free for newcomers.
    free = activity.places - confirmed
    has_place = free - held_places(session, [activity_id], {activity_id: free}).get(
        activity_id, 0) > 0
    registration = Registration(
        activity_id=activity_id,
        person_id=person_id,
        status=RegistrationStatus.CONFIRMED if has_place else RegistrationStatus.RESERVE,
        joined_reserve=not has_place,
        proxy_by_id=proxy_by_id,
        created_at=now,
    )
    session.add(registration)
    session.flush()
    if has_place:
        _on_place_confirmed(session, registration, now)
    elif free > 0:
        # A last-minute round is open: the newcomer may tap for the place like the others.
        fill_free_places(session, activity=activity, now=now)
    if proxy_by_id is not None and proxy_by_id != person_id:
        _audit(session, actor_id=proxy_by_id, action="registration.sign_up",
               registration=registration)
    # Under the activity's lock ids only grow, so a newcomer is last on the list.
    position = None if has_place else waiting + 1
    return SignUpResult(registration, activity, position, True,
                        confirmed + (1 if has_place else 0), waiting + (0 if has_place else 1),
                        programme)


def sign_up_and_view(
    session: Session, *, person_id: int, activity_id: int, now: datetime
) -> tuple[ActivityView, ClosedReason | None]:
    """Sign up, then what the person sees now, with as few queries as the rule allows.

    Returns the details view and, if sign-up was refused, why. Raises ActivityNotFound.
    """
    try:
        result = sign_up(session, person_id=person_id, activity_id=activity_id, now=now)
    except RegistrationClosed as exc:
        return activity_view(session, activity_id=activity_id, person_id=person_id,
                             now=now), exc.reason
    activity = result.activity
    programme = result.programme or session.get(Programme, activity.programme_id)
    free = max(0, activity.places - result.confirmed_count)
    held = held_places(session, [activity_id], {activity_id: free}).get(activity_id, 0)
    view = ActivityView(
        activity=activity,
        programme=programme,
        free=free - held,
        closed=closed_reason(activity, programme, now),
        registration=result.registration,
        reserve_position=result.position,
        reserve_length=result.reserve_count,
    )
    return view, None


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
    activity = _lock_activity(session, activity_id)
    registration = live_registration(session, person_id=person_id, activity_id=activity_id)
    if registration is None:
        raise NotRegistered(activity_id)
    if activity.status != ActivityStatus.CANCELLED and now >= activity.starts_at:
        raise RegistrationClosed(ClosedReason.STARTED)
    was_confirmed = registration.status == RegistrationStatus.CONFIRMED
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = now
    session.add(registration)
    session.flush()
    if was_confirmed:
        _on_place_released(session, registration, now)
    # Someone on the reserve list leaving with an open offer frees the place it held.
    held_one = not was_confirmed and void_offers(
        session, activity_id=activity_id, now=now, registration_id=registration.id) > 0
    if by_id is not None and by_id != person_id:
        _audit(session, actor_id=by_id, action="registration.cancel", registration=registration)
    promoted = (fill_free_places(session, activity=activity, now=now)
                if was_confirmed or held_one else [])
    return CancelResult(registration, activity, was_confirmed, promoted[0] if promoted else None)


def fill_free_places(session: Session, *, activity: Activity, now: datetime) -> list[Registration]:
    """Offer free places to the reserve list in arrival order (storage.offers decides how).

    Call with the activity locked (sign_up and cancel do; so must anyone who raises the
    number of places). Returns the registrations the places went or were offered to;
    each gets a durable notice through the outbox. Nothing happens once the activity has
    started or was cancelled.
    """
    return offer_free_places(session, activity=activity, now=now)


def _on_place_confirmed(session: Session, registration: Registration, now: datetime) -> None:
    """Hook: a place became confirmed (sign-up or promotion), inside the seat transaction."""
    schedule_reminders(session, registration=registration, now=now)


def _on_place_released(session: Session, registration: Registration, now: datetime) -> None:
    """Hook: a confirmed place stopped being confirmed (cancelled), inside the transaction."""
    if registration.id is not None:
        cancel_reminders(session, registration_id=registration.id)


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
