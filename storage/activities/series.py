"""Weekly series: the rule that turns "every Tuesday 17:00–19:00 from 13.01 to 30.06
except 14.04" into dates, and writing a series with one activity per date.

Each date is a full `Activity` (places, reserve list, reminders, attendance and changes
are per date); the `ActivitySeries` row keeps the rule so residents see one entry.
Times are wall-clock times in the programme's zone: 17:00 stays 17:00 across the
change to and from summer time. Public holidays (centres are closed) are skipped
unless the caller says otherwise, and are named on the preview.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo

from sqlmodel import Session

from storage.date_input import NotUnderstood, parse_date
from storage.models import Activity, ActivitySeries, ActivityStatus

# A programme year of weekly meetings is about 40; more is a typo in a date.
MAX_DATES = 60
WEEK = timedelta(days=7)
# The country whose public holidays are skipped (the holidays library's code).
HOLIDAY_COUNTRY = "PL"


class SeriesProblem(StrEnum):
    """Why a series rule was refused."""

    NOT_UNDERSTOOD = "not_understood"
    END_TOO_SOON = "end_too_soon"
    TOO_MANY = "too_many"
    SKIP_NOT_A_DATE = "skip_not_a_date"


class SeriesInvalid(ValueError):
    """A rule that gives no usable series; `problem` and `params` make the hint."""

    def __init__(self, problem: SeriesProblem, **params: object) -> None:
        super().__init__(problem.value)
        self.problem = problem
        self.params = params


@dataclass(frozen=True)
class WeeklyRule:
    """Every week on first_day's weekday, from first_day to last_day, at `start` local."""

    first_day: date
    last_day: date
    start: time
    minutes: int
    skipped: tuple[date, ...] = ()
    skip_holidays: bool = True


@dataclass(frozen=True)
class SeriesDate:
    """One date of a series, its instants in UTC."""

    day: date
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class Expansion:
    """The dates a rule gives, and those it leaves out (asked to skip, holidays)."""

    dates: tuple[SeriesDate, ...]
    skipped: tuple[date, ...] = ()
    holidays: tuple[date, ...] = field(default=())


@cache
def _public_holidays(year: int) -> frozenset[date]:
    # The holidays library loads every country's calendar on import (about 0.1 s), so it
    # is loaded when the first series is expanded, not at start-up.
    import holidays

    return frozenset(holidays.country_holidays(HOLIDAY_COUNTRY, years=year))


def public_holidays(first: date, last: date) -> frozenset[date]:
    """Public holidays between two days (inclusive)."""
    found: set[date] = set()
    for year in range(first.year, last.year + 1):
        found |= {d for d in _public_holidays(year) if first <= d <= last}
    return frozenset(found)


