"""The administrator's menu and a programme's team: staff, invitations, removals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from storage.models import Programme, Role
from storage.people.invitations import (
    NewInvitation,
    PendingInvitation,
    create_invitation,
    pending_invitations,
    revoke_invitation,
)
from storage.people.staff import (
    StaffMember,
    remove_staff,
    staff_member,
    staff_of,
    staff_programmes,
)
from storage.people.staff_access import (
    GIVEN_BY_ADMINS,
    NotAllowed,
    StaffAction,
    StaffActor,
    programmes_for,
)


def menu_programmes(session: Session, *, actor: StaffActor) -> tuple[bool, list[tuple[int, str]]]:
    """Whether the person administers everything, and the programmes they see here."""
    if actor.may(session, StaffAction.MANAGE_ADMINS, None):
        return True, staff_programmes(session, actor=actor)
    return False, programmes_for(
        session,
        telegram_id=actor.telegram_id,
        admin_ids=actor.admin_ids,
        action=StaffAction.RUN_PROGRAMME,
    )


@dataclass(frozen=True)
class Team:
    """A programme's (or the administrators') team screen."""

    programme_id: int | None
    programme_name: str | None
    members: list[StaffMember]
    pending: list[PendingInvitation]
    # Whether the viewer appoints coordinators here (administrators); coordinators
    # manage animators and evaluators only.
    appoints_coordinators: bool = False

    def removable(self, member: StaffMember) -> bool:
        """Whether the viewer gets a remove button for this member."""
        if member.is_you and member.role is Role.ADMIN:
            return False
        return self.appoints_coordinators or member.role not in GIVEN_BY_ADMINS


def team_of(
    session: Session, *, actor: StaffActor, programme_id: int | None, now: datetime
) -> Team:
    """A programme's (None: the administrators') team, for those who may manage it."""
    programme = session.get(Programme, programme_id) if programme_id is not None else None
    if programme_id is not None and programme is None:
        raise NotAllowed(programme_id)
    return Team(
        programme_id,
        programme.name if programme else None,
        staff_of(session, actor=actor, programme_id=programme_id),
        pending_invitations(session, actor=actor, programme_id=programme_id, now=now),
        appoints_coordinators=actor.may(session, StaffAction.MANAGE_ADMINS, programme_id),
    )


def invite_with_name(
    session: Session,
    *,
    actor: StaffActor,
    role: Role,
    programme_id: int | None,
    now: datetime,
    valid_for: timedelta,
) -> tuple[NewInvitation, str | None]:
    """Create an invitation; returns it with the programme's name."""
    made = create_invitation(
        session, actor=actor, role=role, programme_id=programme_id, now=now, valid_for=valid_for
    )
    return made, programme_name(session, programme_id=programme_id)


def programme_name(session: Session, *, programme_id: int | None) -> str | None:
    """A programme's name, or None for none or an unknown id."""
    programme = session.get(Programme, programme_id) if programme_id is not None else None
    return programme.name if programme else None


def withdraw_and_team(
    session: Session, *, actor: StaffActor, invitation_id: int, now: datetime
) -> Team:
    """Revoke an invitation and return the team screen it was on."""
    invitation = revoke_invitation(session, actor=actor, invitation_id=invitation_id, now=now)
    return team_of(session, actor=actor, programme_id=invitation.programme_id, now=now)


def member_and_place(
    session: Session, *, actor: StaffActor, grant_id: int
) -> tuple[StaffMember, str | None]:
    """A staff member (for the removal question) and their programme's name."""
    member = staff_member(session, actor=actor, grant_id=grant_id)
    return member, programme_name(session, programme_id=member.programme_id)


def remove_and_team(
    session: Session, *, actor: StaffActor, grant_id: int, now: datetime
) -> tuple[StaffMember, Team]:
    """Remove a staff member's role and return them with the updated team."""
    member = remove_staff(session, actor=actor, grant_id=grant_id, now=now)
    return member, team_of(session, actor=actor, programme_id=member.programme_id, now=now)
