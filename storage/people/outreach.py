"""Reaching people off the chat: what goes on posters, and phone numbers on record.

Posters show only what residents see in the activity list anyway (title, time, venue,
free places). Phone numbers of people without Telegram are set here by the programme's
staff (storage.people.acting_for decides whom an animator may act for) and are erased with
the person (storage.privacy.erasure).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from storage.activities.listing import ListedActivity, confirmed_count, upcoming_activities
from storage.activities.organising import Actor, detached, managed_activity
from storage.audit import record
from storage.dialogs import close_dialog, get_dialog, save_dialog
from storage.models import Activity, Person, Programme
from storage.people.acting_for import proxy_scope
from storage.people.without_telegram import normalise_phone, proxy_participant

# The dialog that waits for a typed phone number: {"person_id": <person without Telegram>}.
PHONE_DIALOG = "proxy_phone"
# Activities on the programme's poster (six to a page).
POSTER_ACTIVITIES = 30
# Audit action of a phone number set, changed or removed by staff (ids only, no number).
PHONE_CHANGED = "proxy.phone_changed"


class NoProgramme(LookupError):
    """The actor belongs to no programme, so there is no programme list to print."""


@dataclass(frozen=True)
class ActivityPosterFacts:
    """One activity for its poster."""

    activity: Activity
    programme: str
    taken: int


@dataclass(frozen=True)
class ProgrammePosterFacts:
    """A programme's upcoming activities for its poster."""

    programme: str
    items: list[ListedActivity]


def activity_poster_facts(
    session: Session, *, activity_id: int, actor: Actor
) -> ActivityPosterFacts:
    """The activity with its places taken, if the actor may manage it (NotYourActivity)."""
    activity = managed_activity(session, activity_id=activity_id, actor=actor)
    programme = session.get(Programme, activity.programme_id)
    return ActivityPosterFacts(
        detached(activity),
        programme.name if programme else "",
        confirmed_count(session, activity_id),
    )


def programme_poster_facts(
    session: Session, *, actor: Actor, now: datetime
) -> ProgrammePosterFacts:
    """The actor's programme's activities not yet started, soonest first (NoProgramme)."""
    programme = session.get(Programme, actor.programme_id) if actor.programme_id else None
    if programme is None or programme.id is None:
        raise NoProgramme(actor.person_id)
    page = upcoming_activities(session, programme_id=programme.id, now=now, size=POSTER_ACTIVITIES)
    items = [ListedActivity(detached(i.activity), i.free) for i in page.items]
    return ProgrammePosterFacts(programme.name, items)


def set_proxy_phone(session: Session, *, actor: Actor, person_id: int, raw: str | None) -> Person:
    """Set (or with None remove) the phone of a person without Telegram the actor acts for.

    Raises storage.people.without_telegram.ProxyNotFound for anyone else and InvalidPhone
    for a bad number.
    """
    person = proxy_participant(session, person_id=person_id, programme_ids=proxy_scope(actor))
    phone = normalise_phone(raw) if raw is not None else None
    if person.phone != phone:
        person.phone = phone
        session.add(person)
        record(
            session,
            actor_id=actor.person_id,
            action=PHONE_CHANGED,
            subject_type="person",
            subject_id=person.id,
            details={"has_phone": phone is not None},
        )
    return detached(person)


def ask_phone(session: Session, *, actor: Actor, person_id: int) -> Person:
    """Wait for the actor to type the person's phone number (ProxyNotFound for others)."""
    person = proxy_participant(session, person_id=person_id, programme_ids=proxy_scope(actor))
    save_dialog(
        session,
        person_id=actor.person_id,
        kind=PHONE_DIALOG,
        step="phone",
        data={"person_id": person_id},
        awaits_text=True,
    )
    return detached(person)


def phone_typed(session: Session, *, actor: Actor, raw: str) -> Person | None:
    """Store the typed number for the person the dialog is about; None if none waits.

    InvalidPhone leaves the dialog waiting, so the animator can type it again.
    """
    dialog = get_dialog(session, person_id=actor.person_id, kind=PHONE_DIALOG)
    if dialog is None:
        return None
    person = set_proxy_phone(session, actor=actor, person_id=int(dialog.data["person_id"]), raw=raw)
    close_dialog(session, person_id=actor.person_id, kind=PHONE_DIALOG)
    return person


def end_phone_edit(session: Session, *, actor: Actor, person_id: int, remove: bool) -> Person:
    """Stop waiting for a number; with `remove`, delete the one on record."""
    if remove:
        person = set_proxy_phone(session, actor=actor, person_id=person_id, raw=None)
    else:
        person = detached(
            proxy_participant(session, person_id=person_id, programme_ids=proxy_scope(actor))
        )
    close_dialog(session, person_id=actor.person_id, kind=PHONE_DIALOG)
    return person
