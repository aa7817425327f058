"""Residents' own places: /my, giving a place up, and answering a reminder."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session

from storage.activities.my_places import MyPlace, my_places
from storage.activities.resident_views import CardView, card_view
from storage.activities.seats import (
    ActivityNotFound,
    NotRegistered,
    RegistrationClosed,
    lock_activity,
    release,
)
from storage.messaging.reminder_answers import (
    AnswerRefused,
    ReminderAnswerRefused,
    confirm_coming,
    give_up_place,
)
from storage.people.identity import Resident
from usecases.caller import Caller, resident_of


@dataclass(frozen=True)
class MyActivities:
    """The caller's upcoming places and reserve positions, soonest first."""

    resident: Resident
    places: tuple[MyPlace, ...] = ()


def my_activities(session: Session, *, caller: Caller, now: datetime) -> MyActivities:
    """/my: places and reserve positions in activities not yet over."""
    resident = resident_of(session, caller)
    if not resident.is_onboarded or resident.person_id is None:
        return MyActivities(resident)
    return MyActivities(resident, tuple(my_places(session, person_id=resident.person_id, now=now)))


@dataclass(frozen=True)
class ReleaseQuestion:
    """The activity whose place the caller may give up (None if it does not exist)."""

    resident: Resident
    view: CardView | None = None


def ask_release(
    session: Session, *, caller: Caller, activity_id: int, now: datetime
) -> ReleaseQuestion:
    """What the "give up your place?" question shows."""
    resident = resident_of(session, caller)
    if not resident.is_onboarded:
        return ReleaseQuestion(resident)
    return ReleaseQuestion(
        resident, card_view(session, activity_id=activity_id, person_id=resident.person_id, now=now)
    )


class ReleaseRefusal(StrEnum):
    """Why giving up a place changed nothing."""

    NOT_FOUND = "not_found"
    NOT_REGISTERED = "not_registered"
    STARTED = "started"


@dataclass(frozen=True)
class ReleaseOutcome:
    """What giving up a place did."""

    resident: Resident
    title: str = ""
    refused: ReleaseRefusal | None = None
    was_confirmed: bool = False
    # Someone from the reserve list got the place (and was told through the outbox).
    promoted: bool = False


def release_place(
    session: Session, *, caller: Caller, activity_id: int, now: datetime
) -> ReleaseOutcome:
    """Give up a place or a reserve position; the first person waiting gets a freed place."""
    resident = resident_of(session, caller)
    if not resident.is_onboarded or resident.person_id is None:
        return ReleaseOutcome(resident)
    try:
        locked = lock_activity(session, activity_id)
        released = release(session, locked=locked, person_id=resident.person_id, now=now)
    except ActivityNotFound:
        return ReleaseOutcome(resident, refused=ReleaseRefusal.NOT_FOUND)
    except NotRegistered:
        return ReleaseOutcome(resident, refused=ReleaseRefusal.NOT_REGISTERED)
    except RegistrationClosed:
        return ReleaseOutcome(resident, refused=ReleaseRefusal.STARTED)
    return ReleaseOutcome(
        resident, locked.card.title, None, released.was_confirmed, bool(released.promoted)
    )


@dataclass(frozen=True)
class ReminderAnswer:
    """What an "I'm coming" / "I can't come" press did."""

    resident: Resident
    refused: AnswerRefused | None = None
    # For "I can't come": whether someone from the reserve list got the place.
    promoted: bool = False


def answer_reminder(
    session: Session, *, caller: Caller, registration_id: int, coming: bool, now: datetime
) -> ReminderAnswer:
    """Note "I'm coming", or free the place at once for the reserve list."""
    resident = resident_of(session, caller)
    if not resident.is_onboarded or resident.person_id is None:
        return ReminderAnswer(resident)
    try:
        if coming:
            confirm_coming(
                session, registration_id=registration_id, person_id=resident.person_id, now=now
            )
            return ReminderAnswer(resident)
        gave_up = give_up_place(
            session, registration_id=registration_id, person_id=resident.person_id, now=now
        )
    except ReminderAnswerRefused as refused:
        return ReminderAnswer(resident, refused.reason)
    return ReminderAnswer(resident, promoted=gave_up.promoted)
