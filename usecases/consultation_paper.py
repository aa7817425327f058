"""People without Telegram whose answers to a consultation an animator enters."""

from __future__ import annotations

from sqlmodel import Session

from storage.activities.organising import Actor, detached
from storage.consultations.running import (
    staff_consultation,
)
from storage.models import Person
from storage.people.without_telegram import proxy_participants


def paper_people(session: Session, *, consultation_id: int, actor: Actor) -> list[Person]:
    """The people without Telegram of the consultation's programme, for the staff member."""
    consultation = staff_consultation(session, consultation_id=consultation_id, actor=actor)
    return [
        detached(p) for p in proxy_participants(session, programme_id=consultation.programme_id)
    ]
