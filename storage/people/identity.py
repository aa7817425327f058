"""Who is pressing: the person behind a Telegram id and their grants, in one statement."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import BigInteger, and_, bindparam, cast, select, update
from sqlmodel import Session

from storage.access import Access, Actor, access_from
from storage.models import Role
from storage.models.people import OnboardingStep
from storage.tables import PERSON, PROGRAMME, PROGRAMME_MEMBERSHIP, ROLE_GRANT


@dataclass(frozen=True)
class Resident:
    """The sender of a tap as the use cases need them (no ORM object)."""

    telegram_id: int
    person_id: int | None
    language: str
    step: str | None
    programme_id: int | None
    programme_name: str | None
    display_name: str | None
    # Their grants, read in the same statement (storage.access judges them).
    access: Access
    # Other programmes they joined and have not left, read in the same statement.
    memberships: frozenset[int] = frozenset()

    @property
    def roles(self) -> frozenset[Role]:
        """Roles held, admin included (for menus)."""
        return self.access.roles

    @property
    def is_onboarded(self) -> bool:
        """Whether the person finished the first steps."""
        return self.person_id is not None and self.step == OnboardingStep.DONE

    @property
    def actor(self) -> Actor | None:
        """The person as the access rule judges them (without a working programme)."""
        if self.person_id is None:
            return None
        return Actor(
            person_id=self.person_id,
            access=self.access,
            home_programme_id=self.programme_id,
            memberships=self.memberships,
        )


_ME = select(cast(bindparam("telegram_id"), BigInteger).label("telegram_id")).subquery("me")
# The Telegram id itself is the driving row, so roles come back for someone who has no
# person row yet (an admin before /start); one row per role, or one row without.
_IDENTIFY = select(
    PERSON.c.id,
    PERSON.c.language,
    PERSON.c.onboarding_step,
    PERSON.c.programme_id,
    PERSON.c.display_name,
    PERSON.c.unreachable_at,
    PROGRAMME.c.name,
    ROLE_GRANT.c.role,
    ROLE_GRANT.c.programme_id.label("grant_programme_id"),
    PROGRAMME_MEMBERSHIP.c.programme_id.label("member_of"),
).select_from(
    _ME.outerjoin(PERSON, PERSON.c.telegram_id == _ME.c.telegram_id)
    .outerjoin(PROGRAMME, PROGRAMME.c.id == PERSON.c.programme_id)
    .outerjoin(ROLE_GRANT, ROLE_GRANT.c.telegram_id == _ME.c.telegram_id)
    # Rows multiply (grants × memberships); both are a handful and read as sets.
    .outerjoin(
        PROGRAMME_MEMBERSHIP,
        and_(
            PROGRAMME_MEMBERSHIP.c.person_id == PERSON.c.id,
            PROGRAMME_MEMBERSHIP.c.left_at.is_(None),
        ),
    )
)
_REACHABLE_AGAIN = (
    update(PERSON).where(PERSON.c.id == bindparam("person_id")).values(unreachable_at=None)
)


def identify(
    session: Session, *, telegram_id: int, admin_ids: Iterable[int], fallback_language: str
) -> Resident:
    """The person behind `telegram_id` (or nobody yet) with their roles.

    Someone marked unreachable (they had blocked the bot) who presses something can be
    reached again: that is noted in the same transaction.
    """
    connection = session.connection()
    rows = connection.execute(_IDENTIFY, {"telegram_id": telegram_id}).all()
    first = rows[0]
    access = access_from(
        ((row.role, row.grant_programme_id) for row in rows), telegram_id, admin_ids
    )
    if first.id is not None and first.unreachable_at is not None:
        connection.execute(_REACHABLE_AGAIN, {"person_id": first.id})
    return Resident(
        telegram_id=telegram_id,
        person_id=first.id,
        language=first.language if first.id is not None else fallback_language,
        step=first.onboarding_step,
        programme_id=first.programme_id,
        programme_name=first.name,
        display_name=first.display_name,
        access=access,
        memberships=frozenset(row.member_of for row in rows if row.member_of is not None),
    )
