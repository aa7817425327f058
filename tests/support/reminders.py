"""Factories for reminder stories: an activity, people holding places, a reserve list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage.activities.seats import sign_up
from storage.db import transaction
from storage.models import PendingSend, Registration, SendKind, SendState
from tests.support.signup import make_activity, make_person, make_programme


@dataclass(frozen=True)
class Resident:
    """A person in the story: ids only."""

    person_id: int
    telegram_id: int
    registration_id: int


@dataclass(frozen=True)
class Scene:
    """An activity with people holding its places and, maybe, a reserve list."""

    programme_id: int
    activity_id: int
    starts_at: datetime
    people: dict[str, Resident]


def make_scene(
    engine: Engine,
    *,
    starts_at: datetime,
    places: int,
    people: list[tuple[str, int, str]],
    now: datetime,
    contact: str | None = None,
    quiet_hours: str | None = None,
) -> Scene:
    """Sign `people` ((name, telegram id, language), in order) up for one activity."""
    with transaction(engine) as session:
        programme = make_programme(session)
        programme.quiet_hours = quiet_hours
        activity = make_activity(
            session,
            programme=programme,
            places=places,
            starts_at=starts_at,
            title="Warsztaty rękodzieła",
        )
        activity.contact = contact
        session.add(activity)
        assert programme.id is not None and activity.id is not None
        residents = {}
        for name, telegram_id, language in people:
            person = make_person(
                session, telegram_id=telegram_id, name=name, language=language, programme=programme
            )
            assert person.id is not None
            result = sign_up(session, person_id=person.id, activity_id=activity.id, now=now)
            assert result.registration.id is not None
            residents[name] = Resident(person.id, telegram_id, result.registration.id)
        return Scene(programme.id, activity.id, starts_at, residents)


def sends(
    engine: Engine, kind: SendKind | None = None, state: SendState | None = None
) -> list[PendingSend]:
    """Pending-send rows, oldest due first."""
    with Session(engine) as session:
        query = select(PendingSend)
        if kind is not None:
            query = query.where(PendingSend.kind == kind.value)
        if state is not None:
            query = query.where(PendingSend.state == state.value)
        return list(session.exec(query.order_by(col(PendingSend.due_at), col(PendingSend.id))))


def registration(engine: Engine, registration_id: int) -> Registration:
    """A registration as stored now."""
    with Session(engine) as session:
        found = session.get(Registration, registration_id)
        assert found is not None
        return found


def first_reminder_due(scene: Scene) -> datetime:
    """When the 24-hour reminder of the scene's activity is due."""
    return scene.starts_at - timedelta(hours=24)
