"""Animators changing and calling off activities: checks, places, promotion, notices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from schedules.clock import FrozenClock
from storage.activities.change_notices import ChangeProblem, InvalidChange
from storage.activities.draft_questions import DraftInvalid, Problem, Step
from storage.activities.editing import (
    EditResult,
    PlacesBelowTaken,
    call_off,
    draft_of,
    edit_activity,
)
from storage.activities.organising import Actor, NotYourActivity
from storage.db import read_only, transaction
from storage.models import (
    Activity,
    AuditEntry,
    PendingSend,
    Programme,
    Registration,
    RegistrationStatus,
    SendKind,
)
from tests.support.animator import Scene, make_scene

WARSAW = ZoneInfo("Europe/Warsaw")


def _edit(
    engine: Engine,
    scene: Scene,
    step: Step,
    text: str,
    clock: FrozenClock,
    actor: Actor | None = None,
) -> EditResult:
    with transaction(engine) as session:
        return edit_activity(
            session,
            activity_id=scene.activity_id,
            actor=actor or scene.actor,
            step=step,
            text=text,
            now=clock.now(),
            zone=WARSAW,
        )


def _sends(engine: Engine, kind: SendKind) -> list[PendingSend]:
    with read_only(engine) as session:
        return list(session.exec(select(PendingSend).where(PendingSend.kind == kind.value)))


def test_draft_of_an_activity_round_trips(engine: Engine, clock: FrozenClock) -> None:
    scene = make_scene(engine, clock.now())
    with read_only(engine) as session:
        activity = session.get(Activity, scene.activity_id)
        assert activity is not None
        draft = draft_of(activity, WARSAW)
    assert draft["date"] == "2026-11-24" and draft["start"] == "10:00"
    assert draft["minutes"] == 120 and draft["deadline"] is None


def test_title_change_tells_nobody_but_is_audited(engine: Engine, clock: FrozenClock) -> None:
    scene = make_scene(engine, clock.now())
    result = _edit(engine, scene, Step.TITLE, "Kartki świąteczne", clock)
    assert result.fields == ["title"] and result.notices == 0
    assert _sends(engine, SendKind.CHANGE) == []
    with read_only(engine) as session:
        entry = session.exec(
            select(AuditEntry).where(AuditEntry.action == "activity.changed")
        ).one()
    assert entry.details == {"fields": ["title"]} and entry.actor_id == scene.animator_id


def test_moving_the_date_notifies_places_and_reserve(engine: Engine, clock: FrozenClock) -> None:
    scene = make_scene(engine, clock.now(), places=3, people=5)
    result = _edit(engine, scene, Step.DATE, "28.11", clock)
    assert result.fields == ["starts_at", "ends_at"]
    assert result.activity.starts_at == datetime(2026, 11, 28, 9, 0, tzinfo=UTC)

    notices = _sends(engine, SendKind.CHANGE)
    assert sorted(s.person_id or 0 for s in notices) == sorted(scene.placed + scene.reserve)
    assert {s.payload["old_starts_at"] for s in notices} == {"2026-11-24T09:00:00+00:00"}


def test_venue_change_notifies(engine: Engine, clock: FrozenClock) -> None:
    scene = make_scene(engine, clock.now(), places=3, people=2)
    result = _edit(engine, scene, Step.VENUE, "Biblioteka, ul. Polna 2", clock)
    assert result.notices == 2


def test_places_cannot_go_below_those_taken(engine: Engine, clock: FrozenClock) -> None:
    scene = make_scene(engine, clock.now(), places=3, people=5)
    with pytest.raises(PlacesBelowTaken) as caught:
        _edit(engine, scene, Step.PLACES, "2", clock)
    assert (caught.value.taken, caught.value.requested) == (3, 2)
    with read_only(engine) as session:
        activity = session.get(Activity, scene.activity_id)
        assert activity is not None and activity.places == 3


def test_raising_places_offers_the_new_place_to_the_first_in_line(
    engine: Engine, clock: FrozenClock
) -> None:
    scene = make_scene(engine, clock.now(), places=3, people=6)
    result = _edit(engine, scene, Step.PLACES, "4", clock)
    assert result.promoted == 1
    with read_only(engine) as session:
        confirmed = session.exec(
            select(Registration.person_id).where(
                Registration.activity_id == scene.activity_id,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
        ).all()
    # The new place is offered (storage.activities.offers), held for the first in line until taken.
    assert sorted(confirmed) == sorted(scene.placed)
    assert [s.person_id for s in _sends(engine, SendKind.PLACE_OFFER)] == [scene.reserve[0]]


def test_raising_places_gives_them_at_once_where_the_programme_asks(
    engine: Engine, clock: FrozenClock
) -> None:
    scene = make_scene(engine, clock.now(), places=3, people=6)
    with transaction(engine) as session:
        activity = session.get(Activity, scene.activity_id)
        assert activity is not None
        programme = session.get(Programme, activity.programme_id)
        assert programme is not None
        programme.offer_time = "0"
        session.add(programme)
    result = _edit(engine, scene, Step.PLACES, "4", clock)
    assert result.promoted == 1
    with read_only(engine) as session:
        confirmed = session.exec(
            select(Registration.person_id).where(
                Registration.activity_id == scene.activity_id,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
        ).all()
    assert sorted(confirmed) == sorted([*scene.placed, scene.reserve[0]])
    assert [s.person_id for s in _sends(engine, SendKind.PROMOTION)] == [scene.reserve[0]]


def test_wizard_checks_apply_to_changes(engine: Engine, clock: FrozenClock) -> None:
    scene = make_scene(engine, clock.now())
    with pytest.raises(DraftInvalid) as past:
        _edit(engine, scene, Step.DATE, "1.11.2026", clock)
    assert past.value.problem == Problem.DATE_PAST
    with pytest.raises(DraftInvalid) as end:
        _edit(engine, scene, Step.END, "9:00", clock)
    assert end.value.problem == Problem.END_NOT_AFTER_START
    with pytest.raises(InvalidChange) as same:
        _edit(engine, scene, Step.START, "10:00", clock)
    assert same.value.problem == ChangeProblem.NOTHING


def test_a_passed_deadline_does_not_block_moving_the_date(
    engine: Engine, clock: FrozenClock
) -> None:
    scene = make_scene(engine, clock.now())
    with transaction(engine) as session:
        activity = session.get(Activity, scene.activity_id)
        assert activity is not None
        activity.registration_deadline = clock.now() - timedelta(hours=1)
        session.add(activity)
    result = _edit(engine, scene, Step.DATE, "30.11", clock)
    assert result.activity.registration_deadline == clock.now() - timedelta(hours=1)


def test_others_activities_and_started_ones_are_refused(engine: Engine, clock: FrozenClock) -> None:
    scene = make_scene(engine, clock.now(), starts_in=timedelta(hours=2))
    stranger = Actor.animator(scene.placed[0], scene.programme_id)
    with pytest.raises(NotYourActivity):
        _edit(engine, scene, Step.TITLE, "Moje", clock, actor=stranger)
    admin = Actor.admin(scene.placed[0])
    _edit(engine, scene, Step.TITLE, "Admin zmienia", clock, actor=admin)
    clock.advance(timedelta(hours=2))
    with pytest.raises(InvalidChange) as started:
        _edit(engine, scene, Step.TITLE, "Za późno", clock)
    assert started.value.problem == ChangeProblem.STARTED


def test_calling_off_tells_everyone_once(engine: Engine, clock: FrozenClock) -> None:
    scene = make_scene(engine, clock.now(), places=2, people=3)
    with transaction(engine) as session:
        assert (
            call_off(session, activity_id=scene.activity_id, actor=scene.actor, now=clock.now())
            == 3
        )
    with transaction(engine) as session, pytest.raises(InvalidChange) as again:
        call_off(session, activity_id=scene.activity_id, actor=scene.actor, now=clock.now())
    assert again.value.problem == ChangeProblem.CANCELLED
    with read_only(engine) as session:
        activity = session.get(Activity, scene.activity_id)
        assert activity is not None and activity.status == "cancelled"
        actions = [
            e.action
            for e in session.exec(select(AuditEntry).where(AuditEntry.subject_type == "activity"))
        ]
    assert actions == ["activity.cancelled"]
    assert all(s.payload["cancelled"] for s in _sends(engine, SendKind.CHANGE))
