"""The animators' reminder "call these people", written when it is sent.

Rendering at send time means the list is the one true then: people who gave up their
place or were erased are left out, and nothing is sent if nobody is left, if the
activity was called off or moved (the move schedules a new one), or if the animator no
longer belongs to the activity's staff. Quiet hours apply: it is never urgent at night.
"""

from __future__ import annotations

from sqlmodel import Session

from schedules.messages import Button, OutgoingMessage
from schedules.reminder_notices import when_line
from storage.activities.call_list import CallEntry, paper_places, promoted_entry, still_staff
from storage.models import Activity, ActivityStatus, PendingSend, Person
from translations import Translator

# Lines of people in the chat message; longer lists are in the CSV file.
PEOPLE_IN_MESSAGE = 50


def call_lines(
    t: Translator, entries: list[CallEntry], limit: int = PEOPLE_IN_MESSAGE
) -> list[str]:
    """`1. Pani Zofia — 600 123 456` per person, cut with a pointer to the CSV file."""
    lines = [
        f"{number}. {entry.display_name} — "
        + (entry.phone if entry.phone else t._("no phone number recorded"))
        for number, entry in enumerate(entries[:limit], 1)
    ]
    if len(entries) > limit:
        rest = len(entries) - limit
        lines.append(
            t.ngettext(
                "…and {n} more: see the CSV file.", "…and {n} more: see the CSV file.", rest
            ).format(n=rest)
        )
    return lines


def render_call_list(
    session: Session, send: PendingSend, person: Person, t: Translator
) -> OutgoingMessage | None:
    """Names and phones of people without Telegram holding a place, for the animator."""
    activity = session.get(Activity, send.activity_id) if send.activity_id else None
    if activity is None or activity.status == ActivityStatus.CANCELLED or activity.id is None:
        return None
    if send.payload.get("starts_at") != int(activity.starts_at.timestamp()):
        return None  # the activity moved; the call list for the new time replaces this one
    assert person.id is not None
    if not still_staff(session, activity=activity, person_id=person.id):
        return None
    buttons = ((Button(t._("📄 Call list (CSV)"), callback_data=f"ano:csv:{activity.id}"),),)
    if "promoted" in send.payload:
        return _promotion(session, send, activity, t, buttons)
    entries = paper_places(session, activity_id=activity.id)
    if not entries:
        return None
    lines = [
        t._("📞 Call these people: {title}").format(title=activity.title),
        when_line(t, activity),
        t._("📍 Where: {venue}").format(venue=activity.venue),
        "",
        t.ngettext(
            "{n} person without Telegram holds a place and gets no reminder from the bot. "
            "Please phone them:",
            "{n} people without Telegram hold a place and get no reminder from the bot. "
            "Please phone them:",
            len(entries),
        ).format(n=len(entries)),
        "",
        *call_lines(t, entries),
    ]
    return OutgoingMessage(text="\n".join(lines), buttons=buttons)


def _promotion(
    session: Session,
    send: PendingSend,
    activity: Activity,
    t: Translator,
    buttons: tuple[tuple[Button, ...], ...],
) -> OutgoingMessage | None:
    """A place from the reserve list went to someone without Telegram: phone them now."""
    moment = send.claimed_at or send.due_at
    entry = promoted_entry(session, registration_id=int(send.payload["promoted"]))
    if entry is None or moment >= activity.starts_at:
        return None  # the place is no longer theirs, or it is too late to matter
    lines = [
        t._(
            "📞 A place became free for {name}, who has no Telegram. Please phone them: {phone}"
        ).format(name=entry.display_name, phone=entry.phone or t._("no phone number recorded")),
        "",
        f"📌 {activity.title}",
        when_line(t, activity),
        t._("📍 Where: {venue}").format(venue=activity.venue),
    ]
    return OutgoingMessage(text="\n".join(lines), buttons=buttons)
