"""Residents' activity taps: the list, one activity's details, signing up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session

from storage.activities.listing import ClosedReason
from storage.activities.resident_views import (
    CardPage,
    CardView,
    ProgrammeChoice,
    Standing,
    card_page,
    card_view,
    open_programme_choices,
)
from storage.activities.seats import (
    ActivityNotFound,
    RegistrationClosed,
    lock_activity,
    take_place,
)
from storage.people.identity import Resident
from storage.surveys.questionnaires import Questionnaire
from usecases.caller import Caller, may_sign_up_in, resident_of
from usecases.surveys import offer_after_sign_up


@dataclass(frozen=True)
class ActivityList:
    """The list screen: a page of the resident's programme, or programmes to choose from."""

    resident: Resident
    page: CardPage | None = None
    programmes: tuple[ProgrammeChoice, ...] = ()


def list_activities(session: Session, *, caller: Caller, page: int, now: datetime) -> ActivityList:
    """A page of upcoming activities in the caller's programme."""
    resident = resident_of(session, caller)
    if not resident.is_onboarded:
        return ActivityList(resident)
    if resident.programme_id is None:
        return ActivityList(resident, programmes=tuple(open_programme_choices(session, now=now)))
    return ActivityList(
        resident, card_page(session, programme_id=resident.programme_id, now=now, page=page)
    )


@dataclass(frozen=True)
class ActivityDetails:
    """One activity as the caller sees it (None if it does not exist)."""

    resident: Resident
    view: CardView | None = None

    @property
    def other_programme(self) -> bool:
        """Whether the activity belongs to a programme the caller is not in."""
        return self.view is not None and not may_sign_up_in(
            self.resident, self.view.card.programme_id
        )


def activity_details(
    session: Session, *, caller: Caller, activity_id: int, now: datetime
) -> ActivityDetails:
    """The details screen with the caller's place or reserve position."""
    resident = resident_of(session, caller)
    if not resident.is_onboarded:
        return ActivityDetails(resident)
    return ActivityDetails(
        resident, card_view(session, activity_id=activity_id, person_id=resident.person_id, now=now)
    )


class SignUpRefusal(StrEnum):
    """Why a sign-up press changed nothing."""

    NOT_FOUND = "not_found"
    OTHER_PROGRAMME = "other_programme"
    CLOSED = "closed"


@dataclass(frozen=True)
class SignUpOutcome:
    """What a sign-up press did and what to show and send."""

    resident: Resident
    view: CardView | None = None
    refused: SignUpRefusal | None = None
    # The new (or existing) registration is new: the press changed something.
    created: bool = False
    # The initial survey to offer now (its follow-ups are already in the outbox).
    survey_offer: Questionnaire | None = None
    survey_programme_id: int | None = None


def sign_up(
    session: Session,
    *,
    caller: Caller,
    activity_id: int,
    now: datetime,
    surveys_dir: str | None,
) -> SignUpOutcome:
    """Take a place or join the reserve list; offer the initial survey at the first one.

    Everything happens in the caller's transaction: the place, its reminders, the
    survey offer's follow-ups. A second press changes nothing.
    """
    resident = resident_of(session, caller)
    if not resident.is_onboarded or resident.person_id is None:
        return SignUpOutcome(resident)
    try:
        locked = lock_activity(session, activity_id)
    except ActivityNotFound:
        return SignUpOutcome(resident, refused=SignUpRefusal.NOT_FOUND)
    card = locked.card
    if not may_sign_up_in(resident, card.programme_id):
        view = card_view(session, activity_id=activity_id, person_id=resident.person_id, now=now)
        return SignUpOutcome(resident, view, SignUpRefusal.OTHER_PROGRAMME)
    try:
        place = take_place(session, locked=locked, person_id=resident.person_id, now=now)
    except RegistrationClosed as closed:
        view = card_view(session, activity_id=activity_id, person_id=resident.person_id, now=now)
        assert view is not None
        return SignUpOutcome(
            resident, CardView(view.card, view.standing, closed.reason), SignUpRefusal.CLOSED
        )
    standing = Standing(
        taken=place.taken,
        waiting=place.waiting,
        status=place.status,
        registration_id=place.registration_id,
        position=place.position,
        deadline_offers=place.deadline_offers,
        first_come_open=place.first_come_open,
    )
    view = CardView(card, standing, card.closed(now))
    offer = (
        offer_after_sign_up(
            session, place=place, person_id=resident.person_id, now=now, surveys_dir=surveys_dir
        )
        if place.created
        else None
    )
    return SignUpOutcome(
        resident, view, None, place.created, offer, card.programme_id if offer is not None else None
    )


__all__ = [
    "ActivityDetails",
    "ActivityList",
    "ClosedReason",
    "SignUpOutcome",
    "SignUpRefusal",
    "activity_details",
    "list_activities",
    "sign_up",
]
