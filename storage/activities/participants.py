"""Who is in an activity, for its animator: places, reserve list, attendance.

Display names leave the database only through here and only for animators and admins
who may manage the activity (storage.activities.organising decides).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from storage.activities.organising import Actor, detached, managed_activity
from storage.models import Activity, Person, Registration, RegistrationStatus
from storage.models.activities import ACTIVE_STATUSES


@dataclass(frozen=True)
class ParticipantRow:
    """One person's standing in an activity."""

    registration_id: int
    person_id: int
    display_name: str
    has_place: bool
    # 1-based reserve-list position; None for a place.
    position: int | None
    attended: bool
    without_telegram: bool
    # Signed up by an animator on the person's behalf.
    by_proxy: bool
    signed_up_at: datetime


@dataclass(frozen=True)
class ParticipantList:
    """The activity, its people, and the counts the animator sees at the top."""

    activity: Activity
    rows: list[ParticipantRow]
    ended: bool

    @property
    def places(self) -> list[ParticipantRow]:
        """People holding a place."""
        return [r for r in self.rows if r.has_place]

    @property
    def reserve(self) -> list[ParticipantRow]:
        """The reserve list in order."""
        return [r for r in self.rows if not r.has_place]

    @property
    def attended(self) -> int:
        """People marked present."""
        return sum(1 for r in self.places if r.attended)

    @property
    def no_shows(self) -> int | None:
        """People with a place not marked present; only known once the activity ended."""
        return len(self.places) - self.attended if self.ended else None

    @property
    def free(self) -> int:
        """Places still free."""
        return max(0, self.activity.places - len(self.places))


def participant_list(
    session: Session, *, activity_id: int, actor: Actor, now: datetime
) -> ParticipantList:
    """Places (alphabetical) then the reserve list (arrival order) of a managed activity."""
    activity = managed_activity(session, activity_id=activity_id, actor=actor)
    found = session.exec(
        select(Registration, Person)
        .join(Person, col(Person.id) == col(Registration.person_id))
        .where(
            Registration.activity_id == activity_id,
            col(Registration.status).in_([s.value for s in ACTIVE_STATUSES]),
        )
        .order_by(col(Registration.id))
    ).all()
    places: list[ParticipantRow] = []
    reserve: list[ParticipantRow] = []
    for registration, person in found:
        has_place = registration.status == RegistrationStatus.CONFIRMED
        row = ParticipantRow(
            registration_id=registration.id or 0,
            person_id=person.id or 0,
            display_name=person.display_name or "—",
            has_place=has_place,
            # Rows come in id order, which is the reserve list's arrival order.
            position=None if has_place else len(reserve) + 1,
            attended=registration.attended,
            without_telegram=person.telegram_id is None,
            by_proxy=registration.proxy_by_id is not None,
            signed_up_at=registration.created_at,
        )
        (places if has_place else reserve).append(row)
    places.sort(key=lambda r: (r.display_name.casefold(), r.registration_id))
    return ParticipantList(detached(activity), [*places, *reserve], ended=now >= activity.ends_at)
