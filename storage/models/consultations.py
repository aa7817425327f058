"""Consultations with residents: a question or a short needs survey, and the answers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class ConsultationState(StrEnum):
    """Scheduled until it opens, open for answers, then closed for good."""

    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"


class ConsultationAudience(StrEnum):
    """Who is asked."""

    PROGRAMME = "programme"  # every resident of the programme
    ACTIVITY = "activity"  # people holding a place in one activity
    EVERYONE = "everyone"  # every resident the bot knows (admins only)


class Consultation(SQLModel, table=True):
    """One consultation of a programme. `questions` is a list of
    `{"text", "multiple", "options": [...]}`; `free_question` is the optional open one.
    """

    __table_args__ = (Index("ix_consultation_state_opens", "state", "opens_at"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    author_id: int = Field(foreign_key="person.id")
    title: str = Field(max_length=200)
    questions: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    free_question: str | None = Field(default=None, max_length=300)
    # The staff's own versions in other languages: {"uk": {"title", "questions": [{"text",
    # "options"}], "free"}}; residents whose language has none see the original.
    translations: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    audience: str = Field(max_length=16)
    audience_activity_id: int | None = Field(default=None, foreign_key="activity.id")
    opens_at: datetime = Field(sa_type=UTCDateTime)
    closes_at: datetime = Field(sa_type=UTCDateTime)
    show_results: bool = False
    state: str = Field(default=ConsultationState.SCHEDULED, max_length=16)
    opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AnswerChannel(StrEnum):
    """How an answer reached us."""

    CHAT = "chat"
    PAPER = "paper"  # entered by staff from a paper form


class ConsultationResponse(SQLModel, table=True):
    """One participant's answers, under their pseudonymous code.

    `choices` maps a question's index (as text) to the chosen option indexes; `position`
    is the question the person is at, written with the answer that moves it.
    """

    __table_args__ = (UniqueConstraint("consultation_id", "participant_code_id"),)

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    participant_code_id: int = Field(foreign_key="participantcode.id", index=True)
    channel: str = Field(default=AnswerChannel.CHAT, max_length=8)
    entered_by_id: int | None = Field(default=None, foreign_key="person.id")
    position: int = 0
    choices: dict[str, list[int]] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    free_text: str | None = Field(default=None, max_length=1000)
    answered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
