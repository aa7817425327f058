"""Programme teams: who holds which role where, removing a role, a new programme.

Every function takes the acting person and asks storage.people.staff_access first; removal
and creation add an audit row in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from storage.audit import AuditAction, record
from storage.models import Person, Programme, Role, RoleGrant
from storage.people.invitations import INVITABLE
from storage.people.staff_access import (
    NotAllowed,
    StaffAction,
    StaffActor,
    programmes_for,
    role_named,
    scope_action,
)


@dataclass(frozen=True)
class StaffMember:
    """One role grant with the name the team sees."""

    grant_id: int
    role: Role
    programme_id: int | None
    display_name: str | None
    is_you: bool


def staff_of(session: Session, *, actor: StaffActor, programme_id: int | None) -> list[StaffMember]:
    """Role grants of a programme (None: those for every programme), by role and name."""
    if not actor.may(session, scope_action(programme_id), programme_id):
        raise NotAllowed(programme_id)
    scope = (
        col(RoleGrant.programme_id).is_(None)
        if programme_id is None
        else col(RoleGrant.programme_id) == programme_id
    )
    rows = session.exec(
        select(RoleGrant.id, RoleGrant.role, RoleGrant.telegram_id, Person.display_name)
        .join(Person, col(Person.telegram_id) == col(RoleGrant.telegram_id), isouter=True)
        .where(scope)
    ).all()
    members = [
        StaffMember(int(gid), Role(role), programme_id, name, tid == actor.telegram_id)
        for gid, role, tid, name in rows
        if gid is not None and role in Role.__members__.values()
    ]
    order = {role: i for i, role in enumerate(INVITABLE)}
    return sorted(
        members, key=lambda m: (order.get(m.role, 9), (m.display_name or "").casefold(), m.grant_id)
    )


def staff_member(session: Session, *, actor: StaffActor, grant_id: int) -> StaffMember:
    """One grant for the removal confirmation; NotAllowed outside the actor's scope."""
    found = session.get(RoleGrant, grant_id)
    if found is None or not actor.may(
        session, scope_action(found.programme_id, role_named(found.role)), found.programme_id
    ):
        raise NotAllowed(grant_id)
    person = session.exec(select(Person).where(Person.telegram_id == found.telegram_id)).first()
    return StaffMember(
        grant_id,
        Role(found.role),
        found.programme_id,
        person.display_name if person else None,
        found.telegram_id == actor.telegram_id,
    )


class CannotRemoveYourself(Exception):
    """An administrator may not take away their own administrator role (no lock-out)."""


def remove_staff(
    session: Session, *, actor: StaffActor, grant_id: int, now: datetime
) -> StaffMember:
    """Take one role grant away (the second tap of "remove"); audited."""
    found = session.exec(
        select(RoleGrant).where(RoleGrant.id == grant_id).with_for_update()
    ).first()
    if found is None or not actor.may(
        session, scope_action(found.programme_id, role_named(found.role)), found.programme_id
    ):
        raise NotAllowed(grant_id)
    if found.telegram_id == actor.telegram_id and found.role == Role.ADMIN.value:
        raise CannotRemoveYourself(grant_id)
    member = staff_member(session, actor=actor, grant_id=grant_id)
    person = session.exec(select(Person).where(Person.telegram_id == found.telegram_id)).first()
    session.delete(found)
    record(
        session,
        actor_id=actor.person_id,
        action=AuditAction.STAFF_REMOVED,
        subject_type="person",
        subject_id=person.id if person else None,
        details={"role": found.role, "programme_id": found.programme_id, "grant_id": grant_id},
        at=now,
    )
    session.flush()
    return member


def staff_programmes(session: Session, *, actor: StaffActor) -> list[tuple[int, str]]:
    """(id, name) of the programmes whose staff this person manages."""
    return programmes_for(
        session,
        telegram_id=actor.telegram_id,
        admin_ids=actor.admin_ids,
        action=StaffAction.MANAGE_STAFF,
    )


class ProgrammeNameRefused(ValueError):
    """A new programme's name is empty, too long (over 200 characters) or already taken."""

    def __init__(self, taken: bool) -> None:
        super().__init__("taken" if taken else "length")
        self.taken = taken


def create_programme(session: Session, *, actor: StaffActor, name: str, now: datetime) -> Programme:
    """A new, empty programme (administrators); ProgrammeNameRefused for a bad name."""
    if not actor.may(session, StaffAction.MANAGE_ADMINS, None):
        raise NotAllowed(None)
    clean = " ".join(name.split())
    if not 1 <= len(clean) <= 200:
        raise ProgrammeNameRefused(taken=False)
    if session.exec(select(Programme.id).where(Programme.name == clean)).first() is not None:
        raise ProgrammeNameRefused(taken=True)
    programme = Programme(name=clean, created_at=now)
    session.add(programme)
    session.flush()
    record(
        session,
        actor_id=actor.person_id,
        action=AuditAction.PROGRAMME_CREATED,
        subject_type="programme",
        subject_id=programme.id,
        details={},
        at=now,
    )
    return programme
