"""THE promotion rule: a freed place is offered to the reserve list, never given twice.

When a place frees up, the first person in line is OFFERED it with a deadline (the
programme's `offer_time`, 12 h by default, never later than the start of the last-minute
window). "Pass" drops them from the reserve list and the offer moves to the next;
no answer by the deadline moves it too, and they keep their reserve position (they will
still hear about places freed in the last-minute window). Within `offer_first_come` of
the start (2 h by default) a freed place is offered to everyone left on the list at once
and the first tap wins.

People without Telegram (signed up on paper by an animator) cannot tap a button: when
their turn comes they get the place at once, and the animator who signed them up is
asked to phone them. An `offer_time` of 0 gives every freed place at once, as before.

Every change here runs with the activity's row locked (SELECT … FOR UPDATE on
PostgreSQL; BEGIN IMMEDIATE on SQLite), the same lock the seat rule takes, so offers,
sign-ups and cancellations of one activity happen one at a time and a place can never be
taken twice. An open deadline offer holds one place; an open first-come round holds every
free place, so newcomers join the reserve list (and the round) instead of slipping in.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import bindparam, func, update
from sqlmodel import Session, col, select

from storage.audit import record
from storage.messaging.outbox import enqueue
from storage.messaging.reminders import schedule_reminders
from storage.models import (
    Activity,
    ActivityStatus,
    OfferKind,
    OfferState,
    PendingSend,
    Person,
    PlaceOffer,
    Programme,
    Registration,
    RegistrationStatus,
    SendKind,
    SendState,
)
from storage.programmes.defaults import OfferWindows, defaults_of
from storage.setting_values import parse_duration

log = logging.getLogger(__name__)

# A deadline offer shorter than this is not worth a person's attention: the freed place
# goes straight to a first-come round instead.
MIN_OFFER_TIME = timedelta(minutes=30)

OFFER_TAKEN = "offer.taken"
OFFER_PASSED = "offer.passed"
OFFER_EXPIRED = "offer.expired"


def windows_for(programme: Programme | None, defaults: OfferWindows) -> OfferWindows:
    """A programme's own windows where set, else the deployment's `defaults`."""
    if programme is None:
        return defaults
    return OfferWindows(
        _override(programme.offer_time, defaults.offer_time, programme.id),
        _override(programme.offer_first_come, defaults.first_come, programme.id),
    )


def _override(raw: str | None, default: timedelta, programme_id: int | None) -> timedelta:
    if raw is None or not raw.strip():
        return default
    try:
        return parse_duration(raw)
    except ValueError:
        log.warning("programme %s has a malformed offer window; using the default", programme_id)
        return default


# --- reading -----------------------------------------------------------------------------

_LOCK_ACTIVITY = (
    select(Activity)
    .where(Activity.id == bindparam("activity_id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)
_OPEN_OFFERS = (
    select(PlaceOffer)
    .where(
        PlaceOffer.activity_id == bindparam("activity_id"), PlaceOffer.state == OfferState.OFFERED
    )
    .order_by(col(PlaceOffer.id))
    .execution_options(populate_existing=True)
)
_CONFIRMED = (
    select(func.count())
    .select_from(Registration)
    .where(
        Registration.activity_id == bindparam("activity_id"),
        Registration.status == RegistrationStatus.CONFIRMED,
    )
)


def _lock_activity(session: Session, activity_id: int) -> Activity | None:
    return session.exec(_LOCK_ACTIVITY, params={"activity_id": activity_id}).first()


def _confirmed(session: Session, activity_id: int) -> int:
    return int(session.exec(_CONFIRMED, params={"activity_id": activity_id}).one())


def _open_offers(session: Session, activity_id: int) -> list[PlaceOffer]:
    return list(session.exec(_OPEN_OFFERS, params={"activity_id": activity_id}).all())


def held(free: int, deadline_offers: int, first_come_open: bool) -> int:
    """Places held by open offers out of `free` unconfirmed ones."""
    if free <= 0:
        return 0
    return free if first_come_open else min(free, deadline_offers)


def held_places(
    session: Session, activity_ids: Iterable[int], free: dict[int, int]
) -> dict[int, int]:
    """Per activity, how many of its `free` (unconfirmed) places open offers hold."""
    ids = [i for i in activity_ids if free.get(i, 0) > 0]
    if not ids:
        return {}
    rows = session.exec(
        select(PlaceOffer.activity_id, PlaceOffer.kind, func.count())
        .where(col(PlaceOffer.activity_id).in_(ids), PlaceOffer.state == OfferState.OFFERED)
        .group_by(col(PlaceOffer.activity_id), col(PlaceOffer.kind))
    ).all()
    deadline: dict[int, int] = {}
    first_come: set[int] = set()
    for activity_id, kind, n in rows:
        if kind == OfferKind.FIRST_COME:
            first_come.add(int(activity_id))
        else:
            deadline[int(activity_id)] = int(n)
    return {i: held(free[i], deadline.get(i, 0), i in first_come) for i in ids}


def open_offer_for(session: Session, registration_id: int) -> PlaceOffer | None:
    """The registration's open offer, if it has one (for /my and the reserve list)."""
    return session.exec(
        select(PlaceOffer).where(
            PlaceOffer.registration_id == registration_id, PlaceOffer.state == OfferState.OFFERED
        )
    ).first()


