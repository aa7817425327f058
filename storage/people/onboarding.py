"""Onboarding rules: who a person is to the bot, and the few things we keep about them.

Of the Telegram profile only the id (to reach the person) and the chosen language are
stored; the display name is what the person types for the animators to see.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session, col, select

from storage.models import Person, Programme
from storage.models.people import OnboardingStep
from storage.programmes.open import takes_sign_ups
from storage.text_rule import forbidden_character

DISPLAY_NAME_MAX = 60
SUPPORTED = ("pl", "uk", "en")

# Links in any common form: scheme, www., Telegram links, or a bare domain with a
# familiar ending. A bare "Anna.Nowak" is a name, not a link, so endings are listed.
_LINK = re.compile(
    r"(://|\bwww\.|\bt\.me/|\btelegram\.me/|"
    r"\b[\w-]+\.(pl|com|net|org|ua|eu|info|io|me|ru|de|uk|gov|edu|biz|xyz|app|link|ly|"
    r"to|cc|online|site|shop|top)\b)",
    re.IGNORECASE,
)
_MENTION = re.compile(r"@\w")


class NameProblem(StrEnum):
    """Why a display name was refused."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    LINK = "link"
    MENTION = "mention"
    CONTROL = "control"
    NO_LETTERS = "no_letters"


