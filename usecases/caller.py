"""Who sent a tap, as far as Telegram says, before the database is asked."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from storage.identity import Resident, identify
from storage.models import Person, Role
from storage.roles import roles_for


@dataclass(frozen=True)
class Caller:
    """The sender's Telegram id, the deployment's admins and the language to fall back on."""

    telegram_id: int
    admin_ids: frozenset[int]
    fallback_language: str


def resident_of(session: Session, caller: Caller) -> Resident:
    """Identify the caller inside the tap's transaction (one statement)."""
    return identify(session, telegram_id=caller.telegram_id, admin_ids=caller.admin_ids,
                    fallback_language=caller.fallback_language)


def person_and_roles(
    session: Session, *, telegram_id: int, admin_ids: frozenset[int]
) -> tuple[Person | None, frozenset[Role]]:
    """The person record and roles behind a Telegram id, for handlers that need the record."""
    person = session.exec(select(Person).where(Person.telegram_id == telegram_id)).first()
    return person, roles_for(session, telegram_id, admin_ids)


def may_sign_up_in(resident: Resident, programme_id: int) -> bool:
    """Residents sign up only in their own programme (staff act for them elsewhere)."""
    return resident.programme_id == programme_id
