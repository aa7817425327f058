"""/start: the main menu (with a deep-linked activity) or the first steps, in one tap."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from storage.activities.resident_views import card_view
from storage.models import Person, Programme
from storage.people.identity import Resident
from storage.people.onboarding import (
    choose_programme,
    set_display_name,
    set_language,
    start_person,
    take_start_payload,
)
from usecases.activities import ActivityDetails
from usecases.caller import Caller, resident_of


@dataclass(frozen=True)
class StartOutcome:
    """What /start found: an onboarded resident (and the linked activity), or the person
    record of someone in the first steps."""

    resident: Resident
    # Set while onboarding: the record the next step is shown from (detached).
    person: Person | None = None
    created: bool = False
    details: ActivityDetails | None = None


def start(
    session: Session,
    *,
    caller: Caller,
    payload: str | None,
    activity_id: int | None,
    now: datetime,
) -> StartOutcome:
    """Identify the sender; begin or resume the first steps, or read the linked activity.

    A deep link sent before onboarding is done is remembered and opens afterwards.
    """
    resident = resident_of(session, caller)
    if resident.is_onboarded:
        if activity_id is None:
            return StartOutcome(resident)
        view = card_view(session, activity_id=activity_id, person_id=resident.person_id, now=now)
        return StartOutcome(resident, details=ActivityDetails(resident, view))
    person, created = start_person(
        session, telegram_id=caller.telegram_id, language=resident.language, start_payload=payload
    )
    return StartOutcome(resident, person, created)


def choose_language(session: Session, *, telegram_id: int, language: str) -> Person:
    """`lang:<code>`: the first step, or a later change of language."""
    person, _ = start_person(session, telegram_id=telegram_id, language=language)
    assert person.id is not None
    return set_language(session, person_id=person.id, language=language)


def name_and_payload(
    session: Session, *, person_id: int, raw: str, now: datetime
) -> tuple[Person, str | None]:
    """The display name typed; when that finishes onboarding, the remembered deep link."""
    person = set_display_name(session, person_id=person_id, raw=raw, now=now)
    payload = take_start_payload(session, person_id=person_id) if person.is_onboarded else None
    return person, payload


def programme_and_payload(
    session: Session, *, person_id: int, programme_id: int, now: datetime
) -> tuple[Person, str | None, Programme | None]:
    """`prog:<id>`: join a programme; the remembered deep link and the programme."""
    person = choose_programme(session, person_id=person_id, programme_id=programme_id, now=now)
    return (
        person,
        take_start_payload(session, person_id=person_id),
        session.get(Programme, programme_id),
    )
