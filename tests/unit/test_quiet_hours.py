"""Quiet hours in local time, across DST changes, with their exemptions."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from schedules.messages import OutgoingMessage
from schedules.quiet_hours import effective_quiet_hours, held_until, is_exempt, is_quiet, quiet_end
from storage.models import SendKind

WARSAW = ZoneInfo("Europe/Warsaw")
NIGHT = (time(21, 0), time(8, 0))
PLAIN = OutgoingMessage(text="x")


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=WARSAW)


@pytest.mark.parametrize(
    ("moment", "quiet"),
    [
        (local(2026, 11, 23, 20, 59), False),
        (local(2026, 11, 23, 21, 0), True),
        (local(2026, 11, 24, 3, 0), True),
        (local(2026, 11, 24, 7, 59), True),
        (local(2026, 11, 24, 8, 0), False),
    ],
)
def test_quiet_hours_wrap_midnight(moment: datetime, quiet: bool) -> None:
    assert is_quiet(moment, NIGHT, WARSAW) is quiet


def test_a_daytime_window_and_off() -> None:
    lunch = (time(13, 0), time(14, 0))
    assert is_quiet(local(2026, 11, 23, 13, 30), lunch, WARSAW)
    assert not is_quiet(local(2026, 11, 23, 14, 0), lunch, WARSAW)
    assert quiet_end(local(2026, 11, 23, 13, 30), lunch, WARSAW) == local(2026, 11, 23, 14, 0)
    assert not is_quiet(local(2026, 11, 23, 3, 0), None, WARSAW)


def test_evening_sends_wait_for_the_next_morning() -> None:
    assert quiet_end(local(2026, 11, 23, 22, 15), NIGHT, WARSAW) == local(2026, 11, 24, 8, 0)
    assert quiet_end(local(2026, 11, 24, 5, 0), NIGHT, WARSAW) == local(2026, 11, 24, 8, 0)
    assert quiet_end(local(2026, 11, 24, 12, 0), NIGHT, WARSAW) == local(2026, 11, 24, 12, 0)


def test_the_morning_is_eight_o_clock_on_both_sides_of_dst_changes() -> None:
    # Night of 24/25 October 2026: clocks go back from 03:00 CEST to 02:00 CET.
    autumn = quiet_end(local(2026, 10, 24, 23, 0), NIGHT, WARSAW)
    assert autumn == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)  # 08:00 CET
    # Night of 28/29 March 2026: clocks go forward from 02:00 CET to 03:00 CEST.
    spring = quiet_end(local(2026, 3, 28, 23, 0), NIGHT, WARSAW)
    assert spring == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)  # 08:00 CEST
    # A quiet period ending inside the skipped hour ends right after the jump.
    odd = (time(21, 0), time(2, 30))
    assert quiet_end(local(2026, 3, 28, 23, 0), odd, WARSAW) == datetime(
        2026, 3, 29, 1, 30, tzinfo=UTC
    )


def test_exemptions() -> None:
    now = local(2026, 11, 23, 23, 0).astimezone(UTC)
    assert is_exempt(
        SendKind.REMINDER,
        OutgoingMessage("x", exempt_from_quiet_hours=True),
        now=now,
        activity_starts_at=None,
    )
    assert is_exempt(SendKind.PROMOTION, PLAIN, now=now, activity_starts_at=None)
    assert is_exempt(SendKind.CHANGE, PLAIN, now=now, activity_starts_at=now + timedelta(hours=10))
    assert not is_exempt(
        SendKind.CHANGE, PLAIN, now=now, activity_starts_at=now + timedelta(hours=30)
    )
    assert not is_exempt(SendKind.SURVEY_FOLLOWUP, PLAIN, now=now, activity_starts_at=None)


def test_held_until_combines_the_rules() -> None:
    night = local(2026, 11, 23, 23, 0).astimezone(UTC)
    day = local(2026, 11, 23, 11, 0).astimezone(UTC)
    morning = local(2026, 11, 24, 8, 0)
    assert held_until(SendKind.BROADCAST, PLAIN, now=night, hours=NIGHT, zone=WARSAW) == morning
    assert held_until(SendKind.BROADCAST, PLAIN, now=day, hours=NIGHT, zone=WARSAW) is None
    assert held_until(SendKind.BROADCAST, PLAIN, now=night, hours=None, zone=WARSAW) is None
    assert held_until(SendKind.PROMOTION, PLAIN, now=night, hours=NIGHT, zone=WARSAW) is None


def test_programme_override() -> None:
    assert effective_quiet_hours(None, NIGHT) == NIGHT
    assert effective_quiet_hours("off", NIGHT) is None
    assert effective_quiet_hours("22:00-07:00", NIGHT) == (time(22), time(7))
    assert effective_quiet_hours("nonsense", NIGHT) == NIGHT
