"""People: residents (with or without Telegram), their roles and dialog positions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class Role(StrEnum):
    """What a person may do beyond being a resident."""

    ANIMATOR = "animator"
    EVALUATOR = "evaluator"
    # Runs one programme: its team (animators, evaluators), settings, activities, records.
    COORDINATOR = "coordinator"
    ADMIN = "admin"


class OnboardingStep(StrEnum):
    """Where a new resident is in the first-run dialog."""

    LANGUAGE = "language"
    NOTICE = "notice"
    NAME = "name"
    PROGRAMME = "programme"
    DONE = "done"


class Person(SQLModel, table=True):
    """A participant: a Telegram user, or someone an animator registered on paper.

    Only what is needed is kept: the Telegram id to reach the person, the chosen
    language and the display name animators see. No username, real name or photo.
    """

    id: int | None = Field(default=None, primary_key=True)
    telegram_id: int | None = Field(default=None, sa_column=Column(BigInteger, unique=True))
    display_name: str | None = Field(default=None, max_length=60)
    language: str = Field(default="pl", max_length=5)
    onboarding_step: str = Field(default=OnboardingStep.LANGUAGE, max_length=16)
    programme_id: int | None = Field(default=None, foreign_key="programme.id", index=True)
    # Set for people without Telegram: the animator who created the record.
    created_by_id: int | None = Field(default=None, foreign_key="person.id")
    phone: str | None = Field(default=None, max_length=32)
    paper_notice_signed: bool = False
    unreachable_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The deep link (e.g. an activity) to open once onboarding is finished.
    pending_start_payload: str | None = Field(default=None, max_length=64)

    @property
    def is_onboarded(self) -> bool:
        """Whether the first-run dialog is finished."""
        return self.onboarding_step == OnboardingStep.DONE

    @property
    def is_proxy(self) -> bool:
        """Whether this person has no Telegram and is represented by an animator."""
        return self.telegram_id is None and self.created_by_id is not None


class ProgrammeMembership(SQLModel, table=True):
    """A programme a resident takes part in besides the one their screens show.

    `Person.programme_id` is the programme the resident sees now (their list, their
    announcements); these rows are the others they joined (a second area, a new edition)
    or left. A person belongs to their shown programme and to every row not left.
    """

    __table_args__ = (UniqueConstraint("person_id", "programme_id"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    joined_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    left_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RoleGrant(SQLModel, table=True):
    """A role given to a Telegram id, optionally limited to one programme."""

    __table_args__ = (UniqueConstraint("telegram_id", "role", "programme_id"),)

    id: int | None = Field(default=None, primary_key=True)
    telegram_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    role: str = Field(max_length=16)
    programme_id: int | None = Field(default=None, foreign_key="programme.id")
    granted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Dialog(SQLModel, table=True):
    """A person's position in a multi-step dialog (survey, wizard), kept across restarts.

    State is written in the same transaction as the answer that moves it, so a
    restart or another process continues exactly where the person is.
    """

    __table_args__ = (Index("ix_dialog_person_kind", "person_id", "kind", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    kind: str = Field(max_length=32)
    step: str = Field(default="", max_length=64)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The bot message the dialog edits in place, if any.
    message_id: int | None = None
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Which dialog the person's next free-text message belongs to.
    awaits_text: bool = False
