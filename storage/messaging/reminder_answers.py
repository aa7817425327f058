"""Answers to a reminder: "I'm coming" confirms the place, "I can't come" gives it up.

Giving up goes through the seat rule (storage/activities/seats.py), which promotes the reserve list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session

from storage.activities.seats import NotRegistered, RegistrationClosed, lock_activity, release
from storage.models import Activity, ActivityStatus, Registration, RegistrationStatus


class AnswerRefused(StrEnum):
    """Why an answer to a reminder cannot be taken."""

    NOT_YOURS = "not_yours"  # no such registration, or someone else's (stale or forged)
    NO_PLACE = "no_place"  # the place was given up or is not confirmed
    CANCELLED = "cancelled"  # the activity was called off
    STARTED = "started"  # too late to answer


class ReminderAnswerRefused(Exception):
    """An "I'm coming" / "I can't come" press that changes nothing; `reason` says why."""

    def __init__(self, reason: AnswerRefused) -> None:
        super().__init__(reason.value)
        self.reason = reason


def _answerable(
    session: Session, *, registration_id: int, person_id: int, now: datetime
) -> tuple[Registration, Activity]:
    registration = session.get(Registration, registration_id)
    if registration is None or registration.person_id != person_id:
        raise ReminderAnswerRefused(AnswerRefused.NOT_YOURS)
    activity = session.get(Activity, registration.activity_id)
    if activity is None:
        raise ReminderAnswerRefused(AnswerRefused.NOT_YOURS)
    if activity.status == ActivityStatus.CANCELLED:
        raise ReminderAnswerRefused(AnswerRefused.CANCELLED)
    if registration.status != RegistrationStatus.CONFIRMED:
        raise ReminderAnswerRefused(AnswerRefused.NO_PLACE)
    if activity.starts_at <= now:
        raise ReminderAnswerRefused(AnswerRefused.STARTED)
    return registration, activity


def confirm_coming(
    session: Session, *, registration_id: int, person_id: int, now: datetime
) -> Activity:
    """Record "I'm coming" (the first time it is said); returns the activity."""
    registration, activity = _answerable(
        session, registration_id=registration_id, person_id=person_id, now=now
    )
    if registration.confirmed_coming_at is None:
        registration.confirmed_coming_at = now
        session.add(registration)
    return activity


@dataclass(frozen=True)
class GaveUp:
    """What "I can't come" did."""

    activity: Activity
    # Whether someone from the reserve list got the place.
    promoted: bool


def give_up_place(
    session: Session, *, registration_id: int, person_id: int, now: datetime
) -> GaveUp:
    """Free the place at once through the seat rule, which promotes the reserve list."""
    _registration, activity = _answerable(
        session, registration_id=registration_id, person_id=person_id, now=now
    )
    assert activity.id is not None
    try:
        # The seat rule locks the activity and checks the place again under the lock.
        released = release(
            session, locked=lock_activity(session, activity.id), person_id=person_id, now=now
        )
    except NotRegistered:
        raise ReminderAnswerRefused(AnswerRefused.NO_PLACE) from None
    except RegistrationClosed:
        raise ReminderAnswerRefused(AnswerRefused.STARTED) from None
    return GaveUp(activity, bool(released.promoted))
