"""One-time invitation links that give a role (and a programme) to whoever accepts them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class Invitation(SQLModel, table=True):
    """An invitation; only the SHA-256 of its token is kept, so a database copy opens nothing.

    It is open until `expires_at` unless it was used (`used_at`) or withdrawn
    (`revoked_at`); the state changes under a row lock, so a link is accepted once.
    """

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    role: str = Field(max_length=16)
    # None only for administrators, whose role covers every programme.
    programme_id: int | None = Field(default=None, foreign_key="programme.id", index=True)
    # None when printed by the command line on a fresh install.
    created_by_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_by_id: int | None = Field(default=None, foreign_key="person.id")
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
