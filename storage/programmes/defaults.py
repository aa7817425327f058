"""What a programme gets where it sets nothing of its own: the deployment's defaults.

The composition root (bot/app.py, and the command line the same way) builds them from
the settings and binds them to the engine it opens (`bind_defaults`); the rules read
them from the transaction's session (`defaults_of`). So no module holds them, reading
bot/app.py shows where they come from, and two engines (a test's, say) may differ. An
engine without them gives the built-in values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

BUILT_IN_OFFSETS: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=2))
BUILT_IN_OFFER_TIME = timedelta(hours=12)
BUILT_IN_FIRST_COME = timedelta(hours=2)
# The engine's execution option that carries them (SQLAlchemy passes it to every
# connection, where a session reads it without a statement).
OPTION = "palbot_programme_defaults"


@dataclass(frozen=True)
class OfferWindows:
    """How long one person has to take a place; when the last-minute round starts."""

    offer_time: timedelta = BUILT_IN_OFFER_TIME
    first_come: timedelta = BUILT_IN_FIRST_COME

    def __post_init__(self) -> None:
        if self.offer_time < timedelta(0) or self.first_come < timedelta(0):
            raise ValueError("offer windows cannot be negative")

    @property
    def immediate(self) -> bool:
        """Whether freed places are given at once without asking (offer_time 0)."""
        return self.offer_time <= timedelta(0)


@dataclass(frozen=True)
class ProgrammeDefaults:
    """Reminder offsets (largest first) and offer windows where a programme sets none."""

    reminder_offsets: tuple[timedelta, ...] = BUILT_IN_OFFSETS
    offer_windows: OfferWindows = field(default_factory=OfferWindows)

    @classmethod
    def of(
        cls, reminder_offsets: Sequence[timedelta], offer_time: timedelta, first_come: timedelta
    ) -> ProgrammeDefaults:
        """Defaults from the settings' values: offsets cleaned and ordered, windows checked."""
        cleaned = tuple(sorted({o for o in reminder_offsets if o > timedelta(0)}, reverse=True))
        if not cleaned:
            raise ValueError("at least one positive reminder offset is needed")
        return cls(cleaned, OfferWindows(offer_time, first_come))


BUILT_IN = ProgrammeDefaults()


def bind_defaults(engine: Engine, defaults: ProgrammeDefaults) -> Engine:
    """The same database, whose sessions apply `defaults` where a programme sets none."""
    return engine.execution_options(**{OPTION: defaults})


def defaults_of(session: Session) -> ProgrammeDefaults:
    """The defaults bound to the session's engine, else the built-in ones."""
    found = session.connection().get_execution_options().get(OPTION)
    return found if isinstance(found, ProgrammeDefaults) else BUILT_IN
