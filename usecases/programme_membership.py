"""Residents' programmes: which they take part in, joining another, showing one, leaving."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session

from storage.people.identity import Resident
from storage.people.memberships import (
    NotAMember,
    NotJoinable,
    ResidentProgrammes,
    join_programme,
    leave_programme,
    resident_programmes,
    show_programme,
)
from usecases.caller import Caller, resident_of


@dataclass(frozen=True)
class ProgrammesScreen:
    """The caller's programmes and the open ones they could join (None: not onboarded)."""

    resident: Resident
    programmes: ResidentProgrammes | None = None


def my_programmes(session: Session, *, caller: Caller, now: datetime) -> ProgrammesScreen:
    """What the programmes screen shows."""
    resident = resident_of(session, caller)
    if not resident.is_onboarded or resident.person_id is None:
        return ProgrammesScreen(resident)
    return ProgrammesScreen(
        resident, resident_programmes(session, person_id=resident.person_id, now=now)
    )


class MembershipChange(StrEnum):
    """What the caller asked for on the programmes screen."""

    JOIN = "join"
    SHOW = "show"
    LEAVE = "leave"


@dataclass(frozen=True)
class MembershipOutcome:
    """What the change did: the programme concerned and the one shown afterwards."""

    resident: Resident
    done: bool = False
    programme_name: str | None = None
    shown_name: str | None = None


def change_membership(
    session: Session,
    *,
    caller: Caller,
    change: MembershipChange,
    programme_id: int,
    now: datetime,
) -> MembershipOutcome:
    """Join, show or leave a programme; a stale or forged button changes nothing."""
    resident = resident_of(session, caller)
    if not resident.is_onboarded or resident.person_id is None:
        return MembershipOutcome(resident)
    person_id = resident.person_id
    try:
        if change == MembershipChange.JOIN:
            programme = join_programme(
                session, person_id=person_id, programme_id=programme_id, now=now
            )
            return MembershipOutcome(resident, True, programme.name, programme.name)
        if change == MembershipChange.SHOW:
            programme = show_programme(
                session, person_id=person_id, programme_id=programme_id, now=now
            )
            return MembershipOutcome(resident, True, programme.name, programme.name)
        left, shown = leave_programme(
            session, person_id=person_id, programme_id=programme_id, now=now
        )
    except (NotJoinable, NotAMember):
        return MembershipOutcome(resident)
    return MembershipOutcome(resident, True, left.name, shown.name if shown else None)
