"""Weekly series: dates across the summer-time changes, public holidays and skipped dates."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from schedules.clock import FrozenClock
from storage.activities.series import (
    MAX_DATES,
    NewSeries,
    SeriesInvalid,
    SeriesProblem,
    WeeklyRule,
    create_series,
    expand,
    parse_repeat,
)
from storage.db import transaction
from storage.models import Activity, ActivitySeries, Programme, Registration
from tests.support.series import make_series
from tests.support.signup import make_people, make_programme
from usecases.caller import Caller
from usecases.series import SeriesSignUp, sign_up_for_series

WARSAW = ZoneInfo("Europe/Warsaw")


def test_a_weekly_time_stays_the_same_on_the_wall_clock_across_both_time_changes() -> None:
    # Summer time starts on 28.03.2027 and ends on 31.10.2027 (both Sundays; the first
    # is Easter Sunday too, kept here to see the change).
    rule = WeeklyRule(date(2027, 3, 21), date(2027, 4, 4), time(17, 0), 120, skip_holidays=False)
    dates = expand(rule, zone=WARSAW).dates
    assert [d.day for d in dates] == [date(2027, 3, 21), date(2027, 3, 28), date(2027, 4, 4)]
    assert dates[0].starts_at == datetime(2027, 3, 21, 16, 0, tzinfo=UTC)  # CET
    assert dates[1].starts_at == datetime(2027, 3, 28, 15, 0, tzinfo=UTC)  # CEST from 2:00
    assert dates[1].ends_at == datetime(2027, 3, 28, 17, 0, tzinfo=UTC)
    autumn = expand(
        WeeklyRule(date(2027, 10, 24), date(2027, 11, 7), time(17, 0), 120), zone=WARSAW
    ).dates
    assert [d.starts_at.hour for d in autumn] == [15, 16, 16]
    assert all(d.starts_at.astimezone(WARSAW).time() == time(17, 0) for d in autumn)
    assert all(d.ends_at.astimezone(WARSAW).time() == time(19, 0) for d in autumn)


def test_an_early_morning_date_on_the_night_of_the_change_keeps_its_wall_clock_length() -> None:
    # 01:30–03:30 on the night clocks go back: two hours on the wall clock.
    rule = WeeklyRule(date(2027, 10, 24), date(2027, 10, 31), time(1, 30), 120)
    night = expand(rule, zone=WARSAW).dates[1]
    assert night.starts_at.astimezone(WARSAW).time() == time(1, 30)
    assert night.ends_at.astimezone(WARSAW).time() == time(3, 30)


def test_public_holidays_are_skipped_and_named() -> None:
    # Mondays: Easter Monday (29.03.2027) and the Third of May are holidays.
    rule = WeeklyRule(date(2027, 3, 22), date(2027, 5, 10), time(10, 0), 60)
    expansion = expand(rule, zone=WARSAW)
    days = [d.day for d in expansion.dates]
    assert date(2027, 3, 29) not in days and date(2027, 5, 3) not in days
    assert expansion.holidays == (date(2027, 3, 29), date(2027, 5, 3))
    assert len(days) == 8 - 2
    kept = expand(
        WeeklyRule(date(2027, 3, 22), date(2027, 5, 10), time(10, 0), 60, skip_holidays=False),
        zone=WARSAW,
    )
    assert len(kept.dates) == 8 and kept.holidays == ()


def test_asked_dates_are_skipped_and_a_date_outside_the_series_is_refused() -> None:
    rule = WeeklyRule(date(2027, 1, 12), date(2027, 2, 9), time(17, 0), 120, (date(2027, 1, 26),))
    expansion = expand(rule, zone=WARSAW)
    assert [d.day.day for d in expansion.dates] == [12, 19, 2, 9]
    assert expansion.skipped == (date(2027, 1, 26),)
    with pytest.raises(SeriesInvalid) as refused:
        expand(
            WeeklyRule(date(2027, 1, 12), date(2027, 2, 9), time(17), 60, (date(2027, 1, 27),)),
            zone=WARSAW,
        )
    assert refused.value.problem == SeriesProblem.SKIP_NOT_A_DATE


def test_a_series_needs_two_dates_and_no_more_than_the_limit() -> None:
    with pytest.raises(SeriesInvalid) as soon:
        expand(WeeklyRule(date(2027, 1, 12), date(2027, 1, 18), time(17), 60), zone=WARSAW)
    assert soon.value.problem == SeriesProblem.END_TOO_SOON
    first = date(2027, 1, 12)
    with pytest.raises(SeriesInvalid) as many:
        expand(WeeklyRule(first, first + timedelta(weeks=MAX_DATES), time(17), 60), zone=WARSAW)
    assert many.value.problem == SeriesProblem.TOO_MANY


def test_a_typed_repeat_answer_gives_the_last_date_and_the_dates_to_skip() -> None:
    today = date(2026, 12, 4)
    assert parse_repeat("do 30.06 oprócz 14.04, 5.05", today=today) == (
        date(2027, 6, 30),
        (date(2027, 4, 14), date(2027, 5, 5)),
    )
    assert parse_repeat("until 2027-06-30", today=today) == (date(2027, 6, 30), ())
    assert parse_repeat("до 30.06.2027 крім 14.04", today=today)[1] == (date(2027, 4, 14),)
    for nonsense in ("co tydzień", "🎉", "31.02", ""):
        with pytest.raises(SeriesInvalid):
            parse_repeat(nonsense, today=today)


def test_creating_a_series_writes_one_published_activity_per_date(engine: Engine) -> None:
    now = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    with transaction(engine) as session:
        programme = Programme(name="PAL Zatorze")
        session.add(programme)
        session.flush()
        assert programme.id is not None
        series, dates = create_series(
            session,
            new=NewSeries(
                programme_id=programme.id,
                title="Klub seniora",
                category="spotkania",
                description="",
                venue="Klub Sąsiedzki",
                places=12,
                organiser_id=None,
                deadline_before=timedelta(hours=2),
            ),
            rule=WeeklyRule(date(2027, 3, 30), date(2027, 4, 20), time(17), 120),
            zone=WARSAW,
            now=now,
        )
        series_id = series.id
    assert len(dates) == 4
    with Session(engine) as session:
        stored = session.exec(
            select(Activity)
            .where(Activity.series_id == series_id)
            .order_by(col(Activity.starts_at))
        ).all()
        assert [a.places for a in stored] == [12] * 4
        assert all(a.registration_deadline == a.starts_at - timedelta(hours=2) for a in stored)
        row = session.get(ActivitySeries, series_id)
        assert row is not None and row.start_time == "17:00" and row.minutes == 120


def _series_race(engine: Engine, clock: FrozenClock) -> None:
    """Twelve people press "all dates" of a 4-date, 5-place series at the same moment."""
    people, places = 12, 5
    with transaction(engine) as session:
        programme = make_programme(session)
        assert programme.id is not None
        series, dates = make_series(
            session,
            programme_id=programme.id,
            first_day=date(2026, 12, 1),
            last_day=date(2026, 12, 22),
            places=places,
            now=clock.now(),
        )
        assert series.id is not None
        series_id, programme_id = series.id, programme.id
        date_ids = [a.id for a in dates]
    make_people(engine, people, programme_id=programme_id, first_telegram_id=20_000)
    barrier = threading.Barrier(people)

    def press(i: int) -> SeriesSignUp:
        barrier.wait()
        with transaction(engine) as session:
            return sign_up_for_series(
                session,
                caller=Caller(20_000 + i, frozenset(), "pl"),
                series_id=series_id,
                now=clock.now(),
                surveys_dir=None,
            )

    with ThreadPoolExecutor(max_workers=people) as pool:
        outcomes = list(pool.map(press, range(people)))
    assert all(o.created == 4 for o in outcomes)
    with Session(engine) as session:
        for activity_id in date_ids:
            rows = session.exec(
                select(Registration).where(Registration.activity_id == activity_id)
            ).all()
            statuses = sorted(r.status for r in rows)
            assert statuses == ["confirmed"] * places + ["reserve"] * (people - places)
    # Whoever got a place on one date got it on every date: the presses ran one by one.
    assert sum(o.places == 4 for o in outcomes) == places


def test_everyone_pressing_all_dates_at_once_sqlite(engine: Engine, clock: FrozenClock) -> None:
    _series_race(engine, clock)


def test_everyone_pressing_all_dates_at_once_postgres(
    postgres_engine: Engine, clock: FrozenClock
) -> None:
    _series_race(postgres_engine, clock)
