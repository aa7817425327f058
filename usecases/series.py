"""Residents' weekly-series taps: the series screen, and signing up for all its dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session

from storage.activities.seats import Place, RegistrationClosed, lock_activity, take_place
from storage.activities.series_views import SeriesView, open_date_ids, series_view
from storage.people.identity import Resident
from storage.surveys.questionnaires import Questionnaire
from usecases.caller import Caller, may_sign_up_in, resident_of
from usecases.surveys import offer_after_sign_up


@dataclass(frozen=True)
class SeriesDetails:
    """A series as the caller sees it (None: gone, or no date left)."""

    resident: Resident
    view: SeriesView | None = None

    @property
    def other_programme(self) -> bool:
        """Whether the series belongs to a programme the caller is not in."""
        return self.view is not None and not may_sign_up_in(self.resident, self.view.programme_id)


def series_details(
    session: Session, *, caller: Caller, series_id: int, now: datetime
) -> SeriesDetails:
    """The series screen: its rule, its upcoming dates and the caller's place on each."""
    resident = resident_of(session, caller)
    if not resident.is_onboarded:
        return SeriesDetails(resident)
    return SeriesDetails(
        resident,
        series_view(session, series_id=series_id, person_id=resident.person_id, now=now),
    )


class SeriesRefusal(StrEnum):
    """Why "sign up for all dates" changed nothing."""

    NOT_FOUND = "not_found"
    OTHER_PROGRAMME = "other_programme"


@dataclass(frozen=True)
class SeriesSignUp:
    """What "sign up for all dates" did, and the series as it is now."""

    resident: Resident
    view: SeriesView | None = None
    refused: SeriesRefusal | None = None
    # New places and new reserve positions; dates held before are not counted.
    places: int = 0
    reserve: int = 0
    survey_offer: Questionnaire | None = None
    survey_programme_id: int | None = None

    @property
    def created(self) -> int:
        """How many dates the press signed the caller up for."""
        return self.places + self.reserve


def sign_up_for_series(
    session: Session,
    *,
    caller: Caller,
    series_id: int,
    now: datetime,
    surveys_dir: str | None,
) -> SeriesSignUp:
    """A place (or a reserve position) on every open date of the series, in one transaction.

    Each date goes through the seat rule on its own, locked in id order so two people
    signing up for the same series never wait on each other in a circle. Dates already
    held, closed or called off are left as they are; a second press changes nothing.
    """
    resident = resident_of(session, caller)
    if not resident.is_onboarded or resident.person_id is None:
        return SeriesSignUp(resident)
    before = series_view(session, series_id=series_id, person_id=resident.person_id, now=now)
    if before is None:
        return SeriesSignUp(resident, refused=SeriesRefusal.NOT_FOUND)
    if not may_sign_up_in(resident, before.programme_id):
        return SeriesSignUp(resident, before, SeriesRefusal.OTHER_PROGRAMME)
    created: list[Place] = []
    for activity_id in open_date_ids(session, series_id=series_id, now=now):
        locked = lock_activity(session, activity_id)
        try:
            place = take_place(session, locked=locked, person_id=resident.person_id, now=now)
        except RegistrationClosed:
            continue  # past its deadline: the screen shows it as closed
        if place.created:
            created.append(place)
    offer: Questionnaire | None = None
    if created:
        # Offered once, after the first place in the programme (the seat rule counts).
        first = min(created, key=lambda p: p.registration_id)
        offer = offer_after_sign_up(
            session, place=first, person_id=resident.person_id, now=now, surveys_dir=surveys_dir
        )
    after = series_view(session, series_id=series_id, person_id=resident.person_id, now=now)
    places = sum(1 for p in created if p.confirmed)
    return SeriesSignUp(
        resident,
        after,
        None,
        places,
        len(created) - places,
        offer,
        before.programme_id if offer is not None else None,
    )
