"""A weekly series for tests: one rule, one activity per date (storage.activities.series)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import Session

from storage.activities.series import NewSeries, WeeklyRule, create_series
from storage.models import Activity, ActivitySeries

WARSAW = ZoneInfo("Europe/Warsaw")


def make_series(
    session: Session,
    *,
    programme_id: int,
    first_day: date,
    last_day: date,
    now: datetime,
    start: time = time(17),
    minutes: int = 120,
    places: int = 10,
    title: str = "Klub seniora",
    category: str = "spotkania",
) -> tuple[ActivitySeries, list[Activity]]:
    """A published weekly series of the programme, from first_day to last_day."""
    return create_series(
        session,
        new=NewSeries(
            programme_id=programme_id,
            title=title,
            category=category,
            description="",
            venue="Świetlica",
            places=places,
            organiser_id=None,
        ),
        rule=WeeklyRule(first_day, last_day, start, minutes),
        zone=WARSAW,
        now=now,
    )
