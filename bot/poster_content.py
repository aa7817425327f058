"""What a poster shows, and the posters drawn on first use.

Drawing needs reportlab and its fonts (about 30 MB resident): `palbot run` imports this
module, and bot.posters (the drawing) only when an animator first asks for a poster —
deferred for the weight, not to dodge an import cycle (bot.posters imports only this
module's data class).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from translations import Translator


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


def activity_poster(t: Translator, *, programme: str, item: PosterActivity,
                    contact: str | None) -> bytes:
    """One activity on an A4 page (PDF), drawn by bot.posters."""
    from bot import posters  # heavy: reportlab

    return posters.activity_poster(t, programme=programme, item=item, contact=contact)


def programme_poster(t: Translator, *, programme: str, items: Sequence[PosterActivity],
                     bot: str, contact: str | None) -> bytes:
    """A programme's upcoming activities on A4 pages (PDF), drawn by bot.posters."""
    from bot import posters  # heavy: reportlab

    return posters.programme_poster(t, programme=programme, items=items, bot=bot,
                                    contact=contact)
