"""Who holds a place and who waits: the reads of the seat rule's state.

The activity card, notices and the rule itself (storage/activities/seats.py) need them; they live
apart from the rule so that the listings can read without importing it.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func
from sqlmodel import Session, col, select

from storage.models import Registration, RegistrationStatus

# Built once: the seat rule runs on every press, and building these costs more than
# running them on SQLite.
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


def live_registration(session: Session, *, person_id: int, activity_id: int) -> Registration | None:
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


def reserve_position(session: Session, registration: Registration) -> int | None:
    """1-based position on the reserve list (arrival order), or None if not on it."""
    if registration.status != RegistrationStatus.RESERVE or registration.id is None:
        return None
    ahead = session.exec(
        _AHEAD_IN_RESERVE,
        params={"activity_id": registration.activity_id, "registration_id": registration.id},
    ).one()
    return int(ahead) + 1