class InvalidDisplayName(ValueError):
    """The typed display name cannot be used; `problem` says why."""

    def __init__(self, problem: NameProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


class PersonNotFound(LookupError):
    """No person with that id or Telegram id."""


class ProgrammeNotOpen(LookupError):
    """The programme does not exist or no longer takes sign-ups."""


class ProgrammeAlreadyChosen(RuntimeError):
    """The person already belongs to a programme; only the programme team may move them."""

    def __init__(self, programme_name: str) -> None:
        super().__init__("programme already chosen")
        self.programme_name = programme_name


class WrongStep(RuntimeError):
    """The person is not at the onboarding step this action belongs to (stale button)."""

    def __init__(self, current: str) -> None:
        super().__init__(current)
        self.current = current


def validate_display_name(raw: str) -> str:
    """Trim and check a display name; raise InvalidDisplayName with the reason."""
    # The text rule (storage.text_rule); line breaks are trimmed below or refused inside.
    if forbidden_character(raw, multiline=True) is not None:
        raise InvalidDisplayName(NameProblem.CONTROL)
    name = raw.strip()
    if not name:
        raise InvalidDisplayName(NameProblem.EMPTY)
    if any(char in "\n\r\t" for char in name):
        raise InvalidDisplayName(NameProblem.CONTROL)
    name = re.sub(r" {2,}", " ", name)
    if len(name) > DISPLAY_NAME_MAX:
        raise InvalidDisplayName(NameProblem.TOO_LONG)
    if _LINK.search(name):
        raise InvalidDisplayName(NameProblem.LINK)
    if _MENTION.search(name):
        raise InvalidDisplayName(NameProblem.MENTION)
    if not any(unicodedata.category(char).startswith("L") for char in name):
        raise InvalidDisplayName(NameProblem.NO_LETTERS)
    return name


def person_by_telegram_id(session: Session, telegram_id: int) -> Person | None:
    """The person behind a Telegram id, if they ever started the bot."""
    return session.exec(select(Person).where(Person.telegram_id == telegram_id)).first()


def _get(session: Session, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise PersonNotFound(person_id)
    return person


def start_person(
    session: Session, *, telegram_id: int, language: str, start_payload: str | None = None
) -> tuple[Person, bool]:
    """Find or create the person for /start; returns (person, created).

    A deep-link payload is remembered so the activity opens once onboarding is done.
    """
    person = person_by_telegram_id(session, telegram_id)
    created = person is None
    if person is None:
        person = Person(
            telegram_id=telegram_id,
            language=language if language in SUPPORTED else "pl",
            onboarding_step=OnboardingStep.LANGUAGE,
        )
    if start_payload is not None and not person.is_onboarded:
        person.pending_start_payload = start_payload[:64]
    if person.unreachable_at is not None:
        # Writing to the bot again means they unblocked it.
        person.unreachable_at = None
    session.add(person)
    session.flush()
    return person, created


def set_language(session: Session, *, person_id: int, language: str) -> Person:
    """Choose the language; at the first step this also moves on to the notice."""
    if language not in SUPPORTED:
        raise ValueError(f"unsupported language {language!r}")
    person = _get(session, person_id)
    person.language = language
    if person.onboarding_step == OnboardingStep.LANGUAGE:
        person.onboarding_step = OnboardingStep.NOTICE
    session.add(person)
    return person


def accept_notice(session: Session, *, person_id: int) -> Person:
    """The person read the information notice; next they choose a display name."""
    person = _get(session, person_id)
    if person.onboarding_step != OnboardingStep.NOTICE:
        raise WrongStep(person.onboarding_step)
    person.onboarding_step = OnboardingStep.NAME
    session.add(person)
    return person


def open_programmes(session: Session, *, now: datetime) -> list[Programme]:
    """Programmes still taking sign-ups (not archived), by name."""
    return list(
        session.exec(select(Programme).where(takes_sign_ups(now)).order_by(col(Programme.name)))
    )


def set_display_name(session: Session, *, person_id: int, raw: str, now: datetime) -> Person:
    """Keep the display name; finish onboarding unless a programme must be chosen.

    With exactly one open programme the person joins it without being asked; with none
    they finish without one and are asked later, when a programme opens.
    """
    name = validate_display_name(raw)
    person = _get(session, person_id)
    if person.onboarding_step not in (OnboardingStep.NAME, OnboardingStep.DONE):
        raise WrongStep(person.onboarding_step)
    person.display_name = name
    if person.onboarding_step == OnboardingStep.NAME:
        programmes = open_programmes(session, now=now)
        if len(programmes) > 1:
            person.onboarding_step = OnboardingStep.PROGRAMME
        else:
            person.programme_id = programmes[0].id if programmes else None
            person.onboarding_step = OnboardingStep.DONE
    session.add(person)
    return person


def choose_programme(
    session: Session, *, person_id: int, programme_id: int, now: datetime
) -> Person:
    """Join an open programme; at the programme step this finishes onboarding.

    After onboarding only someone without a programme (none was open then) may choose
    one; a replayed or forged choice from anyone else changes nothing.
    """
    person = _get(session, person_id)
    if person.onboarding_step not in (OnboardingStep.PROGRAMME, OnboardingStep.DONE):
        raise WrongStep(person.onboarding_step)
    if person.onboarding_step == OnboardingStep.DONE and person.programme_id is not None:
        current = session.get(Programme, person.programme_id)
        raise ProgrammeAlreadyChosen(current.name if current is not None else "")
    if programme_id not in {p.id for p in open_programmes(session, now=now)}:
        raise ProgrammeNotOpen(programme_id)
    person.programme_id = programme_id
    person.onboarding_step = OnboardingStep.DONE
    session.add(person)
    return person


def finish_without_programme(session: Session, *, person_id: int) -> Person:
    """Finish onboarding with no programme (the one offered closed in the meantime).

    The person chooses a programme later, when one opens (from the activity list).
    """
    person = _get(session, person_id)
    if person.onboarding_step == OnboardingStep.PROGRAMME:
        person.onboarding_step = OnboardingStep.DONE
        session.add(person)
    return person


def take_start_payload(session: Session, *, person_id: int) -> str | None:
    """The remembered deep link, cleared so it opens only once."""
    person = _get(session, person_id)
    payload = person.pending_start_payload
    if payload is not None:
        person.pending_start_payload = None
        session.add(person)
    return payload


def mark_unreachable(session: Session, *, telegram_id: int, now: datetime) -> bool:
    """Note that the person blocked the bot; returns False if unknown or already noted."""
    person = person_by_telegram_id(session, telegram_id)
    if person is None or person.unreachable_at is not None:
        return False
    person.unreachable_at = now
    session.add(person)
    return True
