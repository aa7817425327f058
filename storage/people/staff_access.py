"""Staff screens (invitations, staff lists, spreadsheet imports) asking the access rule.

Every staff screen and every button press calls `may_act` inside the transaction that
acts, so a role taken away a second ago is already refused. `may_act` only translates
the screen's action into the project's one access rule (storage.access.may).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session, col, select

from storage.access import Action, load_access, may
from storage.models import Programme, Role


class StaffAction(StrEnum):
    """What a staff screen lets someone do."""

    # Invite animators and evaluators to a programme, see its staff, remove those two.
    MANAGE_STAFF = "manage_staff"
    # Invite administrators (programme None) and coordinators, list or remove them.
    MANAGE_ADMINS = "manage_admins"
    # Send a spreadsheet of activities into a programme.
    IMPORT_ACTIVITIES = "import_activities"
    # Programmes and editions themselves: new, rename, archive, copy an edition.
    EDIT_PROGRAMMES = "edit_programmes"
    # Run one programme: dates, questionnaire, final survey, reminders, quiet hours,
    # follow-ups, retention, its audit trail and the data of people without Telegram.
    RUN_PROGRAMME = "run_programme"


def may_act(
    session: Session,
    *,
    telegram_id: int,
    admin_ids: Iterable[int],
    action: StaffAction,
    programme_id: int | None,
) -> bool:
    """Whether this person may do `action` in `programme_id` (None: across programmes)."""
    access = load_access(session, telegram_id, admin_ids)
    if action in (StaffAction.MANAGE_ADMINS, StaffAction.EDIT_PROGRAMMES) or programme_id is None:
        return access.is_admin
    needed = {
        StaffAction.IMPORT_ACTIVITIES: Action.WORK_IN_PROGRAMME,
        StaffAction.MANAGE_STAFF: Action.MANAGE_STAFF,
        StaffAction.RUN_PROGRAMME: Action.RUN_PROGRAMME,
    }[action]
    return may(access, needed, programme_id=programme_id)


def programmes_for(
    session: Session, *, telegram_id: int, admin_ids: Iterable[int], action: StaffAction
) -> list[tuple[int, str]]:
    """(id, name) of the programmes (not archived) where `may_act` allows `action`, by name."""
    admin_ids = frozenset(admin_ids)
    rows = session.exec(
        select(Programme.id, Programme.name)
        .where(col(Programme.archived_at).is_(None))
        .order_by(Programme.name)
    ).all()
    return [
        (int(pid), name)
        for pid, name in rows
        if pid is not None
        and may_act(
            session, telegram_id=telegram_id, admin_ids=admin_ids, action=action, programme_id=pid
        )
    ]


class NotAllowed(PermissionError):
    """The person may not do this staff action (or the thing does not exist)."""


@dataclass(frozen=True)
class StaffActor:
    """Someone using a staff screen: their Telegram id, person row and the settings' admins."""

    telegram_id: int
    person_id: int | None
    admin_ids: frozenset[int]

    def may(self, session: Session, action: StaffAction, programme_id: int | None) -> bool:
        """The one staff check (storage.people.staff_access.may_act) for this person."""
        return may_act(
            session,
            telegram_id=self.telegram_id,
            admin_ids=self.admin_ids,
            action=action,
            programme_id=programme_id,
        )


# Roles only administrators give and take away (a coordinator is appointed by the
# centre, not by another coordinator); the rest a programme's staff managers give.
GIVEN_BY_ADMINS: frozenset[Role] = frozenset({Role.ADMIN, Role.COORDINATOR})


def role_named(value: str) -> Role | None:
    """The Role a stored grant or invitation names (None for a role no longer known)."""
    return Role(value) if value in Role.__members__.values() else None


def scope_action(programme_id: int | None, role: Role | None = None) -> StaffAction:
    """Seeing one programme's staff or giving/taking `role` there; administrators' own."""
    if programme_id is None or role in GIVEN_BY_ADMINS:
        return StaffAction.MANAGE_ADMINS
    return StaffAction.MANAGE_STAFF
