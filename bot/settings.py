"""Settings from the environment or a `.env` file, validated once at start-up."""

from __future__ import annotations

import re
from datetime import time, timedelta
from functools import lru_cache
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from storage.programmes.defaults import (
    BUILT_IN_FIRST_COME,
    BUILT_IN_OFFER_TIME,
    BUILT_IN_OFFSETS,
    ProgrammeDefaults,
)
from storage.setting_values import (
    QuietHours,
    parse_duration,
    parse_offsets,
    parse_quiet_hours,
)
from translations import Language


class Settings(BaseSettings):
    """Everything the bot reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix="PALBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    token: SecretStr | None = None
    api_url: str = "https://api.telegram.org"
    database_url: str = "sqlite:///palbot.sqlite3"
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    timezone: str = "Europe/Warsaw"
    default_language: Language = "pl"
    reminder_offsets: Annotated[tuple[timedelta, ...], NoDecode] = BUILT_IN_OFFSETS
    quiet_hours: Annotated[QuietHours, NoDecode] = (time(21, 0), time(8, 0))
    # Promotion from the reserve list (a programme may set its own): how long the first
    # person in line has to take a freed place (`0`: the place is given at once), and how
    # long before the start a freed place goes to whoever on the list taps first.
    offer_time: Annotated[timedelta, NoDecode] = BUILT_IN_OFFER_TIME
    offer_first_come: Annotated[timedelta, NoDecode] = BUILT_IN_FIRST_COME
    surveys_dir: str | None = None
    log_level: str = "INFO"
    # The rates bulk sends and announcements are spread at, the whole bot together. Replies
    # still go first, and Telegram's 30 a second is kept by counting every send until a
    # second after its answer (schedules.pacing), so the defaults use all of it; set them
    # lower only to leave Telegram's limit partly unused.
    global_rate_per_second: float = Field(default=30.0, gt=0, le=30)
    broadcast_rate_per_second: float = Field(default=30.0, gt=0, le=30)
    # Pace every Bot API call (bot/sending.py); off only against a server that never limits.
    rate_limit: bool = True
    # The Bot API transport: aiohttp (default, the faster) or httpx (python-telegram-bot's own).
    http_client: Literal["aiohttp", "httpx"] = "aiohttp"
    db_workers: int = Field(default=0, ge=0, le=64)
    dpo_contact: str = ""
    # How people without Telegram sign up (a phone number, an office), printed on posters
    # where an activity names no contact of its own.
    signup_contact: str = Field(default="", max_length=200)
    controller_name: str = ""
    # Staff invitations by link are valid this many days (PALBOT_INVITATION_VALID_DAYS).
    invitation_valid_days: int = Field(default=7, ge=1, le=90)
    # Spreadsheets of activities sent in the chat may weigh at most this many bytes.
    spreadsheet_max_bytes: int = Field(default=2_000_000, ge=10_000, le=20_000_000)
    # Checked on every webhook request (X-Telegram-Bot-Api-Secret-Token); webhook mode only.
    webhook_secret: SecretStr | None = None

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            try:
                return frozenset(int(p) for p in parts)
            except ValueError:
                raise ValueError("must be comma-separated numeric Telegram ids") from None
        return value

    @field_validator("reminder_offsets", mode="before")
    @classmethod
    def _parse_offsets(cls, value: object) -> object:
        return parse_offsets(value) if isinstance(value, str) else value

    @field_validator("offer_time", "offer_first_come", mode="before")
    @classmethod
    def _parse_duration(cls, value: object) -> object:
        return parse_duration(value) if isinstance(value, str) else value

    @field_validator("quiet_hours", mode="before")
    @classmethod
    def _parse_quiet(cls, value: object) -> object:
        return parse_quiet_hours(value) if isinstance(value, str) else value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{value}'") from None
        return value

    @field_validator("api_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(r"\d+:[\w-]+", value.get_secret_value()):
            raise ValueError("must look like 123456:ABC-DEF (from @BotFather)")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram accepts 1-256 characters A-Z, a-z, 0-9, _ and -.
        secret = value.get_secret_value() if value is not None else None
        if not secret:
            return None  # an empty line in .env means "not set"
        if not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", secret):
            raise ValueError("must be 16-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The local time zone residents live in."""
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is an SQLite file."""
        return self.database_url.startswith("sqlite")

    def programme_defaults(self) -> ProgrammeDefaults:
        """What a programme gets where it sets none: reminder offsets, offer windows."""
        return ProgrammeDefaults.of(self.reminder_offsets, self.offer_time, self.offer_first_come)


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it in one line."""


def describe_validation_error(exc: ValidationError) -> str:
    """Turn pydantic's report into one line naming the first bad setting."""
    first = exc.errors()[0]
    name = "PALBOT_" + str(first["loc"][0]).upper() if first["loc"] else "settings"
    reason = str(first["msg"]).removeprefix("Value error, ")
    return f"{name}: {reason}"


def load_settings(**overrides: object) -> Settings:
    """Load settings, raising SettingsError with one readable line on a bad value."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(describe_validation_error(exc)) from None


@lru_cache(maxsize=1)
def cached_settings() -> Settings:
    """Process-wide settings for code paths without an explicit Settings object."""
    return load_settings()
