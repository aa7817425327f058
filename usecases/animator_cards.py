"""The animator's activity card, the programme and opening the final survey."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from schedules.survey_followups import FinalSurveyOpening, open_final_survey
from storage.activities.organising import (
    Actor,
    detached,
    managed_activity,
)
from storage.models import (
    Activity,
    Programme,
    Registration,
    RegistrationStatus,
)


@dataclass(frozen=True)
class Card:
    """One activity with its numbers, for its animator."""

    activity: Activity
    taken: int
    reserve: int
    attended: int


def activity_card(session: Session, *, activity_id: int, actor: Actor) -> Card:
    """An activity the animator manages, with its places taken, reserve list and attendance."""
    activity = managed_activity(session, activity_id=activity_id, actor=actor)
    rows = session.exec(
        select(Registration.status, Registration.attended).where(
            Registration.activity_id == activity_id
        )
    ).all()
    taken = sum(1 for status, _ in rows if status == RegistrationStatus.CONFIRMED)
    reserve = sum(1 for status, _ in rows if status == RegistrationStatus.RESERVE)
    attended = sum(1 for status, came in rows if status == RegistrationStatus.CONFIRMED and came)
    return Card(detached(activity), taken, reserve, attended)


def programme_by_id(session: Session, *, programme_id: int) -> Programme | None:
    """The programme, detached from the session, or None."""
    programme = session.get(Programme, programme_id)
    return detached(programme) if programme is not None else None


def open_programme_final_survey(
    session: Session, *, programme_id: int, actor_id: int, now: datetime
) -> FinalSurveyOpening:
    """Open the programme's final survey for its participants (audited)."""
    programme = session.get(Programme, programme_id)
    assert programme is not None
    return open_final_survey(session, programme=programme, now=now, actor_id=actor_id)