# --- offering ----------------------------------------------------------------------------


def offer_free_places(session: Session, *, activity: Activity, now: datetime) -> list[Registration]:
    """Offer (or give) every free place to the reserve list; returns whom it reached.

    Call with the activity locked. Due offers are expired first, so a late expiry job can
    never hold a place past its deadline. Nothing happens once the activity started or
    was called off.
    """
    assert activity.id is not None
    if activity.status == ActivityStatus.CANCELLED or now >= activity.starts_at:
        return []
    _expire_due(session, activity, now)
    windows = windows_for(
        session.get(Programme, activity.programme_id), defaults_of(session).offer_windows
    )
    open_offers = _open_offers(session, activity.id)
    deadline_open = sum(1 for o in open_offers if o.kind == OfferKind.DEADLINE)
    round_open = any(o.kind == OfferKind.FIRST_COME for o in open_offers)
    free = activity.places - _confirmed(session, activity.id) - deadline_open
    if free <= 0:
        return []
    offered = {o.registration_id for o in open_offers}
    expired = set(
        session.exec(
            select(PlaceOffer.registration_id).where(
                PlaceOffer.activity_id == activity.id,
                PlaceOffer.kind == OfferKind.DEADLINE,
                PlaceOffer.state == OfferState.EXPIRED,
            )
        ).all()
    )
    first_come_at = activity.starts_at - windows.first_come
    deadline = min(now + windows.offer_time, first_come_at)
    last_minute = round_open or deadline < now + min(MIN_OFFER_TIME, windows.offer_time)
    waiting = session.exec(
        select(Registration, Person.telegram_id, Person.unreachable_at)
        .join(Person, col(Person.id) == col(Registration.person_id))
        .where(
            Registration.activity_id == activity.id,
            Registration.status == RegistrationStatus.RESERVE,
        )
        .order_by(col(Registration.id))
    ).all()
    reached: list[Registration] = []
    for registration, telegram_id, unreachable_at in waiting:
        if free <= 0:
            break
        if windows.immediate or telegram_id is None:
            # Their turn: people without Telegram cannot tap, so they get it outright.
            _give_place(session, registration, activity, now, paper=telegram_id is None)
            free -= 1
            reached.append(registration)
            continue
        if last_minute:
            break  # the rest of the line is served by the round below
        if registration.id in offered or registration.id in expired:
            continue
        if unreachable_at is not None:
            continue  # blocked the bot: an offer could not reach them, so it would only wait
        _make_offer(session, registration, activity, OfferKind.DEADLINE, deadline, now)
        free -= 1
        reached.append(registration)
    if last_minute and free > 0 and not windows.immediate:
        for registration, telegram_id, unreachable_at in waiting:
            if (
                telegram_id is not None
                and unreachable_at is None
                and registration.status == RegistrationStatus.RESERVE
                and registration.id not in offered
            ):
                _make_offer(
                    session, registration, activity, OfferKind.FIRST_COME, activity.starts_at, now
                )
                reached.append(registration)
    return reached


def _make_offer(
    session: Session,
    registration: Registration,
    activity: Activity,
    kind: OfferKind,
    deadline: datetime,
    now: datetime,
) -> PlaceOffer:
    assert registration.id is not None
    offer = PlaceOffer(
        activity_id=registration.activity_id,
        registration_id=registration.id,
        person_id=registration.person_id,
        kind=kind.value,
        deadline=deadline,
        created_at=now,
    )
    session.add(offer)
    session.flush()
    enqueue(
        session,
        kind=SendKind.PLACE_OFFER,
        person_id=registration.person_id,
        registration_id=registration.id,
        activity_id=activity.id,
        due_at=now,
        payload={"offer_id": offer.id},
        dedupe_key=f"offer:{offer.id}",
    )
    return offer


def _confirm(session: Session, registration: Registration, now: datetime) -> None:
    registration.status = RegistrationStatus.CONFIRMED
    registration.promoted_at = now
    session.add(registration)
    session.flush()
    schedule_reminders(session, registration=registration, now=now)


