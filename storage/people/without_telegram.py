"""Participants without Telegram, whom an animator represents (paper surveys, sign-ups).

Such a person is a `Person` row without a Telegram id, created by an animator, holding
only a display name (and a phone number if the person wants calls about activities).
"""

from __future__ import annotations

import re

from sqlmodel import Session, col, select

from storage.audit import AuditAction, record
from storage.models import Person, Programme
from storage.models.people import OnboardingStep
from storage.people.onboarding import validate_display_name

_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{5,19}$")


class InvalidPhone(ValueError):
    """Not a phone number (digits, spaces, dashes, an optional leading +; 6–20 long)."""


class ProxyNotFound(LookupError):
    """No participant without Telegram with that id in the animator's programmes."""


def normalise_phone(raw: str) -> str:
    """Trim a phone number and check its shape; InvalidPhone otherwise."""
    phone = re.sub(r"\s+", " ", raw.strip())
    if not _PHONE.match(phone):
        raise InvalidPhone(raw)
    return phone


def create_proxy_participant(
    session: Session,
    *,
    display_name: str,
    created_by_id: int,
    programme_id: int,
    phone: str | None = None,
    paper_notice_signed: bool = False,
) -> Person:
    """Create the record of a resident without Telegram (audited, ids only).

    Raises storage.people.onboarding.InvalidDisplayName or InvalidPhone for bad input and
    LookupError for an unknown programme.
    """
    name = validate_display_name(display_name)
    if session.get(Programme, programme_id) is None:
        raise LookupError(f"programme {programme_id}")
    person = Person(
        telegram_id=None,
        display_name=name,
        language="pl",
        onboarding_step=OnboardingStep.DONE,
        programme_id=programme_id,
        created_by_id=created_by_id,
        phone=normalise_phone(phone) if phone else None,
        paper_notice_signed=paper_notice_signed,
    )
    session.add(person)
    session.flush()
    record(
        session,
        actor_id=created_by_id,
        action=AuditAction.PROXY_CREATED,
        subject_type="person",
        subject_id=person.id,
        details={"programme_id": programme_id, "paper_notice_signed": paper_notice_signed},
    )
    return person


def proxy_participants(session: Session, *, programme_id: int) -> list[Person]:
    """A programme's participants without Telegram, by name (erased ones left out)."""
    return list(
        session.exec(
            select(Person)
            .where(
                Person.programme_id == programme_id,
                col(Person.telegram_id).is_(None),
                col(Person.created_by_id).is_not(None),
                col(Person.erased_at).is_(None),
            )
            .order_by(col(Person.display_name), col(Person.id))
        )
    )


def proxy_participant(
    session: Session, *, person_id: int, programme_ids: set[int] | None
) -> Person:
    """One participant without Telegram, if in one of `programme_ids` (None = any)."""
    person = session.get(Person, person_id)
    if (
        person is None
        or not person.is_proxy
        or person.erased_at is not None
        or (programme_ids is not None and person.programme_id not in programme_ids)
    ):
        raise ProxyNotFound(person_id)
    return person
