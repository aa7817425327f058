"""Self-assessment survey responses, keyed by pseudonymous participant codes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class ParticipantCode(SQLModel, table=True):
    """A random, stable code per person and programme: all evaluators ever see.

    On erasure `person_id` is cleared and the answers stay only under the code.
    """

    __table_args__ = (UniqueConstraint("person_id", "programme_id"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)
    person_id: int | None = Field(default=None, foreign_key="person.id")
    programme_id: int = Field(foreign_key="programme.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SurveyVersion(SQLModel, table=True):
    """The fingerprint of a questionnaire version that has responses.

    Changing a file whose version already has answers must bump the version.
    """

    __table_args__ = (UniqueConstraint("questionnaire_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    questionnaire_id: str = Field(max_length=64)
    version: str = Field(max_length=32)
    fingerprint: str = Field(max_length=64)
    # The normalised definition itself, so responses stay readable and scorable after the
    # file moves on to a newer version (or is edited by mistake without a version bump).
    definition: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    first_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SurveyResponse(SQLModel, table=True):
    """One participant's initial or final survey in one programme."""

    __table_args__ = (
        UniqueConstraint("participant_code_id", "phase"),
        Index("ix_response_programme_phase", "programme_id", "phase"),
    )

    id: int | None = Field(default=None, primary_key=True)
    participant_code_id: int = Field(foreign_key="participantcode.id")
    programme_id: int = Field(foreign_key="programme.id")
    phase: str = Field(max_length=8)
    questionnaire_id: str = Field(max_length=64)
    questionnaire_version: str = Field(max_length=32)
    channel: str = Field(default="chat", max_length=8)
    entered_by_id: int | None = Field(default=None, foreign_key="person.id")
    position: int = 0
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SurveyAnswer(SQLModel, table=True):
    """One item's answer; `value` None means the item was skipped."""

    __table_args__ = (UniqueConstraint("response_id", "item_id"),)

    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(foreign_key="surveyresponse.id", index=True)
    item_id: str = Field(max_length=64)
    value: str | None = Field(default=None, max_length=1000)
    answered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
