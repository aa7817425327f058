"""The programme and its end, for telling a person how long their data is kept."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from storage.models import Programme
from storage.privacy.retention import programme_end


def programme_and_end(
    session: Session, programme_id: int | None
) -> tuple[Programme | None, datetime | None]:
    """The person's programme and the day it ends, from which data retention counts."""
    if programme_id is None:
        return None, None
    programme = session.get(Programme, programme_id)
    if programme is None:
        return None, None
    return programme, programme_end(session, programme)
