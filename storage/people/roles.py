"""Giving and taking roles; what a grant allows is decided in storage.access."""

from __future__ import annotations

from sqlmodel import Session, col, delete, select

from storage.access import holds
from storage.models import Role, RoleGrant


class ProgrammeNeeded(ValueError):
    """An animator, evaluator or coordinator grant names a programme; admins have all."""


def has_role(roles: frozenset[Role], needed: Role) -> bool:
    """Whether someone with `roles` opens `needed`'s menus (storage.access.holds)."""
    return holds(roles, needed)


def grant(
    session: Session, *, role: Role, telegram_id: int, programme_id: int | None = None
) -> bool:
    """Give a role; returns False if it was already held.

    Animators, evaluators and coordinators are granted one programme at a time (ProgrammeNeeded
    otherwise); "all programmes" is the admin role, which takes no programme.
    """
    if role == Role.ADMIN:
        programme_id = None
    elif programme_id is None:
        raise ProgrammeNeeded(role.value)
    exists = session.exec(
        select(RoleGrant).where(
            RoleGrant.telegram_id == telegram_id,
            RoleGrant.role == role.value,
            RoleGrant.programme_id == programme_id
            if programme_id is not None
            else col(RoleGrant.programme_id).is_(None),
        )
    ).first()
    if exists:
        return False
    session.add(RoleGrant(telegram_id=telegram_id, role=role.value, programme_id=programme_id))
    return True


def revoke(
    session: Session, *, role: Role, telegram_id: int, programme_id: int | None = None
) -> int:
    """Take a role away (in one programme, or in every one); how many grants were removed."""
    query = delete(RoleGrant).where(
        col(RoleGrant.telegram_id) == telegram_id, col(RoleGrant.role) == role.value
    )
    if programme_id is not None:
        query = query.where(col(RoleGrant.programme_id) == programme_id)
    result = session.exec(query)
    return int(result.rowcount or 0)
