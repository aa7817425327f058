"""Texts of reminders and change notices, written when they are sent.

Rendering at send time means a reminder shows the activity as it is then, in the
language the person uses then; anything no longer true (place given up, activity
gone) makes the renderer return None and the send is dropped.
"""

from __future__ import annotations

from sqlmodel import Session

from schedules.messages import Button, OutgoingMessage
from storage.activities.change_notices import ChangeNotice
from storage.activities.seat_counts import reserve_position
from storage.models import (
    Activity,
    ActivityStatus,
    PendingSend,
    Person,
    Registration,
    RegistrationStatus,
)
from storage.models.activities import ACTIVE_STATUSES
from translations import Translator

# Callback data of the reminder buttons: `rem:y:<registration id>` / `rem:n:<id>`.
COMING_PREFIX = "rem:y:"
NOT_COMING_PREFIX = "rem:n:"


def answer_buttons(t: Translator, registration_id: int) -> tuple[tuple[Button, ...], ...]:
    """The two buttons under a reminder: I'm coming / I can't come."""
    return (
        (
            Button(t._("✅ I'm coming"), callback_data=f"{COMING_PREFIX}{registration_id}"),
            Button(t._("❌ I can't come"), callback_data=f"{NOT_COMING_PREFIX}{registration_id}"),
        ),
    )


def when_line(t: Translator, activity: Activity) -> str:
    """`📅 Kiedy: wtorek, 1 grudnia, godz. 17:00`."""
    return t._("📅 When: {date}, at {time}").format(
        date=t.date(activity.starts_at), time=t.time(activity.starts_at)
    )


def _registration(session: Session, send: PendingSend) -> Registration | None:
    if send.registration_id is None:
        return None
    return session.get(Registration, send.registration_id)


def render_reminder(
    session: Session, send: PendingSend, person: Person, t: Translator
) -> OutgoingMessage | None:
    """What, when, where and whom to ask, with I'm coming / I can't come."""
    registration = _registration(session, send)
    if registration is None or registration.status != RegistrationStatus.CONFIRMED:
        return None
    activity = session.get(Activity, registration.activity_id)
    if activity is None or activity.status == ActivityStatus.CANCELLED:
        return None
    assert registration.id is not None
    lines = [
        t._("🔔 Reminder: {title}").format(title=activity.title),
        when_line(t, activity),
        t._("📍 Where: {venue}").format(venue=activity.venue),
    ]
    if activity.contact:
        lines.append(t._("☎️ Contact: {contact}").format(contact=activity.contact))
    lines += ["", t._("Will you come? Let us know with a button below.")]
    return OutgoingMessage(
        text="\n".join(lines),
        buttons=answer_buttons(t, registration.id),
        # The last reminder before the activity is the one people rely on in the morning.
        exempt_from_quiet_hours=bool(send.payload.get("last")),
    )


def render_change(
    session: Session, send: PendingSend, person: Person, t: Translator
) -> OutgoingMessage | None:
    """The activity moved, changed place or was called off, compared with before."""
    registration = _registration(session, send)
    if registration is None or registration.status not in ACTIVE_STATUSES:
        return None
    activity = session.get(Activity, registration.activity_id)
    if activity is None:
        return None
    notice = ChangeNotice.from_payload(send.payload)
    if notice.cancelled:
        if activity.status != ActivityStatus.CANCELLED:
            return None
        return OutgoingMessage(
            text="\n".join(
                [
                    t._("❌ Called off: {title}").format(title=activity.title),
                    t._("It was planned for {date_time}.").format(
                        date_time=t.date_time(activity.starts_at)
                    ),
                    "",
                    t._("We are sorry. You do not need to do anything."),
                ]
            )
        )
    if activity.status == ActivityStatus.CANCELLED:
        return None
    moved = notice.old_starts_at is not None and notice.old_starts_at != activity.starts_at
    relocated = notice.old_venue is not None and notice.old_venue != activity.venue
    if moved and relocated:
        header = t._("🔄 New time and venue: {title}")
    elif moved:
        header = t._("🔄 New time: {title}")
    elif relocated:
        header = t._("🔄 New venue: {title}")
    else:
        return None  # changed and changed back before the notice went out
    lines = [header.format(title=activity.title), when_line(t, activity)]
    if moved and notice.old_starts_at is not None:
        lines.append(
            t._("(before: {date_time})").format(date_time=t.date_time(notice.old_starts_at))
        )
    lines.append(t._("📍 Where: {venue}").format(venue=activity.venue))
    if relocated:
        lines.append(t._("(before: {venue})").format(venue=notice.old_venue))
    buttons: tuple[tuple[Button, ...], ...] = ()
    position = reserve_position(session, registration)
    if position is not None:
        lines += [
            "",
            t._("⏳ You are on the reserve list (position {position}).").format(position=position),
        ]
    elif moved:
        lines += ["", t._("Can you come at the new time? Let us know with a button below.")]
        assert registration.id is not None
        buttons = answer_buttons(t, registration.id)
    return OutgoingMessage(text="\n".join(lines), buttons=buttons)
