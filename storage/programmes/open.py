"""Whether a programme takes sign-ups: the one rule the lists, onboarding and joining use."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_

from storage.models import Programme
from storage.tables import PROGRAMME


def takes_sign_ups(now: Any) -> ColumnElement[bool]:
    """SQL condition on the programme table: not archived and its sign-up window not closed.

    `now` is a datetime or a bind parameter (for statements built once).
    """
    return and_(
        PROGRAMME.c.archived_at.is_(None),
        or_(PROGRAMME.c.signup_open_until.is_(None), PROGRAMME.c.signup_open_until > now),
    )


def programme_takes_sign_ups(programme: Programme, now: datetime) -> bool:
    """The same rule for a programme already loaded."""
    return programme.archived_at is None and (
        programme.signup_open_until is None or programme.signup_open_until > now
    )