def _give_place(
    session: Session, registration: Registration, activity: Activity, now: datetime, *, paper: bool
) -> None:
    """Confirm the place; tell a Telegram user, or (through the call list) the animators."""
    assert registration.id is not None
    # Confirming schedules the reminders, and for a person without Telegram the call
    # list's "phone them now" message to the programme's animators (storage.activities.call_list).
    _confirm(session, registration, now)
    if not paper:
        enqueue(
            session,
            kind=SendKind.PROMOTION,
            person_id=registration.person_id,
            registration_id=registration.id,
            activity_id=activity.id,
            due_at=now,
            dedupe_key=f"promotion:{registration.id}",
        )


# --- closing offers ----------------------------------------------------------------------


def _close(session: Session, offer: PlaceOffer, state: OfferState, now: datetime) -> None:
    offer.state = state.value
    offer.answered_at = now
    session.add(offer)
    # The offer message is pointless now if it has not gone out yet.
    if offer.id is not None:
        session.exec(
            update(PendingSend)
            .where(
                col(PendingSend.dedupe_key) == f"offer:{offer.id}",
                col(PendingSend.state) == SendState.PENDING.value,
            )
            .values(state=SendState.CANCELLED.value)
            .execution_options(synchronize_session=False)
        )


def _audit(
    session: Session, offer: PlaceOffer, action: str, actor_id: int | None, now: datetime
) -> None:
    record(
        session,
        actor_id=actor_id,
        action=action,
        subject_type="offer",
        subject_id=offer.id,
        at=now,
        details={
            "activity_id": offer.activity_id,
            "registration_id": offer.registration_id,
            "kind": offer.kind,
        },
    )


def _expire(session: Session, offer: PlaceOffer, activity: Activity, now: datetime) -> None:
    _close(session, offer, OfferState.EXPIRED, now)
    _audit(session, offer, OFFER_EXPIRED, None, now)
    if offer.kind == OfferKind.DEADLINE and now < activity.starts_at:
        enqueue(
            session,
            kind=SendKind.OFFER_EXPIRED,
            person_id=offer.person_id,
            registration_id=offer.registration_id,
            activity_id=offer.activity_id,
            due_at=now,
            payload={"offer_id": offer.id},
            dedupe_key=f"offer_expired:{offer.id}",
        )


def _expire_due(session: Session, activity: Activity, now: datetime) -> int:
    assert activity.id is not None
    due = [o for o in _open_offers(session, activity.id) if o.deadline <= now]
    for offer in due:
        _expire(session, offer, activity, now)
    return len(due)


def void_offers(
    session: Session, *, activity_id: int, now: datetime, registration_id: int | None = None
) -> int:
    """Void open offers of an activity (called off or changed) or of one registration
    (it left the reserve list). Call with the activity locked; returns how many."""
    offers = _open_offers(session, activity_id)
    if registration_id is not None:
        offers = [o for o in offers if o.registration_id == registration_id]
    for offer in offers:
        _close(session, offer, OfferState.VOID, now)
    return len(offers)


def due_activity_ids(session: Session, *, now: datetime, limit: int = 100) -> list[int]:
    """Activities with at least one offer past its deadline (for the expiry schedule)."""
    rows = session.exec(
        select(PlaceOffer.activity_id)
        .where(PlaceOffer.state == OfferState.OFFERED, col(PlaceOffer.deadline) <= now)
        .order_by(col(PlaceOffer.deadline))
        .limit(limit)
    ).all()
    return list(dict.fromkeys(int(i) for i in rows))


def next_deadline(session: Session) -> datetime | None:
    """The earliest deadline of an open offer."""
    return session.exec(
        select(func.min(PlaceOffer.deadline)).where(PlaceOffer.state == OfferState.OFFERED)
    ).one()


def expire_activity_offers(session: Session, *, activity_id: int, now: datetime) -> int:
    """Expire an activity's due offers and offer the places to the next people.

    One transaction per activity, under its lock; returns how many offers expired.
    """
    activity = _lock_activity(session, activity_id)
    if activity is None:
        return 0
    if activity.status == ActivityStatus.CANCELLED:
        return void_offers(session, activity_id=activity_id, now=now)
    expired = _expire_due(session, activity, now)
    if expired:
        offer_free_places(session, activity=activity, now=now)
    return expired


# --- answers -----------------------------------------------------------------------------


class OfferRefusal(StrEnum):
    """Why a tap on "Take the place" or "Pass" changed nothing."""

    NOT_YOURS = "not_yours"  # forged, someone else's, or unknown
    GONE = "gone"  # first come: somebody else was quicker
    EXPIRED = "expired"
    PASSED = "passed"
    VOID = "void"  # the activity was called off or changed, or the person left the list
    STARTED = "started"
    TAKEN = "taken"  # "Pass" on a place already taken: cancelling is done from /my


