"""Posters drawn on first use.

Drawing needs reportlab and its fonts (about 30 MB resident): `palbot run` imports this
module, and bot.posters (the drawing) only when an animator first asks for a poster.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.poster_content import PosterActivity
from translations import Translator


def activity_poster(
    t: Translator, *, programme: str, item: PosterActivity, contact: str | None
) -> bytes:
    """One activity on an A4 page (PDF), drawn by bot.posters."""
    from bot import posters  # heavy: reportlab

    return posters.activity_poster(t, programme=programme, item=item, contact=contact)


def programme_poster(
    t: Translator, *, programme: str, items: Sequence[PosterActivity], bot: str, contact: str | None
) -> bytes:
    """A programme's upcoming activities on A4 pages (PDF), drawn by bot.posters."""
    from bot import posters  # heavy: reportlab

    return posters.programme_poster(t, programme=programme, items=items, bot=bot, contact=contact)
