"""Settings: defaults, parsing and one-line errors."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from bot.settings import SettingsError, load_settings
from storage.setting_values import parse_duration, parse_offsets, parse_quiet_hours


def test_defaults_need_nothing() -> None:
    settings = load_settings(_env_file=None)
    assert settings.api_url == "https://api.telegram.org"
    assert settings.database_url.startswith("sqlite:///")
    assert settings.default_language == "pl"
    assert settings.reminder_offsets == (timedelta(hours=24), timedelta(hours=2))
    assert settings.quiet_hours == (time(21), time(8))


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PALBOT_ADMIN_IDS", "1, 2,3")
    monkeypatch.setenv("PALBOT_API_URL", "http://127.0.0.1:8081/")
    monkeypatch.setenv("PALBOT_REMINDER_OFFSETS", "2d,30m")
    settings = load_settings(_env_file=None)
    assert settings.admin_ids == {1, 2, 3}
    assert settings.api_url == "http://127.0.0.1:8081"
    assert settings.reminder_offsets == (timedelta(days=2), timedelta(minutes=30))


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("PALBOT_ADMIN_IDS", "12,abc", "PALBOT_ADMIN_IDS"),
        ("PALBOT_TIMEZONE", "Mars/Base", "PALBOT_TIMEZONE"),
        ("PALBOT_REMINDER_OFFSETS", "24x", "PALBOT_REMINDER_OFFSETS"),
        ("PALBOT_QUIET_HOURS", "25:00-08:00", "PALBOT_QUIET_HOURS"),
        ("PALBOT_DEFAULT_LANGUAGE", "de", "PALBOT_DEFAULT_LANGUAGE"),
        ("PALBOT_TOKEN", "not a token", "PALBOT_TOKEN"),
        ("PALBOT_API_URL", "ftp://x", "PALBOT_API_URL"),
    ],
)
def test_bad_setting_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, fragment: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None)
    message = str(caught.value)
    assert message.startswith(fragment)
    assert "\n" not in message


def test_offsets_and_quiet_hours_parsing() -> None:
    assert parse_offsets("2h, 24h,2h") == (timedelta(hours=24), timedelta(hours=2))
    assert parse_offsets("45s") == (timedelta(seconds=45),)
    with pytest.raises(ValueError):
        parse_offsets("0h")
    assert parse_quiet_hours("off") is None
    assert parse_quiet_hours("22:30-06:15") == (time(22, 30), time(6, 15))
    with pytest.raises(ValueError):
        parse_quiet_hours("21:00-21:00")


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [("12h", 43200), ("90m", 5400), ("1h30m", 5400), ("2 days", 172800), ("0", 0), ("off", 0)],
)
def test_durations_in_settings(raw: str, seconds: int) -> None:
    assert parse_duration(raw).total_seconds() == seconds


@pytest.mark.parametrize("raw", ["12", "-5h", "soon", "", "12 parsecs"])
def test_a_duration_needs_a_unit_and_cannot_be_negative(raw: str) -> None:
    with pytest.raises(ValueError, match="is not a duration like"):
        parse_duration(raw)
