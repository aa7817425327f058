"""Invitations by one-time link: create, open, accept once, withdraw.

The link carries a random token (`secrets.token_urlsafe`); only its SHA-256 is stored,
so a copy of the database opens nothing. Opening a link remembers which invitation the
person is looking at (a dialog row), and accepting it locks the invitation row (BEGIN
IMMEDIATE on SQLite, FOR UPDATE on PostgreSQL), so of two people accepting the same link
at once exactly one gets the role. Every change adds an audit row in its transaction.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import Session, col, select

from storage.audit import AuditAction, record
from storage.dialogs import close_dialog, get_dialog, save_dialog
from storage.models import Invitation, Person, Programme, Role
from storage.people.onboarding import start_person
from storage.people.roles import grant
from storage.people.staff_access import NotAllowed, StaffActor, role_named, scope_action

START_PREFIX = "inv_"
DIALOG_KIND = "invitation"
TOKEN_BYTES = 24  # 32 characters: with the prefix well inside Telegram's 64 for /start
DEFAULT_VALID_FOR = timedelta(days=7)
INVITABLE = (Role.COORDINATOR, Role.ANIMATOR, Role.EVALUATOR, Role.ADMIN)
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,60}$")


class InvitationProblem(StrEnum):
    """Why an invitation cannot be opened or accepted."""

    UNKNOWN = "unknown"  # forged, mistyped, or from another installation
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"
    NOT_OPENED = "not_opened"  # a confirm button without opening this link first


class InvitationRefused(Exception):
    """The invitation grants nothing; `problem` says why (for a polite message)."""

    def __init__(self, problem: InvitationProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


@dataclass(frozen=True)
class NewInvitation:
    """A created invitation: the raw token exists only here, to be put in the link."""

    invitation_id: int
    token: str
    role: Role
    programme_id: int | None
    expires_at: datetime

    @property
    def start_payload(self) -> str:
        """The /start parameter of the link."""
        return START_PREFIX + self.token


@dataclass(frozen=True)
class InvitationOffer:
    """What the person opening a link is asked to accept."""

    invitation_id: int
    person_id: int
    role: Role
    programme_name: str | None
    inviter_name: str | None
    expires_at: datetime


@dataclass(frozen=True)
class AcceptedInvitation:
    """The role now held."""

    role: Role
    programme_name: str | None


@dataclass(frozen=True)
class PendingInvitation:
    """An invitation nobody has accepted yet (for the staff screen)."""

    invitation_id: int
    role: Role
    expires_at: datetime


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def link_for(bot_username: str, invitation: NewInvitation) -> str:
    """`https://t.me/<bot>?start=inv_<token>`."""
    return f"https://t.me/{bot_username}?start={invitation.start_payload}"


def _issue(
    session: Session,
    *,
    role: Role,
    programme_id: int | None,
    created_by_id: int | None,
    now: datetime,
    valid_for: timedelta,
    via: str,
) -> NewInvitation:
    if role not in INVITABLE:
        raise ValueError(f"role {role} cannot be given by invitation")
    if (role is Role.ADMIN) != (programme_id is None):
        raise ValueError("administrators have no programme; other roles need one")
    if programme_id is not None and session.get(Programme, programme_id) is None:
        raise NotAllowed(programme_id)
    if valid_for <= timedelta(0):
        raise ValueError("an invitation must be valid for some time")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    invitation = Invitation(
        token_hash=hash_token(token),
        role=role.value,
        programme_id=programme_id,
        created_by_id=created_by_id,
        created_at=now,
        expires_at=now + valid_for,
    )
    session.add(invitation)
    session.flush()
    assert invitation.id is not None
    record(
        session,
        actor_id=created_by_id,
        action=AuditAction.INVITATION_CREATED,
        subject_type="invitation",
        subject_id=invitation.id,
        details={"role": role.value, "programme_id": programme_id, "via": via},
        at=now,
    )
    return NewInvitation(invitation.id, token, role, programme_id, invitation.expires_at)


def create_invitation(
    session: Session,
    *,
    actor: StaffActor,
    role: Role,
    programme_id: int | None,
    now: datetime,
    valid_for: timedelta = DEFAULT_VALID_FOR,
) -> NewInvitation:
    """An invitation made in the chat; NotAllowed unless the actor may give this role."""
    if not actor.may(session, scope_action(programme_id, role), programme_id):
        raise NotAllowed(programme_id)
    return _issue(
        session,
        role=role,
        programme_id=programme_id,
        created_by_id=actor.person_id,
        now=now,
        valid_for=valid_for,
        via="chat",
    )


def create_first_admin_invitation(
    session: Session, *, now: datetime, valid_for: timedelta = DEFAULT_VALID_FOR
) -> NewInvitation:
    """An administrator invitation for the operator's shell (`palbot first-admin-link`)."""
    return _issue(
        session,
        role=Role.ADMIN,
        programme_id=None,
        created_by_id=None,
        now=now,
        valid_for=valid_for,
        via="command_line",
    )


def _problem(invitation: Invitation, now: datetime) -> InvitationProblem | None:
    if invitation.revoked_at is not None:
        return InvitationProblem.REVOKED
    if invitation.used_at is not None:
        return InvitationProblem.USED
    if invitation.expires_at <= now:
        return InvitationProblem.EXPIRED
    return None


