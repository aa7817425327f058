"""Creating a programme from the chat."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from storage.dialogs import close_dialog
from storage.people.staff import create_programme
from storage.people.staff_access import StaffAction, StaffActor
from usecases.programme_team import (
    Team,
    team_of,
)

NEW_PROGRAMME = "admin_programme"


def may_create_programme(session: Session, *, actor: StaffActor) -> bool:
    """Whether the staff member may create programmes (administrators)."""
    return actor.may(session, StaffAction.EDIT_PROGRAMMES, None)


def create_programme_and_close(
    session: Session, *, actor: StaffActor, name: str, now: datetime
) -> Team:
    """Create the programme, end the dialog and return its (new) team screen."""
    programme = create_programme(session, actor=actor, name=name, now=now)
    assert actor.person_id is not None and programme.id is not None
    close_dialog(session, person_id=actor.person_id, kind=NEW_PROGRAMME)
    return team_of(session, actor=actor, programme_id=programme.id, now=now)
