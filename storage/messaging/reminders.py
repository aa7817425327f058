"""Activity reminders: created with a confirmed place, withdrawn with it, moved with the
activity. Each is one pending send with the stable key `reminder:{registration}:{offset}`,
so scheduling twice changes nothing and a restart never loses or repeats one.

Offsets come from the programme (`Programme.reminder_offsets`, e.g. `48h,3h`) or else
from the deployment's default (`PALBOT_REMINDER_OFFSETS`, bound to the engine, see
storage.programmes.defaults).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from storage.activities.call_list import schedule_call_list
from storage.messaging.outbox import NewSend, cancel_pending, enqueue
from storage.models import (
    Activity,
    ActivityStatus,
    PendingSend,
    Person,
    Programme,
    Registration,
    RegistrationStatus,
    SendKind,
    SendState,
)
from storage.programmes.defaults import defaults_of
from storage.setting_values import parse_offsets

log = logging.getLogger(__name__)


def offsets_for(
    programme: Programme | None, default: tuple[timedelta, ...]
) -> tuple[timedelta, ...]:
    """A programme's own offsets, largest first, else `default`."""
    if programme is None:
        return default
    return offsets_from(programme.reminder_offsets, programme_id=programme.id, default=default)


def offsets_from(
    raw: str | None, *, programme_id: int | None, default: tuple[timedelta, ...]
) -> tuple[timedelta, ...]:
    """A programme's `reminder_offsets` text as offsets, largest first, else `default`."""
    if raw is None or not raw.strip():
        return default
    try:
        return parse_offsets(raw)
    except ValueError:
        log.warning("programme %s has malformed reminder offsets; using the default", programme_id)
        return default


def reminder_key(registration_id: int, offset: timedelta) -> str:
    """The stable dedupe key of one reminder."""
    return f"reminder:{registration_id}:{int(offset.total_seconds())}"


@dataclass(frozen=True)
class ReminderPlan:
    """When one reminder is due, and whether it is the last before the activity."""

    offset: timedelta
    due_at: datetime
    last: bool


def plan(starts_at: datetime, offsets: Sequence[timedelta], now: datetime) -> list[ReminderPlan]:
    """The reminders still worth scheduling: those not yet due, largest offset first."""
    ordered = sorted(set(offsets), reverse=True)
    smallest = ordered[-1] if ordered else None
    return [
        ReminderPlan(offset, starts_at - offset, offset == smallest)
        for offset in ordered
        if starts_at - offset > now
    ]


def schedule_reminders(
    session: Session,
    *,
    registration: Registration,
    now: datetime,
    offsets: Sequence[timedelta] | None = None,
) -> int:
    """Create (or move) the reminders of a confirmed place; returns how many are pending.

    Reminders whose time has already passed when the place is confirmed are not sent:
    the person has just been told about the place.
    """
    if registration.id is None or registration.status != RegistrationStatus.CONFIRMED:
        return 0
    person = session.get(Person, registration.person_id)
    if person is None:
        return 0
    activity = session.get(Activity, registration.activity_id)
    if activity is None or activity.status == ActivityStatus.CANCELLED:
        return 0
    if offsets is None:
        offsets = offsets_for(
            session.get(Programme, activity.programme_id), defaults_of(session).reminder_offsets
        )
    if person.telegram_id is None:
        # Signed up on paper by an animator: the animators get a call list instead, and
        # word at once if the place came from the reserve list after the list went out.
        promoted = registration.id if registration.promoted_at == now else None
        schedule_call_list(
            session, activity=activity, offsets=offsets, now=now, promoted_registration_id=promoted
        )
        return 0
    assert activity.id is not None
    count = 0
    for send in reminder_sends(
        registration_id=registration.id,
        person_id=registration.person_id,
        activity_id=activity.id,
        programme_id=activity.programme_id,
        starts_at=activity.starts_at,
        offsets=offsets,
        now=now,
    ):
        count += (
            enqueue(
                session,
                kind=send.kind,
                person_id=send.person_id,
                due_at=send.due_at,
                activity_id=send.activity_id,
                registration_id=send.registration_id,
                programme_id=send.programme_id,
                payload=send.payload,
                dedupe_key=send.dedupe_key,
            )
            is not None
        )
    return count


def reminder_sends(
    *,
    registration_id: int,
    person_id: int,
    activity_id: int,
    programme_id: int,
    starts_at: datetime,
    offsets: Sequence[timedelta],
    now: datetime,
) -> list[NewSend]:
    """The reminders of one confirmed place, as outbox rows (the one place they are shaped)."""
    return [
        NewSend(
            kind=SendKind.REMINDER,
            person_id=person_id,
            due_at=item.due_at,
            activity_id=activity_id,
            registration_id=registration_id,
            programme_id=programme_id,
            payload={"offset": int(item.offset.total_seconds()), "last": item.last},
            dedupe_key=reminder_key(registration_id, item.offset),
        )
        for item in plan(starts_at, offsets, now)
    ]


def cancel_reminders(session: Session, *, registration_id: int) -> int:
    """Withdraw a registration's pending reminders; returns how many."""
    return cancel_pending(session, registration_id=registration_id, kinds=[SendKind.REMINDER])


def move_reminders(session: Session, *, activity_id: int, now: datetime) -> int:
    """Re-plan every reminder of an activity after its start time changed.

    Pending reminders get their new due time; those whose new time has passed are
    withdrawn (the change notice tells the person instead). A reminder already sent
    for the old time is sent again for the new one: it is a reminder of a new date.
    Returns how many reminders are pending afterwards.
    """
    activity = session.get(Activity, activity_id)
    if activity is None:
        return 0
    offsets = offsets_for(
        session.get(Programme, activity.programme_id), defaults_of(session).reminder_offsets
    )
    wanted = {}
    registrations = session.exec(
        select(Registration).where(
            Registration.activity_id == activity_id,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
    ).all()
    for registration in registrations:
        assert registration.id is not None
        for item in plan(activity.starts_at, offsets, now):
            wanted[reminder_key(registration.id, item.offset)] = item
    existing = session.exec(
        select(PendingSend).where(
            PendingSend.activity_id == activity_id, PendingSend.kind == SendKind.REMINDER.value
        )
    ).all()
    for send in existing:
        if send.dedupe_key in wanted:
            if send.state == SendState.SENT:
                # Sent for the old time: make the row pending again for the new time.
                send.state = SendState.PENDING.value
                send.sent_at = None
                send.telegram_message_id = None
                send.attempts = 0
                session.add(send)
        elif send.state == SendState.PENDING:
            send.state = SendState.CANCELLED.value
            session.add(send)
    session.flush()
    pending = 0
    for registration in registrations:
        pending += schedule_reminders(session, registration=registration, now=now, offsets=offsets)
    return pending


def cancel_activity_reminders(session: Session, *, activity_id: int) -> int:
    """Withdraw every pending reminder of an activity (it was cancelled)."""
    return cancel_pending(session, activity_id=activity_id, kinds=[SendKind.REMINDER])


def later_reminder_due(session: Session, send: PendingSend) -> datetime | None:
    """When the next reminder of the same place is due, if one is still pending."""
    if send.registration_id is None:
        return None
    return session.exec(
        select(PendingSend.due_at)
        .where(
            PendingSend.registration_id == send.registration_id,
            PendingSend.kind == SendKind.REMINDER.value,
            PendingSend.state == SendState.PENDING.value,
            col(PendingSend.due_at) > send.due_at,
        )
        .order_by(col(PendingSend.due_at))
    ).first()
