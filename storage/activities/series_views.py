"""A weekly series as a resident sees it: its rule, its upcoming dates with free places and
the reader's own place on each, in one Core statement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import Integer, and_, bindparam, select
from sqlmodel import Session

from storage.activities.listing import ClosedReason, closed_reason_of
from storage.activities.resident_views import (
    CANCELLED,
    CONFIRMED,
    COUNTED,
    DEADLINE_OFFERS,
    FIRST_COME_OFFERS,
    MINE,
    MY_POSITION,
    RESERVE,
    Standing,
    count_where,
    standing_of,
)
from storage.models import ActivityStatus
from storage.tables import ACTIVITY, ACTIVITY_SERIES, PROGRAMME


@dataclass(frozen=True)
class SeriesDateView:
    """One upcoming date of a series with the reader's standing in it."""

    activity_id: int
    starts_at: datetime
    ends_at: datetime
    places: int
    status: str
    standing: Standing
    closed: ClosedReason | None

    @property
    def free(self) -> int:
        """Free places on this date."""
        return self.standing.free(self.places)


@dataclass(frozen=True)
class SeriesView:
    """A series' rule and shared details, and its dates that have not started."""

    series_id: int
    programme_id: int
    title: str
    category: str
    venue: str
    description: str
    start_time: time
    minutes: int
    first_day: date
    last_day: date
    # Days the rule gives but that do not happen (asked to skip, holidays), from the
    # next date on: those before are history.
    left_out: tuple[date, ...]
    dates: tuple[SeriesDateView, ...]

    @property
    def open_dates(self) -> tuple[SeriesDateView, ...]:
        """Dates that take sign-ups now."""
        return tuple(d for d in self.dates if d.closed is None)

    @property
    def mine(self) -> tuple[SeriesDateView, ...]:
        """Dates where the reader holds a place or a reserve position."""
        return tuple(d for d in self.dates if d.standing.status is not None)

    @property
    def to_sign_up(self) -> tuple[SeriesDateView, ...]:
        """Open dates the reader is not signed up for."""
        return tuple(d for d in self.open_dates if d.standing.status is None)


_MINE_LIVE = and_(
    MINE.c.activity_id == ACTIVITY.c.id,
    MINE.c.person_id == bindparam("person_id", type_=Integer),
    MINE.c.status != CANCELLED,
)
_SERIES = (
    select(
        ACTIVITY_SERIES.c.programme_id,
        ACTIVITY_SERIES.c.start_time,
        ACTIVITY_SERIES.c.minutes,
        ACTIVITY_SERIES.c.first_day,
        ACTIVITY_SERIES.c.last_day,
        ACTIVITY_SERIES.c.skipped,
        ACTIVITY_SERIES.c.holidays_skipped,
        ACTIVITY.c.id,
        ACTIVITY.c.title,
        ACTIVITY.c.category,
        ACTIVITY.c.venue,
        ACTIVITY.c.description,
        ACTIVITY.c.starts_at,
        ACTIVITY.c.ends_at,
        ACTIVITY.c.places,
        ACTIVITY.c.status,
        ACTIVITY.c.registration_deadline,
        PROGRAMME.c.signup_open_until,
        count_where(COUNTED.c.status == CONFIRMED).label("taken"),
        count_where(COUNTED.c.status == RESERVE).label("waiting"),
        MINE.c.status.label("my_status"),
        MINE.c.id.label("my_id"),
        MY_POSITION.label("my_position"),
        DEADLINE_OFFERS,
        FIRST_COME_OFFERS,
    )
    .select_from(
        ACTIVITY_SERIES.join(ACTIVITY, ACTIVITY.c.series_id == ACTIVITY_SERIES.c.id)
        .join(PROGRAMME, PROGRAMME.c.id == ACTIVITY_SERIES.c.programme_id)
        .outerjoin(MINE, _MINE_LIVE)
    )
    .where(
        ACTIVITY_SERIES.c.id == bindparam("series_id", type_=Integer),
        ACTIVITY.c.starts_at > bindparam("now"),
    )
    .order_by(ACTIVITY.c.starts_at, ACTIVITY.c.id)
)


def series_view(
    session: Session, *, series_id: int, person_id: int | None, now: datetime
) -> SeriesView | None:
    """The series with its upcoming dates (None if it has none or does not exist)."""
    rows = (
        session.connection()
        .execute(_SERIES, {"series_id": series_id, "person_id": person_id, "now": now})
        .all()
    )
    if not rows:
        return None
    # The next date speaks for the series: a changed title or venue shows from then on.
    first = rows[0]
    dates = tuple(
        SeriesDateView(
            r.id,
            r.starts_at,
            r.ends_at,
            r.places,
            r.status,
            standing_of(r),
            closed_reason_of(
                status=r.status,
                starts_at=r.starts_at,
                deadline=r.registration_deadline,
                signup_open_until=r.signup_open_until,
                now=now,
            ),
        )
        for r in rows
    )
    return SeriesView(
        series_id=series_id,
        programme_id=first.programme_id,
        title=first.title,
        category=first.category,
        venue=first.venue,
        description=first.description,
        start_time=time.fromisoformat(first.start_time),
        minutes=first.minutes,
        first_day=first.first_day,
        last_day=first.last_day,
        left_out=tuple(
            sorted(
                day
                for day in map(date.fromisoformat, [*first.skipped, *first.holidays_skipped])
                if day >= first.starts_at.date()
            )
        ),
        dates=dates,
    )


def open_date_ids(session: Session, *, series_id: int, now: datetime) -> list[int]:
    """Ids of the series' published dates that have not started, in id (lock) order."""
    rows = session.connection().execute(_DATE_IDS, {"series_id": series_id, "now": now})
    return [row.id for row in rows]


_DATE_IDS = (
    select(ACTIVITY.c.id)
    .where(
        ACTIVITY.c.series_id == bindparam("series_id", type_=Integer),
        ACTIVITY.c.status == ActivityStatus.PUBLISHED.value,
        ACTIVITY.c.starts_at > bindparam("now"),
    )
    .order_by(ACTIVITY.c.id)
)
