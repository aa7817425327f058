"""The audit trail and people's data files, read from the /admin screens.

The same rows as `palbot audit` (storage.audit) and the same data file as
`palbot person-data` (storage.privacy.my_data), limited to what the person may see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from storage.audit import AuditAction, record
from storage.models import Activity, AuditEntry, Person
from storage.people.staff_access import NotAllowed, StaffAction, StaffActor
from storage.privacy.my_data import PersonData, PersonNotFound, person_data
from storage.programmes.editions import programme_for

AUDIT_PAGE = 10
PEOPLE_SHOWN = 40


@dataclass(frozen=True)
class AuditPage:
    """Newest first: `entries` on this page, whether older ones follow."""

    entries: list[AuditEntry]
    page: int
    has_older: bool


def audit_page(
    session: Session,
    *,
    actor: StaffActor,
    programme_id: int | None,
    page: int,
    per_page: int = AUDIT_PAGE,
) -> AuditPage:
    """Audit rows, newest first, `per_page` at a time; a programme's own rows (about it, its
    activities, or naming it) for those who run it, every row for administrators (None)."""
    query = select(AuditEntry)
    if programme_id is None:
        if not actor.may(session, StaffAction.MANAGE_ADMINS, None):
            raise NotAllowed(None)
    else:
        programme_for(
            session, actor=actor, action=StaffAction.RUN_PROGRAMME, programme_id=programme_id
        )
        activities = select(Activity.id).where(Activity.programme_id == programme_id)
        # About the programme, one of its activities, or naming it (invitations, staff,
        # people without Telegram, imports record `programme_id` in their details).
        named = col(AuditEntry.details)["programme_id"].as_integer()
        query = query.where(
            or_(
                and_(
                    col(AuditEntry.subject_type) == "programme",
                    col(AuditEntry.subject_id) == programme_id,
                ),
                and_(
                    col(AuditEntry.subject_type) == "activity",
                    col(AuditEntry.subject_id).in_(activities),
                ),
                named == programme_id,
            )
        )
    rows = list(
        session.exec(
            query.order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
            .offset(max(page, 0) * per_page)
            .limit(per_page + 1)
        )
    )
    return AuditPage(rows[:per_page], max(page, 0), len(rows) > per_page)


def people_without_telegram(
    session: Session, *, actor: StaffActor, programme_id: int
) -> list[tuple[int, str]]:
    """(person id, name) of the programme's people without Telegram, by name."""
    programme_for(session, actor=actor, action=StaffAction.RUN_PROGRAMME, programme_id=programme_id)
    rows = session.exec(
        select(Person.id, Person.display_name).where(
            Person.programme_id == programme_id,
            col(Person.telegram_id).is_(None),
            col(Person.created_by_id).is_not(None),
            col(Person.erased_at).is_(None),
        )
    ).all()
    people = [(int(pid), name or "") for pid, name in rows if pid is not None]
    return sorted(people, key=lambda p: (p[1].casefold(), p[0]))


def data_for_staff(
    session: Session, *, actor: StaffActor, programme_id: int, person_id: int, now: datetime
) -> PersonData:
    """A person-without-Telegram's data file (as `palbot person-data`); the export is
    audited. NotAllowed for anyone else's person or outside the programme."""
    programme_for(session, actor=actor, action=StaffAction.RUN_PROGRAMME, programme_id=programme_id)
    person = session.get(Person, person_id)
    if (
        person is None
        or person.programme_id != programme_id
        or person.telegram_id is not None
        or person.created_by_id is None
        or person.erased_at is not None
    ):
        raise NotAllowed(person_id)
    try:
        data = person_data(session, person_id=person_id, now=now)
    except PersonNotFound:
        raise NotAllowed(person_id) from None
    record(
        session,
        actor_id=actor.person_id,
        action=AuditAction.PERSON_DATA_EXPORTED,
        subject_type="person",
        subject_id=person_id,
        details={"programme_id": programme_id},
        at=now,
    )
    return data
