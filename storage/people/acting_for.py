"""Acting for people without Telegram: their card, sign-ups, places and attendance.

Every action goes through the shared rules (storage.people.without_telegram for the
record, the seat rule with `proxy_by_id`, storage.activities.attendance) after checking
that the person belongs to the animator's granted programmes (storage.access; admins:
any programme).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from storage.access import Action, programmes_for
from storage.activities.attendance import NotOnTheList, set_attendance
from storage.activities.listing import ActivityNotFound, upcoming_activities
from storage.activities.organising import Actor, detached
from storage.activities.seat_counts import reserve_position
from storage.activities.seats import cancel, sign_up
from storage.dialogs import close_dialog, get_dialog
from storage.models import Activity, Person, Registration, RegistrationStatus
from storage.models.activities import ACTIVE_STATUSES
from storage.people.without_telegram import (
    create_proxy_participant,
    proxy_participant,
    proxy_participants,
)

KIND = "animator_proxy"
# Activities this recent still show on a person's card, for marking attendance.
RECENT = timedelta(days=7)


def proxy_scope(actor: Actor) -> set[int] | None:
    """Programmes whose people the actor may act for (None: every programme, admins)."""
    scope = programmes_for(actor, Action.ACT_FOR_PERSON)
    return None if scope is None else set(scope)


@dataclass(frozen=True)
class Entry:
    """One of the person's sign-ups."""

    activity: Activity
    registration_id: int
    has_place: bool
    position: int | None
    attended: bool


@dataclass(frozen=True)
class Card:
    """A person without Telegram, with their sign-ups."""

    person: Person
    entries: list[Entry]


def proxy_card(session: Session, *, actor: Actor, person_id: int, now: datetime) -> Card:
    """A person without Telegram with their sign-ups (recent ones too, for attendance)."""
    person = proxy_participant(session, person_id=person_id, programme_ids=proxy_scope(actor))
    rows = session.exec(
        select(Registration, Activity)
        .join(Activity, col(Activity.id) == col(Registration.activity_id))
        .where(
            Registration.person_id == person_id,
            col(Registration.status).in_([s.value for s in ACTIVE_STATUSES]),
            col(Activity.ends_at) > now - RECENT,
        )
        .order_by(col(Activity.starts_at))
    ).all()
    entries = [
        Entry(
            detached(activity),
            registration.id or 0,
            registration.status == RegistrationStatus.CONFIRMED,
            reserve_position(session, registration),
            registration.attended,
        )
        for registration, activity in rows
    ]
    return Card(detached(person), entries)


def proxy_people(session: Session, *, actor: Actor) -> list[Person]:
    """The animator's programme's people without Telegram."""
    if actor.programme_id is None:
        return []
    return [detached(p) for p in proxy_participants(session, programme_id=actor.programme_id)]


def create_from_dialog(session: Session, *, actor: Actor, signed: bool) -> Person | None:
    """Create the record from the adding dialog's answers; None if no dialog waits."""
    dialog = get_dialog(session, person_id=actor.person_id, kind=KIND)
    if dialog is None or dialog.step != "notice" or actor.programme_id is None:
        return None
    close_dialog(session, person_id=actor.person_id, kind=KIND)
    person = create_proxy_participant(
        session,
        display_name=str(dialog.data.get("name", "")),
        created_by_id=actor.person_id,
        programme_id=actor.programme_id,
        phone=dialog.data.get("phone"),
        paper_notice_signed=signed,
    )
    return detached(person)


def proxy_choices(
    session: Session, *, actor: Actor, person_id: int, now: datetime
) -> list[Activity]:
    """Upcoming activities of the person's programme."""
    person = proxy_participant(session, person_id=person_id, programme_ids=proxy_scope(actor))
    assert person.programme_id is not None
    page = upcoming_activities(session, programme_id=person.programme_id, now=now, size=20)
    return [item.activity for item in page.items]


def proxy_sign_up(
    session: Session, *, actor: Actor, person_id: int, activity_id: int, now: datetime
) -> tuple[bool, int | None]:
    """The seat rule for the person, recorded as done by the animator; (place?, position)."""
    person = proxy_participant(session, person_id=person_id, programme_ids=proxy_scope(actor))
    activity = session.get(Activity, activity_id)
    if activity is None or activity.programme_id != person.programme_id:
        raise ActivityNotFound(activity_id)
    result = sign_up(
        session, person_id=person_id, activity_id=activity_id, now=now, proxy_by_id=actor.person_id
    )
    return result.confirmed, result.position


def proxy_cancel(
    session: Session, *, actor: Actor, person_id: int, activity_id: int, now: datetime
) -> None:
    """Give the person's place back (the seat rule records who did it)."""
    proxy_participant(session, person_id=person_id, programme_ids=proxy_scope(actor))
    cancel(session, person_id=person_id, activity_id=activity_id, now=now, by_id=actor.person_id)


def proxy_attendance(
    session: Session,
    *,
    actor: Actor,
    person_id: int,
    activity_id: int,
    registration_id: int,
    attended: bool,
    now: datetime,
) -> None:
    """Mark the person present or not at one of their activities."""
    proxy_participant(session, person_id=person_id, programme_ids=proxy_scope(actor))
    registration = session.get(Registration, registration_id)
    if registration is None or registration.person_id != person_id:
        raise NotOnTheList(registration_id)
    set_attendance(
        session,
        activity_id=activity_id,
        registration_id=registration_id,
        attended=attended,
        actor=actor,
        now=now,
    )
