"""Notices the promotion rule leaves in the outbox: an offer of a freed place, its
expiry, and the animator's call for a person without Telegram whose turn came.

Callback data: `of:t:<offer id>` ("Take the place") and `of:p:<offer id>` ("Pass"), which
asks first: `of:px:<offer id>` confirms, `of:b:<offer id>` brings the offer's buttons back.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from schedules.messages import Button, OutgoingMessage
from storage.models import (
    Activity,
    ActivityStatus,
    OfferKind,
    OfferState,
    PendingSend,
    Person,
    PlaceOffer,
    Registration,
    RegistrationStatus,
)
from translations import Translator

TAKE_PREFIX = "of:t:"
PASS_PREFIX = "of:p:"
PASS_CONFIRMED_PREFIX = "of:px:"
BACK_PREFIX = "of:b:"
# An animator's call about a place within this time of the start ignores quiet hours.
_URGENT = timedelta(hours=12)


def _offer(session: Session, send: PendingSend) -> PlaceOffer | None:
    offer_id = send.payload.get("offer_id")
    return session.get(PlaceOffer, offer_id) if isinstance(offer_id, int) else None


def offer_buttons(t: Translator, offer_id: int) -> tuple[tuple[Button, ...], ...]:
    """ "Take the place" and an explicit "Pass", one per row (large targets)."""
    return (
        (Button(t._("✅ Take the place"), callback_data=f"{TAKE_PREFIX}{offer_id}"),),
        (Button(t._("Pass and leave the reserve list"), callback_data=f"{PASS_PREFIX}{offer_id}"),),
    )


def pass_question_buttons(t: Translator, offer_id: int) -> tuple[tuple[Button, ...], ...]:
    """The question before passing: leaving the reserve list cannot be undone by a tap."""
    return (
        (
            Button(
                t._("Yes, pass and leave the list"),
                callback_data=f"{PASS_CONFIRMED_PREFIX}{offer_id}",
            ),
        ),
        (Button(t._("No, go back"), callback_data=f"{BACK_PREFIX}{offer_id}"),),
    )


def render_offer(
    session: Session, send: PendingSend, person: Person, t: Translator
) -> OutgoingMessage | None:
    """Offer a freed place; dropped once the offer is closed or its time is up."""
    offer = _offer(session, send)
    if offer is None or offer.id is None or offer.state != OfferState.OFFERED:
        return None
    activity = session.get(Activity, offer.activity_id)
    moment = send.claimed_at or send.due_at
    if activity is None or activity.status == ActivityStatus.CANCELLED:
        return None
    if moment >= offer.deadline or moment >= activity.starts_at:
        return None
    details = t._("📌 {title}\n🗓 {date}\n📍 {venue}").format(
        title=activity.title, date=t.date_time(activity.starts_at), venue=activity.venue
    )
    if offer.kind == OfferKind.FIRST_COME:
        text = t._(
            "A place became free at the last minute!\n\n{details}\n\n"
            "Everyone on the reserve list got this message: the place goes to whoever "
            'taps "Take the place" first.'
        ).format(details=details)
    else:
        text = t._(
            "A place became free and you are first on the reserve list.\n\n{details}\n\n"
            'The place is kept for you until {deadline}. Tap "Take the place" to have it. '
            "If you do not answer by then, it goes to the next person and you stay on the "
            "reserve list."
        ).format(details=details, deadline=t.date_time(offer.deadline))
    return OutgoingMessage(
        text=text,
        buttons=offer_buttons(t, offer.id),
        # The deadline runs from the moment the place freed: holding the offer until the
        # morning would eat the time the person has to answer.
        exempt_from_quiet_hours=True,
    )


def render_offer_expired(
    session: Session, send: PendingSend, person: Person, t: Translator
) -> OutgoingMessage | None:
    """Tell someone their time to take a place ran out; they are still on the list."""
    offer = _offer(session, send)
    if offer is None or offer.state != OfferState.EXPIRED:
        return None
    registration = session.get(Registration, offer.registration_id)
    activity = session.get(Activity, offer.activity_id)
    if (
        registration is None
        or registration.status != RegistrationStatus.RESERVE
        or activity is None
        or activity.status == ActivityStatus.CANCELLED
    ):
        return None
    moment = send.claimed_at or send.due_at
    if moment >= activity.starts_at:
        return None
    return OutgoingMessage(
        text=t._(
            'The time to take the place in "{title}" ({date}) has run out, so it was offered '
            "to the next person.\n\nYou are still on the reserve list. If a place frees up "
            "shortly before the start, you will get a message and can take it."
        ).format(title=activity.title, date=t.date_time(activity.starts_at))
    )
