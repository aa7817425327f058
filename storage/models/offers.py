"""Offers of a freed place to people on the reserve list (promotion with a deadline)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class OfferKind(StrEnum):
    """How the place is given: to one person until a deadline, or to whoever taps first."""

    DEADLINE = "deadline"
    FIRST_COME = "first_come"


class OfferState(StrEnum):
    """The life of an offer. Only `offered` rows change, always under the activity's lock."""

    OFFERED = "offered"
    TAKEN = "taken"
    PASSED = "passed"
    EXPIRED = "expired"
    # First come, first served: somebody else tapped first and no place is left.
    LOST = "lost"
    # The activity was called off or changed, or the person left the reserve list.
    VOID = "void"


class PlaceOffer(SQLModel, table=True):
    """One offer of a freed place to one reserve-list registration.

    An open deadline offer holds one place; an open first-come round holds every free
    place of the activity until somebody takes them.
    """

    __table_args__ = (
        Index("ix_placeoffer_state_deadline", "state", "deadline"),
        Index("ix_placeoffer_activity_state", "activity_id", "state"),
        Index("ix_placeoffer_registration", "registration_id", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id")
    registration_id: int = Field(foreign_key="registration.id")
    person_id: int = Field(foreign_key="person.id")
    kind: str = Field(max_length=16)
    state: str = Field(default=OfferState.OFFERED, max_length=16)
    deadline: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
