"""Dates, times and lengths typed by animators, in Polish, Ukrainian and English."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from storage.date_input import NotUnderstood, parse_date, parse_duration, parse_end, parse_time

# Monday 23 November 2026, the day the test clock starts on.
MONDAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("12.12", date(2026, 12, 12)),
        ("12.12.2026", date(2026, 12, 12)),
        ("12.12.26", date(2026, 12, 12)),
        ("12/12", date(2026, 12, 12)),
        ("1-12", date(2026, 12, 1)),
        ("2026-12-01", date(2026, 12, 1)),
        (" 5.1 ", date(2027, 1, 5)),  # January has passed this year: next January
        ("23.11", date(2026, 11, 23)),  # today is still upcoming
        ("22.11", date(2027, 11, 22)),  # yesterday means next year's
        ("12 grudnia", date(2026, 12, 12)),
        ("12 grudnia 2027", date(2027, 12, 12)),
        ("3 stycznia", date(2027, 1, 3)),
        ("15 października", date(2027, 10, 15)),
        ("12 грудня", date(2026, 12, 12)),
        ("12 December", date(2026, 12, 12)),
        ("December 12", date(2026, 12, 12)),
        ("Dec 12th, 2026", date(2026, 12, 12)),
    ],
)
def test_numeric_and_named_dates(typed: str, expected: date) -> None:
    assert parse_date(typed, today=MONDAY) == expected


@pytest.mark.parametrize(
    ("typed", "days"),
    [
        ("dziś", 0), ("Dzisiaj", 0), ("today", 0), ("сьогодні", 0),
        ("jutro", 1), ("JUTRO!", 1), ("tomorrow", 1), ("завтра", 1),
        ("pojutrze", 2), ("day after tomorrow", 2), ("післязавтра", 2),
        ("za tydzień", 7), ("next week", 7), ("через тиждень", 7),
    ],
)  # fmt: skip
def test_relative_days_in_every_language(typed: str, days: int) -> None:
    assert parse_date(typed, today=MONDAY) == MONDAY + timedelta(days=days)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("wtorek", date(2026, 11, 24)),
        ("we wtorek", date(2026, 11, 24)),
        ("w środę", date(2026, 11, 25)),
        ("sroda", date(2026, 11, 25)),
        ("piątek", date(2026, 11, 27)),
        ("w niedzielę", date(2026, 11, 29)),
        ("poniedziałek", date(2026, 11, 30)),  # today is Monday: the next one
        ("Friday", date(2026, 11, 27)),
        ("next Monday", date(2026, 11, 30)),
        ("sat", date(2026, 11, 28)),
        ("середа", date(2026, 11, 25)),
        ("у п'ятницю", date(2026, 11, 27)),
        ("в неділю", date(2026, 11, 29)),
        ("субота", date(2026, 11, 28)),
        ("четвер", date(2026, 11, 26)),
    ],
)
def test_weekday_names_mean_the_next_such_day(typed: str, expected: date) -> None:
    assert parse_date(typed, today=MONDAY) == expected


def test_leap_day_without_year_is_the_next_leap_year() -> None:
    assert parse_date("29.02", today=MONDAY) == date(2028, 2, 29)


@pytest.mark.parametrize(
    "typed",
    ["", "kiedyś", "31.11", "32.12", "12.13", "30.02.2027", "tuesday next", "12", "🎉", "‏12.12‏x"],
)
def test_dates_not_understood(typed: str) -> None:
    with pytest.raises(NotUnderstood):
        parse_date(typed, today=MONDAY)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("17", time(17)), ("17:00", time(17)), ("17.30", time(17, 30)), ("9:05", time(9, 5)),
        ("17h30", time(17, 30)), ("godz. 17", time(17)), ("o 18:15", time(18, 15)),
        ("0:00", time(0)), ("5 pm", time(17)), ("11 am", time(11)), ("12 pm", time(12)),
        ("о 17:00", time(17)), ("17 : 45", time(17, 45)),
    ],
)  # fmt: skip
def test_times(typed: str, expected: time) -> None:
    assert parse_time(typed) == expected


@pytest.mark.parametrize("typed", ["25", "17:60", "24:00", "13 pm", "siedemnasta", "17:5", ""])
def test_times_not_understood(typed: str) -> None:
    with pytest.raises(NotUnderstood):
        parse_time(typed)


@pytest.mark.parametrize(
    ("typed", "minutes"),
    [
        ("1h", 60), ("1,5 h", 90), ("1.5h", 90), ("90 min", 90), ("2 godz.", 120),
        ("2 godziny", 120), ("1 godzina", 60), ("1 h 30 min", 90), ("1 h i 30 min", 90),
        ("2 hours", 120), ("45 minutes", 45), ("2 години", 120), ("30 хв", 30),
        ("3 год", 180),
    ],
)  # fmt: skip
def test_durations(typed: str, minutes: int) -> None:
    assert parse_duration(typed) == timedelta(minutes=minutes)


@pytest.mark.parametrize("typed", ["", "long", "0 h", "h", "2 days", "1h and a bit"])
def test_durations_not_understood(typed: str) -> None:
    with pytest.raises(NotUnderstood):
        parse_duration(typed)


@pytest.mark.parametrize(
    ("typed", "minutes"),
    [("19:00", 120), ("do 19", 120), ("until 18.30", 90), ("до 20:00", 180), ("90 min", 90)],
)
def test_end_as_time_or_length(typed: str, minutes: int) -> None:
    assert parse_end(typed, start=time(17)) == timedelta(minutes=minutes)


def test_end_before_start_is_a_negative_length_not_past_midnight() -> None:
    assert parse_end("16:00", start=time(17)) == timedelta(hours=-1)