@dataclass(frozen=True)
class OfferAnswer:
    """What a tap did: `refusal` is None when it took effect (or had already)."""

    activity: Activity | None
    kind: str | None
    refusal: OfferRefusal | None = None
    # A second tap on "Take the place" once the place is theirs.
    already: bool = False


_REFUSAL_BY_STATE = {
    OfferState.PASSED: OfferRefusal.PASSED,
    OfferState.EXPIRED: OfferRefusal.EXPIRED,
    OfferState.LOST: OfferRefusal.GONE,
    OfferState.VOID: OfferRefusal.VOID,
}


def _answerable(
    session: Session, offer_id: int, person_id: int, now: datetime
) -> tuple[PlaceOffer, Activity] | OfferAnswer:
    """The offer and its locked activity, or the answer that ends the tap here."""
    found = session.get(PlaceOffer, offer_id)
    if found is None or found.person_id != person_id:
        return OfferAnswer(None, None, OfferRefusal.NOT_YOURS)
    activity = _lock_activity(session, found.activity_id)
    if activity is None:
        return OfferAnswer(None, None, OfferRefusal.NOT_YOURS)
    # Re-read under the lock: another tap may have changed it a moment ago.
    offer = session.exec(
        select(PlaceOffer)
        .where(PlaceOffer.id == offer_id)
        .execution_options(populate_existing=True)
    ).one()
    if offer.state == OfferState.TAKEN:
        return OfferAnswer(activity, offer.kind, already=True)
    if offer.state != OfferState.OFFERED:
        return OfferAnswer(activity, offer.kind, _REFUSAL_BY_STATE[OfferState(offer.state)])
    if activity.status == ActivityStatus.CANCELLED:
        _close(session, offer, OfferState.VOID, now)
        return OfferAnswer(activity, offer.kind, OfferRefusal.VOID)
    if now >= activity.starts_at:
        _expire(session, offer, activity, now)
        return OfferAnswer(activity, offer.kind, OfferRefusal.STARTED)
    if now >= offer.deadline:
        # The schedule has not got there yet: expire it now and move the line on.
        _expire(session, offer, activity, now)
        offer_free_places(session, activity=activity, now=now)
        return OfferAnswer(activity, offer.kind, OfferRefusal.EXPIRED)
    registration = session.get(Registration, offer.registration_id)
    if registration is None or registration.status != RegistrationStatus.RESERVE:
        _close(session, offer, OfferState.VOID, now)
        return OfferAnswer(activity, offer.kind, OfferRefusal.VOID)
    return offer, activity


def take_offer(session: Session, *, offer_id: int, person_id: int, now: datetime) -> OfferAnswer:
    """ "Take the place": the place becomes the person's unless it is already gone."""
    found = _answerable(session, offer_id, person_id, now)
    if isinstance(found, OfferAnswer):
        return found
    offer, activity = found
    assert activity.id is not None
    registration = session.get(Registration, offer.registration_id)
    assert registration is not None
    open_offers = _open_offers(session, activity.id)
    if offer.kind == OfferKind.FIRST_COME:
        deadline_open = sum(1 for o in open_offers if o.kind == OfferKind.DEADLINE)
        free = activity.places - _confirmed(session, activity.id) - deadline_open
        if free <= 0:
            _close(session, offer, OfferState.LOST, now)
            return OfferAnswer(activity, offer.kind, OfferRefusal.GONE)
        if free == 1:
            # This was the last place: the rest of the round is told "already taken"
            # when they tap, and their unsent offers are withdrawn.
            for other in open_offers:
                if other.id != offer.id and other.kind == OfferKind.FIRST_COME:
                    _close(session, other, OfferState.LOST, now)
    _close(session, offer, OfferState.TAKEN, now)
    _confirm(session, registration, now)
    _audit(session, offer, OFFER_TAKEN, person_id, now)
    return OfferAnswer(activity, offer.kind)


def pass_offer(session: Session, *, offer_id: int, person_id: int, now: datetime) -> OfferAnswer:
    """ "Pass": the person leaves the reserve list and the place goes to the next one."""
    found = _answerable(session, offer_id, person_id, now)
    if isinstance(found, OfferAnswer):
        return (
            found
            if not found.already
            else OfferAnswer(found.activity, found.kind, OfferRefusal.TAKEN)
        )
    offer, activity = found
    registration = session.get(Registration, offer.registration_id)
    assert registration is not None and registration.id is not None
    _close(session, offer, OfferState.PASSED, now)
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = now
    session.add(registration)
    session.flush()
    _audit(session, offer, OFFER_PASSED, person_id, now)
    offer_free_places(session, activity=activity, now=now)
    return OfferAnswer(activity, offer.kind)
