"""Who may do what: the single place that decides a person's roles."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, delete, select

from storage.models import Role, RoleGrant


def roles_for(session: Session, telegram_id: int, admin_ids: Iterable[int] = ()) -> frozenset[Role]:
    """Roles held by a Telegram id, including admin from the settings."""
    rows = session.exec(select(RoleGrant.role).where(RoleGrant.telegram_id == telegram_id)).all()
    return roles_from(rows, telegram_id, admin_ids)


def roles_from(
    granted: Iterable[str | None], telegram_id: int, admin_ids: Iterable[int] = ()
) -> frozenset[Role]:
    """Roles from the granted role names (unknown ones ignored) plus admin from the settings."""
    known = {role.value for role in Role}
    roles = {Role(r) for r in granted if r in known}
    if telegram_id in set(admin_ids):
        roles.add(Role.ADMIN)
    return frozenset(roles)


def has_role(roles: frozenset[Role], needed: Role) -> bool:
    """Whether someone with `roles` may act as `needed`; admins may do everything."""
    return needed in roles or Role.ADMIN in roles


def grant(
    session: Session, *, role: Role, telegram_id: int, programme_id: int | None = None
) -> bool:
    """Give a role; returns False if it was already held."""
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


def revoke(session: Session, *, role: Role, telegram_id: int) -> int:
    """Take a role away (in every programme); returns how many grants were removed."""
    result = session.exec(
        delete(RoleGrant).where(
            col(RoleGrant.telegram_id) == telegram_id, col(RoleGrant.role) == role.value
        )
    )
    return int(result.rowcount or 0)


def evaluator_programmes(session: Session, telegram_id: int) -> frozenset[int] | None:
    """Programmes an evaluator is limited to; None means all programmes."""
    rows = session.exec(
        select(RoleGrant.programme_id).where(
            RoleGrant.telegram_id == telegram_id, RoleGrant.role == Role.EVALUATOR.value
        )
    ).all()
    if not rows or any(r is None for r in rows):
        return None
    return frozenset(r for r in rows if r is not None)


def animator_programmes(session: Session, telegram_id: int, admin_ids: Iterable[int] = ()) -> (
    frozenset[int] | None
):
    """Programmes an animator works in; None means all (admins, or a grant without one)."""
    if telegram_id in set(admin_ids):
        return None
    rows = session.exec(
        select(RoleGrant.programme_id).where(
            RoleGrant.telegram_id == telegram_id, RoleGrant.role == Role.ANIMATOR.value
        )
    ).all()
    if not rows or any(r is None for r in rows):
        return None
    return frozenset(r for r in rows if r is not None)
