"""Residents in more than one programme: joining another (a new edition, a second area),
choosing which one the screens show, and leaving one.

A person takes part in the programme their screens show (`Person.programme_id`) and in
every `ProgrammeMembership` row they have not left. Sign-ups, places and surveys belong
to the activity's programme, so joining, switching or leaving never moves or drops
them: a resident of an ended edition keeps its history and goes on in the new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, or_
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from storage.audit import AuditAction, record
from storage.models import Person, Programme, ProgrammeMembership
from storage.models.people import OnboardingStep
from storage.programmes.open import programme_takes_sign_ups, takes_sign_ups
from storage.tables import PERSON, PROGRAMME, PROGRAMME_MEMBERSHIP


class NotJoinable(LookupError):
    """The programme does not exist, is archived or takes no sign-ups."""


class NotAMember(LookupError):
    """The person does not take part in that programme (left it, or a forged button)."""


@dataclass(frozen=True)
class ProgrammeEntry:
    """One programme on the resident's programmes screen."""

    id: int
    name: str
    # Whether it takes sign-ups now (open, not archived).
    is_open: bool


@dataclass(frozen=True)
class ResidentProgrammes:
    """The programmes a resident takes part in, and those they could join."""

    shown: ProgrammeEntry | None
    others: tuple[ProgrammeEntry, ...]
    joinable: tuple[ProgrammeEntry, ...]


def resident_programmes(session: Session, *, person_id: int, now: datetime) -> ResidentProgrammes:
    """The shown programme, the others joined and not left, and open ones to join."""
    connection = session.connection()
    home = connection.execute(
        core_select(PERSON.c.programme_id).where(PERSON.c.id == person_id)
    ).scalar_one_or_none()
    joined = set(
        connection.execute(
            core_select(PROGRAMME_MEMBERSHIP.c.programme_id).where(
                PROGRAMME_MEMBERSHIP.c.person_id == person_id,
                PROGRAMME_MEMBERSHIP.c.left_at.is_(None),
            )
        ).scalars()
    )
    rows = connection.execute(
        core_select(PROGRAMME.c.id, PROGRAMME.c.name, takes_sign_ups(now).label("is_open"))
        .where(
            or_(
                PROGRAMME.c.id.in_(joined | ({home} if home is not None else set())),
                takes_sign_ups(now),
            )
        )
        .order_by(PROGRAMME.c.name)
    ).all()
    entries = {r.id: ProgrammeEntry(r.id, r.name, bool(r.is_open)) for r in rows}
    shown = entries.get(home) if home is not None else None
    others = tuple(e for i, e in entries.items() if i in joined and i != home)
    joinable = tuple(e for i, e in entries.items() if e.is_open and i not in joined and i != home)
    return ResidentProgrammes(shown, others, joinable)


def _person(session: Session, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None or person.onboarding_step != OnboardingStep.DONE:
        raise NotAMember(person_id)
    return person


def _membership(session: Session, person_id: int, programme_id: int) -> ProgrammeMembership | None:
    return session.exec(
        select(ProgrammeMembership).where(
            ProgrammeMembership.person_id == person_id,
            ProgrammeMembership.programme_id == programme_id,
        )
    ).first()


def _member_row(session: Session, person: Person, programme_id: int) -> ProgrammeMembership | None:
    """The person's row for a programme they take part in; NotAMember if they do not."""
    assert person.id is not None
    row = _membership(session, person.id, programme_id)
    if person.programme_id != programme_id and (row is None or row.left_at is not None):
        raise NotAMember(programme_id)
    return row


def _keep(session: Session, person_id: int, programme_id: int, now: datetime) -> None:
    """Make sure the person stays in `programme_id` once the screens show another."""
    row = _membership(session, person_id, programme_id)
    if row is None:
        session.add(
            ProgrammeMembership(person_id=person_id, programme_id=programme_id, joined_at=now)
        )
    elif row.left_at is not None:
        row.left_at = None
        session.add(row)


def join_programme(
    session: Session, *, person_id: int, programme_id: int, now: datetime
) -> Programme:
    """Join an open programme and show it; the programme shown so far stays joined."""
    person = _person(session, person_id)
    programme = session.get(Programme, programme_id)
    if programme is None or not programme_takes_sign_ups(programme, now):
        raise NotJoinable(programme_id)
    if person.programme_id == programme_id:
        return programme
    if person.programme_id is not None:
        _keep(session, person_id, person.programme_id, now)
    _keep(session, person_id, programme_id, now)
    person.programme_id = programme_id
    session.add(person)
    record(
        session,
        actor_id=person_id,
        action=AuditAction.MEMBERSHIP_JOINED,
        subject_type="programme",
        subject_id=programme_id,
        at=now,
    )
    return programme


def show_programme(
    session: Session, *, person_id: int, programme_id: int, now: datetime
) -> Programme:
    """Show another programme the person takes part in (closed ones too: their history)."""
    person = _person(session, person_id)
    _member_row(session, person, programme_id)  # NotAMember unless they take part
    programme = session.get(Programme, programme_id)
    if programme is None:
        raise NotAMember(programme_id)
    if person.programme_id is not None and person.programme_id != programme_id:
        _keep(session, person_id, person.programme_id, now)
    person.programme_id = programme_id
    session.add(person)
    return programme


def leave_programme(
    session: Session, *, person_id: int, programme_id: int, now: datetime
) -> tuple[Programme, Programme | None]:
    """Leave a programme: no more of its announcements; places already held stay.

    Returns the programme left and the one shown afterwards (another one joined, or
    None: the person chooses again from the activity list).
    """
    person = _person(session, person_id)
    row = _member_row(session, person, programme_id)
    if row is None:
        row = ProgrammeMembership(person_id=person_id, programme_id=programme_id, joined_at=now)
    row.left_at = now
    session.add(row)
    if person.programme_id == programme_id:
        remaining = session.exec(
            select(ProgrammeMembership.programme_id)
            .where(
                ProgrammeMembership.person_id == person_id,
                col(ProgrammeMembership.left_at).is_(None),
                ProgrammeMembership.programme_id != programme_id,
            )
            .order_by(col(ProgrammeMembership.joined_at).desc(), col(ProgrammeMembership.id).desc())
        ).first()
        person.programme_id = remaining
        session.add(person)
    record(
        session,
        actor_id=person_id,
        action=AuditAction.MEMBERSHIP_LEFT,
        subject_type="programme",
        subject_id=programme_id,
        at=now,
    )
    left = session.get(Programme, programme_id)
    assert left is not None  # a membership row's programme exists (foreign key)
    shown = session.get(Programme, person.programme_id) if person.programme_id else None
    return left, shown


def members_of(programme_id: int) -> ColumnElement[bool]:
    """A condition on Person: takes part in the programme (shown, or joined and not left)."""
    return or_(
        col(Person.programme_id) == programme_id,
        col(Person.id).in_(
            core_select(PROGRAMME_MEMBERSHIP.c.person_id).where(
                PROGRAMME_MEMBERSHIP.c.programme_id == programme_id,
                PROGRAMME_MEMBERSHIP.c.left_at.is_(None),
            )
        ),
    )
