"""The typed context every handler receives, and the services it carries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.settings import Settings
from schedules.clock import Clock
from storage.access import NO_ACCESS, Access, Actor
from storage.executor import Database
from storage.models import Person, Role
from storage.people.roles import has_role
from translations import Translator, translator


@dataclass
class Services:
    """Long-lived objects built once by the composition root."""

    settings: Settings
    db: Database
    clock: Clock
    # Background work features start after the bot is initialised and stop before it
    # shuts down (outbox dispatcher, retention job…), in registration order.
    on_start: list[Callable[[PalApplication], Awaitable[None]]] = field(default_factory=list)
    on_stop: list[Callable[[PalApplication], Awaitable[None]]] = field(default_factory=list)
    # Objects those features share (the dispatcher, the pacer…), by name.
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Viewer:
    """Who sent the current update, loaded once per update."""

    telegram_id: int
    person: Person | None
    roles: frozenset[Role]
    language: str
    # Their grants (roles per programme) and, once they have a person record, the Actor
    # the access rule (storage.access) judges.
    access: Access = NO_ACCESS
    actor: Actor | None = None

    @property
    def is_onboarded(self) -> bool:
        """Whether the person finished onboarding."""
        return self.person is not None and self.person.is_onboarded

    @property
    def person_id(self) -> int | None:
        """The internal person id, what logs carry (erased with the person); never the
        Telegram id, which would tie the log to a Telegram identity after erasure."""
        return self.person.id if self.person is not None else None

    def can(self, role: Role) -> bool:
        """Whether the viewer holds `role` (admins hold every role)."""
        return has_role(self.roles, role)


class PalContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """CallbackContext with typed access to our services and the current viewer."""

    viewer_: Viewer | None = None
    # The sender's language on taps whose use case identifies them (no viewer loaded).
    language_: str | None = None

    @property
    def services(self) -> Services:
        """The application's services."""
        services = self.application.bot_data["services"]
        assert isinstance(services, Services)
        return services

    @property
    def db(self) -> Database:
        """The database executor."""
        return self.services.db

    @property
    def settings(self) -> Settings:
        """The settings the application was built with."""
        return self.services.settings

    @property
    def viewer(self) -> Viewer:
        """The sender of this update (set by the identify handler in group -10)."""
        if self.viewer_ is None:
            raise RuntimeError("viewer not loaded: identify handler did not run")
        return self.viewer_

    @property
    def t(self) -> Translator:
        """Texts in the viewer's language."""
        if self.viewer_ is not None:
            language = self.viewer_.language
        else:
            language = self.language_ or self.settings.default_language
        return translator(language, self.settings.timezone)


PalApplication = Application[
    ExtBot[None], PalContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], Any
]
