"""/start: the main menu (with a deep-linked activity) or the first steps, in one tap."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from storage.identity import Resident
from storage.models import Person
from storage.people import start_person
from storage.resident_views import card_view
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
    session: Session, *, caller: Caller, payload: str | None, activity_id: int | None,
    now: datetime,
) -> StartOutcome:
    """Identify the sender; begin or resume the first steps, or read the linked activity.

    A deep link sent before onboarding is done is remembered and opens afterwards.
    """
    resident = resident_of(session, caller)
    if resident.is_onboarded:
        if activity_id is None:
            return StartOutcome(resident)
        view = card_view(session, activity_id=activity_id, person_id=resident.person_id,
                         now=now)
        return StartOutcome(resident, details=ActivityDetails(resident, view))
    person, created = start_person(session, telegram_id=caller.telegram_id,
                                   language=resident.language, start_payload=payload)
    return StartOutcome(resident, person, created)
