"""Whom the animator phones: people without Telegram who hold a place in an activity.

They get no reminders from the bot, so the animators of the activity get one instead: a
"call these people" message with names and phone numbers, due with the first reminder
before the activity (24 h by default). It is one pending send per animator with the key
`calllist:{activity}:{animator}:{start}`; names and numbers are read when it is sent,
never stored in the outbox, so an erased person or a given-up place is simply left out.

Names and phone numbers leave the database only through `call_list` (staff who may
manage the activity, storage.activities.organising decides) and the send above.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from storage.activities.organising import Actor, detached, managed_activity, may_manage
from storage.messaging.outbox import enqueue
from storage.models import (
    Activity,
    ActivityStatus,
    Person,
    Registration,
    RegistrationStatus,
    Role,
    RoleGrant,
    SendKind,
)


@dataclass(frozen=True)
class CallEntry:
    """One person to phone; `phone` is None when none was recorded."""

    person_id: int
    display_name: str
    phone: str | None


@dataclass(frozen=True)
class CallList:
    """An activity and the people without Telegram who hold a place in it."""

    activity: Activity
    entries: list[CallEntry]

    @property
    def without_phone(self) -> int:
        """How many have no phone number recorded."""
        return sum(1 for e in self.entries if e.phone is None)


def paper_places(session: Session, *, activity_id: int) -> list[CallEntry]:
    """People without Telegram (not erased) holding a place, by name."""
    rows = session.exec(
        select(Person.id, Person.display_name, Person.phone)
        .join(Registration, col(Registration.person_id) == col(Person.id))
        .where(
            Registration.activity_id == activity_id,
            Registration.status == RegistrationStatus.CONFIRMED,
            col(Person.telegram_id).is_(None),
            col(Person.created_by_id).is_not(None),
            col(Person.erased_at).is_(None),
        )
        .order_by(col(Person.display_name), col(Person.id))
    ).all()
    return [CallEntry(int(pid), name or "—", phone) for pid, name, phone in rows if pid]


def call_list(session: Session, *, activity_id: int, actor: Actor) -> CallList:
    """The call list of an activity the actor may manage; NotYourActivity otherwise."""
    activity = managed_activity(session, activity_id=activity_id, actor=actor)
    return CallList(detached(activity), paper_places(session, activity_id=activity_id))


# ---------------------------------------------------------------- the reminder to animators


def call_list_recipients(session: Session, *, activity: Activity) -> list[int]:
    """Animators of the activity's programme who may manage it and can be messaged.

    The organiser if there is one (an animator or a coordinator of the programme who
    created it), else the programme's animators; each must still hold that role for the
    programme (the access rule decides). Admins, and coordinators of activities they do
    not organise, are not included: they oversee rather than run them.
    """
    if activity.programme_id is None:
        return []
    roles = (
        [Role.ANIMATOR.value, Role.COORDINATOR.value]
        if activity.organiser_id is not None
        else [Role.ANIMATOR.value]
    )
    query = (
        select(Person)
        .join(RoleGrant, col(RoleGrant.telegram_id) == col(Person.telegram_id))
        .where(
            col(RoleGrant.role).in_(roles),
            RoleGrant.programme_id == activity.programme_id,
            col(Person.erased_at).is_(None),
            col(Person.unreachable_at).is_(None),
        )
    )
    if activity.organiser_id is not None:
        query = query.where(Person.id == activity.organiser_id)
    found: list[int] = []
    for person in session.exec(query.order_by(col(Person.id))):
        assert person.id is not None
        staff = Actor.animator(person.id, activity.programme_id)
        if person.id not in found and may_manage(activity, staff):
            found.append(person.id)
    return found


def call_list_key(activity: Activity, recipient_id: int) -> str:
    """The dedupe key: one call list per animator and start time (a move makes a new one)."""
    return f"calllist:{activity.id}:{recipient_id}:{int(activity.starts_at.timestamp())}"


def call_list_due(starts_at: datetime, offsets: Sequence[timedelta]) -> datetime:
    """With the first reminder before the activity (the largest offset, 24 h by default)."""
    return starts_at - max(offsets, default=timedelta(hours=24))


def schedule_call_list(
    session: Session,
    *,
    activity: Activity,
    offsets: Sequence[timedelta],
    now: datetime,
    promoted_registration_id: int | None = None,
) -> int:
    """Make sure the activity's animators get the call list; returns how many are pending.

    Called when someone without Telegram gets a place. A place from the reserve list
    (`promoted_registration_id`) reaches the person only through a phone call, so the
    animators are also told at once (quiet hours still apply), whether or not the call
    list's own time has passed. Once that time has passed, an animator giving a place
    themselves is acting now and needs no message.
    """
    if activity.id is None or activity.status == ActivityStatus.CANCELLED:
        return 0
    starts_at = int(activity.starts_at.timestamp())
    due = call_list_due(activity.starts_at, offsets)
    messages: list[tuple[datetime, dict[str, int], str]] = []
    if due > now:
        messages.append((due, {"starts_at": starts_at}, ""))
    if promoted_registration_id is not None and now < activity.starts_at:
        messages.append(
            (
                now,
                {"starts_at": starts_at, "promoted": promoted_registration_id},
                f":p{promoted_registration_id}",
            )
        )
    pending = 0
    for recipient_id in call_list_recipients(session, activity=activity) if messages else []:
        for due_at, payload, key_suffix in messages:
            send = enqueue(
                session,
                kind=SendKind.CALL_LIST,
                person_id=recipient_id,
                due_at=due_at,
                activity_id=activity.id,
                programme_id=activity.programme_id,
                payload=payload,
                dedupe_key=call_list_key(activity, recipient_id) + key_suffix,
            )
            pending += send is not None
    return pending


def promoted_entry(session: Session, *, registration_id: int) -> CallEntry | None:
    """The person without Telegram who got a place from the reserve list, if it is still theirs."""
    row = session.exec(
        select(Person.id, Person.display_name, Person.phone)
        .join(Registration, col(Registration.person_id) == col(Person.id))
        .where(
            Registration.id == registration_id,
            Registration.status == RegistrationStatus.CONFIRMED,
            col(Person.telegram_id).is_(None),
            col(Person.erased_at).is_(None),
        )
    ).first()
    if row is None or row[0] is None:
        return None
    return CallEntry(int(row[0]), row[1] or "—", row[2])


def still_staff(session: Session, *, activity: Activity, person_id: int) -> bool:
    """Whether the animator still belongs to the activity's staff (checked when sending)."""
    return person_id in call_list_recipients(session, activity=activity)
