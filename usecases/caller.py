"""Who sent a tap, as far as Telegram says, before the database is asked."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from storage.access import Access, Action, Actor, actor_of_person, load_access, may
from storage.models import Person
from storage.people.identity import Resident, identify


@dataclass(frozen=True)
class Caller:
    """The sender's Telegram id, the deployment's admins and the language to fall back on."""

    telegram_id: int
    admin_ids: frozenset[int]
    fallback_language: str


def resident_of(session: Session, caller: Caller) -> Resident:
    """Identify the caller inside the tap's transaction (one statement)."""
    return identify(
        session,
        telegram_id=caller.telegram_id,
        admin_ids=caller.admin_ids,
        fallback_language=caller.fallback_language,
    )


@dataclass(frozen=True)
class Sender:
    """The person record, grants and Actor behind a Telegram id (for the other handlers)."""

    person: Person | None
    access: Access
    actor: Actor | None


def sender_of(session: Session, *, telegram_id: int, admin_ids: frozenset[int]) -> Sender:
    """The person record and what the access rule needs, for handlers that need them."""
    person = session.exec(select(Person).where(Person.telegram_id == telegram_id)).first()
    access = load_access(session, telegram_id, admin_ids)
    actor = actor_of_person(session, person, access) if person and person.id else None
    return Sender(person, access, actor)


def may_sign_up_in(resident: Resident, programme_id: int) -> bool:
    """Whether the resident may sign themself up in the programme (storage.access decides:
    their own programme only; staff act for residents elsewhere)."""
    actor = resident.actor
    return actor is not None and may(actor, Action.SIGN_UP, programme_id=programme_id)
