"""Programmes, their activities and the places people hold in them."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Date, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class Programme(SQLModel, table=True):
    """A PAL programme or one annual edition of it."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    area: str | None = Field(default=None, max_length=200)
    # Sign-ups are open until this instant (the start of the last activity by default).
    signup_open_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ends_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The first day of this edition (local midnight), set by staff; None: not planned yet.
    starts_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Archived editions leave residents' choices and staff screens; data and reports stay.
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    survey_path: str | None = Field(default=None, max_length=500)
    final_survey_opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Per-programme overrides of the global settings; None means "use the default".
    reminder_offsets: str | None = Field(default=None, max_length=100)
    quiet_hours: str | None = Field(default=None, max_length=20)
    survey_followups: bool = True
    retention_months: int | None = None
    keep_answers_on_erasure: bool = True
    # Promotion from the reserve list: how long one person has to take a freed place
    # (`12h`; `0` gives it at once), and how long before the start it goes to whoever
    # taps first (`2h`). None means the deployment default.
    offer_time: str | None = Field(default=None, max_length=20)
    offer_first_come: str | None = Field(default=None, max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ActivityStatus(StrEnum):
    """Whether an activity is visible, still being drafted, or called off."""

    PUBLISHED = "published"
    CANCELLED = "cancelled"


class ActivitySeries(SQLModel, table=True):
    """A weekly activity: one rule, and one `Activity` row per date it happens.

    Places, the reserve list, reminders, changes and attendance belong to each date
    (its Activity); the series is what residents see as one entry and sign up for at
    once. The rule is kept to describe the series ("every Tuesday 17:00–19:00").
    """

    __table_args__ = (UniqueConstraint("programme_id", "import_key"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id")
    title: str = Field(max_length=200)
    # The local start time `HH:MM` and length of each date; the weekday is first_day's.
    start_time: str = Field(max_length=5)
    minutes: int
    first_day: date = Field(sa_type=Date)
    last_day: date = Field(sa_type=Date)
    # Dates the rule would give but that do not happen: asked to skip, public holidays.
    skipped: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    holidays_skipped: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    # Stable identity of an imported row so re-importing a file adds nothing twice.
    import_key: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Activity(SQLModel, table=True):
    """Something residents take part in: a workshop, meeting, picnic…"""

    __table_args__ = (
        UniqueConstraint("programme_id", "import_key"),
        Index("ix_activity_programme_start", "programme_id", "starts_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id")
    title: str = Field(max_length=200)
    category: str = Field(max_length=100)
    description: str = Field(default="", max_length=2000)
    venue: str = Field(max_length=300)
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    places: int
    registration_deadline: datetime | None = Field(default=None, sa_type=UTCDateTime)
    organiser_id: int | None = Field(default=None, foreign_key="person.id")
    contact: str | None = Field(default=None, max_length=200)
    status: str = Field(default=ActivityStatus.PUBLISHED, max_length=16)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Stable identity of an imported row so re-importing a file adds nothing twice.
    import_key: str | None = Field(default=None, max_length=64)
    checkin_code: str | None = Field(default=None, max_length=8)
    # The weekly series this date belongs to; None for a one-off activity.
    series_id: int | None = Field(default=None, foreign_key="activityseries.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RegistrationStatus(StrEnum):
    """A person's standing in one activity."""

    CONFIRMED = "confirmed"
    RESERVE = "reserve"
    CANCELLED = "cancelled"


ACTIVE_STATUSES = (RegistrationStatus.CONFIRMED, RegistrationStatus.RESERVE)


class Registration(SQLModel, table=True):
    """One sign-up. Cancelled rows are kept: they are the history indicators count.

    Arrival order on the reserve list is the row id, which the seat rule assigns
    while holding the activity's lock.
    """

    __table_args__ = (
        # At most one live sign-up per person and activity.
        Index(
            "uq_registration_active",
            "activity_id",
            "person_id",
            unique=True,
            sqlite_where=text("status != 'cancelled'"),
            postgresql_where=text("status != 'cancelled'"),
        ),
        Index("ix_registration_activity_status", "activity_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id")
    person_id: int = Field(foreign_key="person.id", index=True)
    status: str = Field(max_length=16)
    joined_reserve: bool = False
    promoted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attended: bool = False
    attendance_marked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attendance_marked_by_id: int | None = Field(default=None, foreign_key="person.id")
    # The animator who signed this person up on their behalf, if any.
    proxy_by_id: int | None = Field(default=None, foreign_key="person.id")
    confirmed_coming_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
