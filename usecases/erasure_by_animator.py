"""What an animator is asked before erasing the data of a person without Telegram."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from storage.activities.organising import Actor
from storage.people.acting_for import proxy_scope
from storage.people.without_telegram import proxy_participant
from storage.privacy.erasure import (
    ErasurePreview,
    erasure_preview,
)


@dataclass(frozen=True)
class ErasureQuestion:
    """Whose data would be erased, and what erasing it removes and keeps."""

    name: str
    preview: ErasurePreview


def ask_erasure(
    session: Session, *, actor: Actor, person_id: int, now: datetime
) -> ErasureQuestion:
    """What erasing a person without Telegram would do, if the animator may act for them."""
    person = proxy_participant(session, person_id=person_id, programme_ids=proxy_scope(actor))
    return ErasureQuestion(
        person.display_name or "—", erasure_preview(session, person_id=person_id, now=now)
    )
