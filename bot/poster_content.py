"""What a poster shows: one activity's facts and the links its QR code carries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class PosterActivity:
    """What a poster says about one activity."""

    title: str
    starts_at: datetime
    ends_at: datetime
    venue: str
    places: int
    taken: int
    link: str
    cancelled: bool = False

    @property
    def free(self) -> int:
        """Places still free (never below zero)."""
        return max(self.places - self.taken, 0)


def activity_link(bot_username: str, activity_id: int) -> str:
    """The sign-up deep link: opens the activity in the bot (after first steps if new)."""
    return f"https://t.me/{bot_username}?start=act_{activity_id}"


def bot_link(bot_username: str) -> str:
    """The link that opens the bot itself."""
    return f"https://t.me/{bot_username}"
