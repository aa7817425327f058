"""Factories for the sign-up area: programmes, activities and onboarded people."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count

from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.db import transaction
from storage.models import Activity, Person, Programme
from storage.models.people import OnboardingStep
from tests.support.chat import ChatUser

_names = count(1)


def make_programme(
    session: Session, *, name: str | None = None, open_until: datetime | None = None
) -> Programme:
    """A programme taking sign-ups (until `open_until` if given)."""
    programme = Programme(name=name or f"PAL Osiedle {next(_names)}", signup_open_until=open_until)
    session.add(programme)
    session.flush()
    return programme


def make_activity(
    session: Session,
    *,
    programme: Programme,
    starts_at: datetime,
    places: int = 10,
    title: str = "Warsztaty rękodzieła",
    category: str = "warsztaty",
    venue: str = "Klub Sąsiedzki, ul. Słoneczna 5",
    hours: float = 2,
    deadline: datetime | None = None,
    description: str = "Robimy kartki świąteczne. Materiały na miejscu.",
) -> Activity:
    """A published activity."""
    assert programme.id is not None
    activity = Activity(
        programme_id=programme.id,
        title=title,
        category=category,
        venue=venue,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
        places=places,
        registration_deadline=deadline,
        description=description,
    )
    session.add(activity)
    session.flush()
    return activity


def make_person(
    session: Session,
    *,
    telegram_id: int | None = None,
    name: str = "Krystyna",
    language: str = "pl",
    programme: Programme | None = None,
) -> Person:
    """An onboarded resident."""
    person = Person(
        telegram_id=telegram_id,
        display_name=name,
        language=language,
        onboarding_step=OnboardingStep.DONE,
        programme_id=programme.id if programme else None,
    )
    session.add(person)
    session.flush()
    return person


def make_people(
    engine: Engine, n: int, *, programme_id: int | None = None, first_telegram_id: int = 10_000
) -> list[int]:
    """`n` onboarded residents; returns their person ids in creation order."""
    ids = []
    with transaction(engine) as session:
        for i in range(n):
            person = Person(
                telegram_id=first_telegram_id + i,
                display_name=f"Osoba {i + 1}",
                onboarding_step=OnboardingStep.DONE,
                programme_id=programme_id,
            )
            session.add(person)
            session.flush()
            assert person.id is not None
            ids.append(person.id)
    return ids


def seed_programme(
    engine: Engine,
    now: datetime,
    *,
    name: str = "PAL Osiedle Barwinek",
    activities: int = 1,
    places: int = 10,
    first_in: timedelta = timedelta(days=2),
) -> tuple[int, list[int]]:
    """A programme with `activities` activities a day apart; returns (programme, activity ids)."""
    with transaction(engine) as session:
        programme = make_programme(session, name=name)
        ids = []
        for i in range(activities):
            activity = make_activity(
                session,
                programme=programme,
                places=places,
                title=f"Warsztaty {i + 1}" if activities > 1 else "Warsztaty rękodzieła",
                starts_at=now + first_in + timedelta(days=i),
            )
            assert activity.id is not None
            ids.append(activity.id)
        assert programme.id is not None
        return programme.id, ids


async def onboard(user: ChatUser, name: str = "Krystyna", language: str = "Polski") -> None:
    """Walk a chat user through /start: language, notice, name (one open programme)."""
    await user.send("/start")
    await user.press(language)
    await user.press("➡️")
    await user.send(name)
