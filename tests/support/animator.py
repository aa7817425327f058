"""Factories for the animator area: an animator with a programme and a filled activity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from storage.activities.organising import Actor
from storage.activities.seats import sign_up
from storage.db import transaction
from storage.models import Activity, Person, Programme, Role
from storage.people.roles import grant
from tests.support.signup import make_activity, make_person, make_programme


@dataclass(frozen=True)
class Scene:
    """A programme, its animator and one of the animator's activities with people in it."""

    programme_id: int
    animator_id: int
    activity_id: int
    # Person ids holding a place, then those on the reserve list, in sign-up order.
    placed: list[int]
    reserve: list[int]

    @property
    def actor(self) -> Actor:
        """The animator as an Actor, granted for this programme."""
        return Actor.animator(self.animator_id, self.programme_id)


def make_animator(
    session: Session, programme: Programme, *, telegram_id: int = 900, name: str = "Ewa"
) -> Person:
    """An onboarded person of the programme (grant the role separately for handler tests)."""
    return make_person(session, telegram_id=telegram_id, name=name, programme=programme)


def make_scene(
    engine: Engine,
    now: datetime,
    *,
    places: int = 3,
    people: int = 5,
    starts_in: timedelta = timedelta(days=1),
    names: list[str] | None = None,
    first_telegram_id: int = 5000,
    animator_telegram_id: int = 900,
) -> Scene:
    """An activity organised by an animator, with `people` signed up in order."""
    names = names or ["Krystyna", "Jan", "Olena", "Zofia", "Marek", "Halina", "Piotr"]
    with transaction(engine) as session:
        programme = make_programme(session)
        animator = make_animator(session, programme, telegram_id=animator_telegram_id)
        activity: Activity = make_activity(
            session, programme=programme, starts_at=now + starts_in, places=places
        )
        activity.organiser_id = animator.id
        session.add(activity)
        ids: list[int] = []
        for i in range(people):
            person = make_person(
                session,
                telegram_id=first_telegram_id + i,
                name=names[i % len(names)] if i < len(names) else f"Osoba {i + 1}",
                programme=programme,
            )
            assert person.id is not None
            ids.append(person.id)
        assert programme.id is not None and animator.id is not None and activity.id is not None
        programme_id, animator_id, activity_id = programme.id, animator.id, activity.id
    for person_id in ids:
        with transaction(engine) as session:
            sign_up(session, person_id=person_id, activity_id=activity_id, now=now)
    return Scene(programme_id, animator_id, activity_id, ids[:places], ids[places:])


def seat_animator(
    engine: Engine,
    *,
    telegram_id: int,
    name: str = "Ewa",
    programme_name: str | None = None,
    role: Role = Role.ANIMATOR,
) -> tuple[int, int]:
    """An onboarded animator (with the role granted) in a new programme: (person, programme)."""
    with transaction(engine) as session:
        programme = make_programme(session, name=programme_name)
        person = make_animator(session, programme, telegram_id=telegram_id, name=name)
        grant(
            session,
            role=role,
            telegram_id=telegram_id,
            programme_id=None if role == Role.ADMIN else programme.id,
        )
        assert person.id is not None and programme.id is not None
        return person.id, programme.id


def grant_where_they_live(session: Session, *, role: Role, telegram_id: int) -> None:
    """Grant `role` for the programme the person takes part in (the usual set-up)."""
    person = session.exec(select(Person).where(Person.telegram_id == telegram_id)).one()
    grant(
        session,
        role=role,
        telegram_id=telegram_id,
        programme_id=None if role == Role.ADMIN else person.programme_id,
    )


def seat_resident(
    engine: Engine,
    *,
    telegram_id: int,
    programme_id: int,
    name: str = "Krystyna",
    language: str = "pl",
) -> int:
    """An onboarded resident of a programme; returns the person id."""
    with transaction(engine) as session:
        programme = session.get(Programme, programme_id)
        assert programme is not None
        person = make_person(
            session, telegram_id=telegram_id, name=name, programme=programme, language=language
        )
        assert person.id is not None
        return person.id