def wall_clock(day: date, at: time, minutes: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Start and end in UTC of a local `at` on `day` lasting `minutes` of wall-clock time."""
    start_local = datetime.combine(day, at)
    end_local = start_local + timedelta(minutes=minutes)
    return (
        start_local.replace(tzinfo=zone).astimezone(UTC),
        end_local.replace(tzinfo=zone).astimezone(UTC),
    )


def weekly_days(first: date, last: date) -> list[date]:
    """first, first + 7 days, … up to last."""
    days: list[date] = []
    day = first
    while day <= last:
        days.append(day)
        day += WEEK
    return days


def expand(rule: WeeklyRule, *, zone: ZoneInfo) -> Expansion:
    """The rule's dates in order; raises SeriesInvalid for a rule residents cannot use."""
    if rule.last_day < rule.first_day + WEEK:
        raise SeriesInvalid(SeriesProblem.END_TOO_SOON, first=rule.first_day)
    days = weekly_days(rule.first_day, rule.last_day)
    if len(days) > MAX_DATES:
        raise SeriesInvalid(SeriesProblem.TOO_MANY, limit=MAX_DATES, count=len(days))
    for day in rule.skipped:
        if day not in days:
            raise SeriesInvalid(SeriesProblem.SKIP_NOT_A_DATE, day=day)
    holidays = public_holidays(rule.first_day, rule.last_day) if rule.skip_holidays else frozenset()
    asked = set(rule.skipped)
    dates = tuple(
        SeriesDate(day, *wall_clock(day, rule.start, rule.minutes, zone))
        for day in days
        if day not in asked and day not in holidays
    )
    return Expansion(
        dates,
        tuple(sorted(asked)),
        tuple(d for d in days if d in holidays and d not in asked),
    )


# "do 30.06 oprócz 14.04, 5.05" / "until 30.06 except 14.04" / "до 30.06 крім 14.04":
# the first date is the last one, the others are skipped.
_DATE_TOKEN = re.compile(r"\d{1,4}[./-]\d{1,2}(?:[./-]\d{2,4})?")


def parse_repeat(text: str, *, today: date) -> tuple[date, tuple[date, ...]]:
    """The last date and the dates to skip from a typed answer."""
    tokens = _DATE_TOKEN.findall(text)
    if not tokens:
        raise SeriesInvalid(SeriesProblem.NOT_UNDERSTOOD)
    try:
        days = [parse_date(token, today=today) for token in tokens]
    except NotUnderstood:
        raise SeriesInvalid(SeriesProblem.NOT_UNDERSTOOD) from None
    return days[0], tuple(days[1:])


def activity_key(title: str, starts_at: datetime, venue: str) -> str:
    """Stable identity of an imported activity: the same row re-imported has the same key."""
    raw = "\x1f".join((title.casefold(), starts_at.isoformat(), venue.casefold()))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class NewSeries:
    """What a series' dates share."""

    programme_id: int
    title: str
    category: str
    description: str
    venue: str
    places: int
    organiser_id: int | None
    contact: str | None = None
    # Sign-up closes this long before each date; None: at the start.
    deadline_before: timedelta | None = None
    import_key: str | None = None


def create_series(
    session: Session,
    *,
    new: NewSeries,
    rule: WeeklyRule,
    zone: ZoneInfo,
    now: datetime,
) -> tuple[ActivitySeries, list[Activity]]:
    """Write the series and one published activity per date, in the caller's transaction."""
    expansion = expand(rule, zone=zone)
    series = ActivitySeries(
        programme_id=new.programme_id,
        title=new.title,
        start_time=rule.start.strftime("%H:%M"),
        minutes=rule.minutes,
        first_day=rule.first_day,
        last_day=rule.last_day,
        skipped=[d.isoformat() for d in expansion.skipped],
        holidays_skipped=[d.isoformat() for d in expansion.holidays],
        import_key=new.import_key,
        created_at=now,
    )
    session.add(series)
    session.flush()
    activities = [
        Activity(
            programme_id=new.programme_id,
            title=new.title,
            category=new.category,
            description=new.description,
            venue=new.venue,
            starts_at=when.starts_at,
            ends_at=when.ends_at,
            places=new.places,
            registration_deadline=(
                when.starts_at - new.deadline_before if new.deadline_before is not None else None
            ),
            organiser_id=new.organiser_id,
            contact=new.contact,
            status=ActivityStatus.PUBLISHED,
            series_id=series.id,
            # An imported series' dates are keyed like imported one-off activities.
            import_key=(
                activity_key(new.title, when.starts_at, new.venue)
                if new.import_key is not None
                else None
            ),
            created_at=now,
            updated_at=now,
        )
        for when in expansion.dates
    ]
    session.add_all(activities)
    session.flush()
    return series, activities


def shifted_rules(
    session: Session, dates: list[Activity], *, weeks: int, zone: ZoneInfo
) -> list[tuple[NewSeries, WeeklyRule]]:
    """The weekly series behind `dates` (activities of one programme), moved by whole weeks.

    For copying an edition: each series starts again from its rule, so the new year's
    public holidays are skipped (Easter moves) and dates called off this year come back.
    The first date of each series gives what its dates share; `programme_id` is left 0
    for the caller to set.
    """
    first_of: dict[int, Activity] = {}
    for activity in sorted(dates, key=lambda a: (a.starts_at, a.id or 0)):
        if activity.series_id is not None:
            first_of.setdefault(activity.series_id, activity)
    shifted: list[tuple[NewSeries, WeeklyRule]] = []
    for series_id, first in sorted(first_of.items()):
        series = session.get(ActivitySeries, series_id)
        if series is None:
            continue
        moved = timedelta(weeks=weeks)
        deadline = first.registration_deadline
        shifted.append(
            (
                NewSeries(
                    programme_id=0,
                    title=first.title,
                    category=first.category,
                    description=first.description,
                    venue=first.venue,
                    places=first.places,
                    organiser_id=first.organiser_id,
                    contact=first.contact,
                    deadline_before=first.starts_at - deadline if deadline else None,
                ),
                WeeklyRule(
                    series.first_day + moved,
                    series.last_day + moved,
                    first.starts_at.astimezone(zone).time(),
                    series.minutes,
                    tuple(date.fromisoformat(d) + moved for d in series.skipped),
                ),
            )
        )
    return shifted