def _by_token(session: Session, token: str) -> Invitation:
    if not _TOKEN_SHAPE.match(token):
        raise InvitationRefused(InvitationProblem.UNKNOWN)
    found = session.exec(
        select(Invitation).where(Invitation.token_hash == hash_token(token))
    ).first()
    if found is None:
        raise InvitationRefused(InvitationProblem.UNKNOWN)
    return found


def open_invitation(
    session: Session, *, token: str, telegram_id: int, language: str, now: datetime
) -> InvitationOffer:
    """Check a link's token and remember that this person is looking at it."""
    invitation = _by_token(session, token)
    problem = _problem(invitation, now)
    if problem is not None:
        raise InvitationRefused(problem)
    person, _ = start_person(session, telegram_id=telegram_id, language=language)
    assert person.id is not None and invitation.id is not None
    save_dialog(
        session,
        person_id=person.id,
        kind=DIALOG_KIND,
        step="offer",
        data={"invitation_id": invitation.id},
    )
    programme = (
        session.get(Programme, invitation.programme_id)
        if invitation.programme_id is not None
        else None
    )
    inviter = (
        session.get(Person, invitation.created_by_id)
        if invitation.created_by_id is not None
        else None
    )
    return InvitationOffer(
        invitation_id=invitation.id,
        person_id=person.id,
        role=Role(invitation.role),
        programme_name=programme.name if programme else None,
        inviter_name=inviter.display_name if inviter and inviter.erased_at is None else None,
        expires_at=invitation.expires_at,
    )


def accept_invitation(
    session: Session, *, person_id: int, invitation_id: int, now: datetime
) -> AcceptedInvitation:
    """Give the invitation's role to the person who opened it; once, under a row lock."""
    dialog = get_dialog(session, person_id=person_id, kind=DIALOG_KIND)
    invitation = session.exec(
        select(Invitation)
        .where(Invitation.id == invitation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if invitation is None:
        raise InvitationRefused(InvitationProblem.UNKNOWN)
    if dialog is None or dialog.data.get("invitation_id") != invitation_id:
        if invitation.used_by_id == person_id:
            raise InvitationRefused(InvitationProblem.USED)
        raise InvitationRefused(InvitationProblem.NOT_OPENED)
    problem = _problem(invitation, now)
    if problem is not None:
        close_dialog(session, person_id=person_id, kind=DIALOG_KIND)
        raise InvitationRefused(problem)
    person = session.get(Person, person_id)
    if person is None or person.telegram_id is None or person.erased_at is not None:
        raise InvitationRefused(InvitationProblem.UNKNOWN)
    role = Role(invitation.role)
    grant(session, role=role, telegram_id=person.telegram_id, programme_id=invitation.programme_id)
    invitation.used_at = now
    invitation.used_by_id = person_id
    session.add(invitation)
    session.delete(dialog)  # the offer is answered
    record(
        session,
        actor_id=person_id,
        action=AuditAction.INVITATION_ACCEPTED,
        subject_type="invitation",
        subject_id=invitation_id,
        details={"role": role.value, "programme_id": invitation.programme_id},
        at=now,
    )
    programme = (
        session.get(Programme, invitation.programme_id)
        if invitation.programme_id is not None
        else None
    )
    return AcceptedInvitation(role, programme.name if programme else None)


def revoke_invitation(
    session: Session, *, actor: StaffActor, invitation_id: int, now: datetime
) -> Invitation:
    """Withdraw an unused invitation; NotAllowed for others' scopes or forged ids."""
    invitation = session.exec(
        select(Invitation)
        .where(Invitation.id == invitation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if invitation is None or not actor.may(
        session,
        scope_action(invitation.programme_id, role_named(invitation.role)),
        invitation.programme_id,
    ):
        raise NotAllowed(invitation_id)
    problem = _problem(invitation, now)
    if problem is not None:
        raise InvitationRefused(problem)
    invitation.revoked_at = now
    session.add(invitation)
    record(
        session,
        actor_id=actor.person_id,
        action=AuditAction.INVITATION_REVOKED,
        subject_type="invitation",
        subject_id=invitation_id,
        details={"role": invitation.role, "programme_id": invitation.programme_id},
        at=now,
    )
    return invitation


def pending_invitations(
    session: Session, *, actor: StaffActor, programme_id: int | None, now: datetime
) -> list[PendingInvitation]:
    """Open invitations of a programme (None: administrators), oldest first."""
    if not actor.may(session, scope_action(programme_id), programme_id):
        raise NotAllowed(programme_id)
    scope = (
        col(Invitation.programme_id).is_(None)
        if programme_id is None
        else col(Invitation.programme_id) == programme_id
    )
    rows = session.exec(
        select(Invitation.id, Invitation.role, Invitation.expires_at)
        .where(
            scope,
            col(Invitation.used_at).is_(None),
            col(Invitation.revoked_at).is_(None),
            col(Invitation.expires_at) > now,
        )
        .order_by(col(Invitation.created_at), col(Invitation.id))
    ).all()
    return [PendingInvitation(int(i), Role(r), e) for i, r, e in rows if i is not None]
