"""Notices the seat rule leaves in the outbox: "a place became free and it is yours"."""

from __future__ import annotations

from sqlmodel import Session

from schedules.messages import Button, OutgoingMessage
from storage.models import (
    Activity,
    ActivityStatus,
    PendingSend,
    Person,
    Registration,
    RegistrationStatus,
)
from translations import Translator


def render_promotion(
    session: Session, send: PendingSend, person: Person, t: Translator
) -> OutgoingMessage | None:
    """Tell a promoted person about their place; drop it if the place is no longer theirs."""
    registration = session.get(Registration, send.registration_id) if send.registration_id else None
    if registration is None or registration.status != RegistrationStatus.CONFIRMED:
        return None  # cancelled again before we could tell them
    activity = session.get(Activity, registration.activity_id)
    # The send's own clock: when it was claimed, else when it fell due.
    moment = send.claimed_at or send.due_at
    if activity is None or activity.status == ActivityStatus.CANCELLED:
        return None
    if moment >= activity.starts_at:
        return None  # too late to be useful
    text = t._(
        "Good news: a place became free and it is yours!\n\n"
        "📌 {title}\n🗓 {date}\n📍 {venue}\n\n"
        "If you cannot come, please give the place back so the next person can have it."
    ).format(title=activity.title, date=t.date_time(activity.starts_at), venue=activity.venue)
    return OutgoingMessage(
        text=text,
        buttons=(
            (Button(t._("📅 Add to calendar"), callback_data=f"ics:{activity.id}"),),
            (Button(t._("Cancel my place"), callback_data=f"cx:{activity.id}"),),
        ),
        # The place is theirs now; waiting until morning could cost them the activity.
        exempt_from_quiet_hours=True,
    )
