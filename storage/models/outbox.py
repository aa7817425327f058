"""Everything due later: one row per message to send, claimed before it is sent."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class SendKind(StrEnum):
    """What a pending send is for; decides its text and its quiet-hours rule."""

    REMINDER = "reminder"
    PROMOTION = "promotion"
    CHANGE = "change"
    SURVEY_INVITE = "survey_invite"
    SURVEY_FOLLOWUP = "survey_followup"
    BROADCAST = "broadcast"
    # To animators: people without Telegram holding a place, to phone
    # (storage.activities.call_list).
    CALL_LIST = "call_list"
    PLACE_OFFER = "place_offer"
    OFFER_EXPIRED = "offer_expired"
    CONSULTATION = "consultation"  # a consultation has opened: the first question
    CONSULTATION_RESULTS = "consultation_results"  # it has closed: the results


class SendState(StrEnum):
    """The life of a pending send. Only `pending` rows may be claimed."""

    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"
    DROPPED = "dropped"
    CANCELLED = "cancelled"


class PendingSend(SQLModel, table=True):
    """A message due at `due_at`; the dispatcher claims it by moving it to `claimed`."""

    __table_args__ = (
        Index("ix_pendingsend_state_due", "state", "due_at"),
        Index("ix_pendingsend_person", "person_id", "state"),
        Index("ix_pendingsend_broadcast", "broadcast_id", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=24)
    person_id: int | None = Field(default=None, foreign_key="person.id")
    activity_id: int | None = Field(default=None, foreign_key="activity.id")
    registration_id: int | None = Field(default=None, foreign_key="registration.id")
    broadcast_id: int | None = Field(default=None, foreign_key="broadcast.id")
    programme_id: int | None = Field(default=None, foreign_key="programme.id")
    due_at: datetime = Field(sa_type=UTCDateTime)
    state: str = Field(default=SendState.PENDING, max_length=16)
    attempts: int = 0
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, max_length=64)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    telegram_message_id: int | None = None
    last_error: str | None = Field(default=None, max_length=200)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # A stable name that makes creating the same send twice a no-op.
    dedupe_key: str | None = Field(default=None, max_length=120, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BroadcastState(StrEnum):
    """A broadcast from composing to its delivery report."""

    DRAFT = "draft"
    SENDING = "sending"
    DONE = "done"
    CANCELLED = "cancelled"


class Broadcast(SQLModel, table=True):
    """An announcement from an animator to an audience, sent through the outbox."""

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id")
    author_id: int = Field(foreign_key="person.id")
    text: str = Field(max_length=4096)
    translations: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    photo_file_id: str | None = Field(default=None, max_length=200)
    activity_id: int | None = Field(default=None, foreign_key="activity.id")
    audience: str = Field(max_length=32)
    audience_activity_id: int | None = Field(default=None, foreign_key="activity.id")
    urgent: bool = False
    state: str = Field(default=BroadcastState.DRAFT, max_length=16)
    # Telegram chat ids exceed 32 bits.
    progress_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    progress_message_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The process that edits the progress message now; another takes over once the
    # lease has lapsed (the owner stopped or died).
    progress_owner: str | None = Field(default=None, max_length=64)
    progress_lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the delivery report was shown in the author's chat; until then some process
    # keeps trying.
    reported_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
