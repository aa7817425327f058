"""Attendance rules: explicit taps, ownership, self check-in with a code, no-shows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from schedules.clock import FrozenClock
from storage.activities.attendance import (
    MAX_WRONG_CODES,
    AttendanceNotOpen,
    CheckinPaused,
    CodeNotValidNow,
    NoPlaceHere,
    NotOnTheList,
    WrongCode,
    checkin_code,
    checklist,
    no_shows,
    self_check_in,
    set_attendance,
)
from storage.activities.organising import Actor, NotYourActivity
from storage.activities.participants import participant_list
from storage.db import read_only, transaction
from storage.models import Activity, AuditEntry, Registration
from tests.support.animator import make_scene


def _registration(engine: Engine, activity_id: int, person_id: int) -> Registration:
    with read_only(engine) as session:
        found = session.exec(
            select(Registration).where(
                Registration.activity_id == activity_id, Registration.person_id == person_id
            )
        ).one()
        # A detached copy the test can read after the read-only session ends.
        session.expunge(found)
        return found


def test_checklist_lists_places_alphabetically(engine: Engine, clock: FrozenClock) -> None:
    scene = make_scene(engine, clock.now(), places=3, people=5)
    with read_only(engine) as session:
        found = checklist(session, activity_id=scene.activity_id, actor=scene.actor)
    assert [row.display_name for row in found.rows] == ["Jan", "Krystyna", "Olena"]
    assert found.attended == 0


def test_taps_set_explicit_values_and_are_audited(engine: Engine, clock: FrozenClock) -> None:
    scene = make_scene(engine, clock.now(), starts_in=timedelta(minutes=30))
    krystyna = _registration(engine, scene.activity_id, scene.placed[0])
    assert krystyna.id is not None
    for value, changed in ((True, True), (True, False), (False, True)):
        with transaction(engine) as session:
            assert (
                set_attendance(
                    session,
                    activity_id=scene.activity_id,
                    registration_id=krystyna.id,
                    attended=value,
                    actor=scene.actor,
                    now=clock.now(),
                )
                is changed
            )
    assert _registration(engine, scene.activity_id, scene.placed[0]).attended is False
    with read_only(engine) as session:
        entries = session.exec(select(AuditEntry).where(AuditEntry.action == "attendance.set"))
        assert [e.details["attended"] for e in entries] == [True, False]


def test_two_animators_marking_different_people_both_count(
    engine: Engine, clock: FrozenClock
) -> None:
    scene = make_scene(engine, clock.now(), starts_in=timedelta(minutes=10))
    admin = Actor.admin(scene.placed[2])
    regs = [_registration(engine, scene.activity_id, pid) for pid in scene.placed[:2]]
    # Both looked at the same list (nobody present) and each taps a different person.
    with transaction(engine) as session:
        set_attendance(
            session,
            activity_id=scene.activity_id,
            registration_id=regs[0].id or 0,
            attended=True,
            actor=scene.actor,
            now=clock.now(),
        )
    with transaction(engine) as session:
        set_attendance(
            session,
            activity_id=scene.activity_id,
            registration_id=regs[1].id or 0,
            attended=True,
            actor=admin,
            now=clock.now(),
        )
    with read_only(engine) as session:
        found = checklist(session, activity_id=scene.activity_id, actor=scene.actor)
    assert found.attended == 2


def test_attendance_opens_an_hour_before_the_start(engine: Engine, clock: FrozenClock) -> None:
    scene = make_scene(engine, clock.now(), starts_in=timedelta(hours=3))
    reg = _registration(engine, scene.activity_id, scene.placed[0])
    with transaction(engine) as session, pytest.raises(AttendanceNotOpen) as caught:
        set_attendance(
            session,
            activity_id=scene.activity_id,
            registration_id=reg.id or 0,
            attended=True,
            actor=scene.actor,
            now=clock.now(),
        )
    assert caught.value.opens_at == clock.now() + timedelta(hours=2)


def test_forged_taps_change_nothing(engine: Engine, clock: FrozenClock) -> None:
    scene = make_scene(engine, clock.now(), starts_in=timedelta(minutes=5))
    other = make_scene(
        engine,
        clock.now(),
        starts_in=timedelta(minutes=5),
        first_telegram_id=6000,
        animator_telegram_id=901,
    )
    reserve = _registration(engine, scene.activity_id, scene.reserve[0])
    foreign = _registration(engine, other.activity_id, other.placed[0])
    resident = Actor.animator(scene.placed[0], scene.programme_id)
    with transaction(engine) as session:
        with pytest.raises(NotOnTheList):  # a reserve-list person holds no place
            set_attendance(
                session,
                activity_id=scene.activity_id,
                registration_id=reserve.id or 0,
                attended=True,
                actor=scene.actor,
                now=clock.now(),
            )
        with pytest.raises(NotOnTheList):  # a registration of another activity
            set_attendance(
                session,
                activity_id=scene.activity_id,
                registration_id=foreign.id or 0,
                attended=True,
                actor=scene.actor,
                now=clock.now(),
            )
        with pytest.raises(NotYourActivity):  # another animator's activity
            set_attendance(
                session,
                activity_id=other.activity_id,
                registration_id=foreign.id or 0,
                attended=True,
                actor=scene.actor,
                now=clock.now(),
            )
        with pytest.raises(NotYourActivity):  # a resident
            checklist(session, activity_id=scene.activity_id, actor=resident)
    with read_only(engine) as session:
        assert not any(r.attended for r in session.exec(select(Registration)))
        assert (
            session.exec(select(AuditEntry).where(AuditEntry.action == "attendance.set")).all()
            == []
        )


def test_no_shows_count_only_once_the_activity_ended(engine: Engine, clock: FrozenClock) -> None:
    scene = make_scene(engine, clock.now(), starts_in=timedelta(minutes=30))
    reg = _registration(engine, scene.activity_id, scene.placed[1])
    with transaction(engine) as session:
        set_attendance(
            session,
            activity_id=scene.activity_id,
            registration_id=reg.id or 0,
            attended=True,
            actor=scene.actor,
            now=clock.now(),
        )
        assert no_shows(session, activity_id=scene.activity_id, now=clock.now()) == []
    clock.advance(timedelta(hours=3))
    with read_only(engine) as session:
        missing = no_shows(session, activity_id=scene.activity_id, now=clock.now())
        listed = participant_list(
            session, activity_id=scene.activity_id, actor=scene.actor, now=clock.now()
        )
    assert sorted(r.person_id for r in missing) == sorted([scene.placed[0], scene.placed[2]])
    assert (listed.attended, listed.no_shows) == (1, 2)


def test_participant_list_shows_places_then_reserve_positions(
    engine: Engine, clock: FrozenClock
) -> None:
    scene = make_scene(engine, clock.now(), places=2, people=5)
    with read_only(engine) as session:
        listed = participant_list(
            session, activity_id=scene.activity_id, actor=scene.actor, now=clock.now()
        )
    assert [(r.display_name, r.position) for r in listed.rows] == [
        ("Jan", None),
        ("Krystyna", None),
        ("Olena", 1),
        ("Zofia", 2),
        ("Marek", 3),
    ]
    assert listed.no_shows is None and listed.free == 0


# ---------------------------------------------------------------- self check-in


def _code(engine: Engine, scene_actor: Actor, activity_id: int, clock: FrozenClock) -> str:
    with transaction(engine) as session:
        return checkin_code(
            session, activity_id=activity_id, actor=scene_actor, now=clock.now()
        ).code


def test_code_is_stable_and_works_in_its_window(engine: Engine, clock: FrozenClock) -> None:
    scene = make_scene(engine, clock.now(), starts_in=timedelta(hours=1))
    code = _code(engine, scene.actor, scene.activity_id, clock)
    assert code == _code(engine, scene.actor, scene.activity_id, clock)
    assert len(code) == 4 and code.isdigit()
    krystyna = scene.placed[0]
    with transaction(engine) as session, pytest.raises(CodeNotValidNow) as early:
        self_check_in(session, person_id=krystyna, code=code, now=clock.now())
    assert early.value.valid_from == clock.now() + timedelta(minutes=30)
    clock.advance(timedelta(minutes=40))
    with transaction(engine) as session:
        result = self_check_in(session, person_id=krystyna, code=code, now=clock.now())
        assert result.changed
        assert not self_check_in(session, person_id=krystyna, code=code, now=clock.now()).changed
    assert _registration(engine, scene.activity_id, krystyna).attended
    clock.advance(timedelta(hours=3))
    with transaction(engine) as session, pytest.raises(CodeNotValidNow):
        self_check_in(session, person_id=scene.placed[1], code=code, now=clock.now())


def test_reserve_list_people_are_told_they_hold_no_place(
    engine: Engine, clock: FrozenClock
) -> None:
    scene = make_scene(engine, clock.now(), starts_in=timedelta(minutes=10))
    code = _code(engine, scene.actor, scene.activity_id, clock)
    with transaction(engine) as session, pytest.raises(NoPlaceHere):
        self_check_in(session, person_id=scene.reserve[0], code=code, now=clock.now())


def test_wrong_codes_pause_check_in_for_that_person(engine: Engine, clock: FrozenClock) -> None:
    scene = make_scene(engine, clock.now(), starts_in=timedelta(minutes=10))
    code = _code(engine, scene.actor, scene.activity_id, clock)
    wrong = "0000" if code != "0000" else "1111"
    jan = scene.placed[1]
    lefts = []
    for _ in range(MAX_WRONG_CODES):
        with transaction(engine) as session, pytest.raises(WrongCode) as caught:
            self_check_in(session, person_id=jan, code=wrong, now=clock.now())
        lefts.append(caught.value.left)
    assert lefts == [4, 3, 2, 1, 0]
    # Even the right code waits now: guessing must not pay off.
    with transaction(engine) as session, pytest.raises(CheckinPaused) as paused:
        self_check_in(session, person_id=jan, code=code, now=clock.now())
    assert paused.value.until == clock.now() + timedelta(minutes=15)
    # Other people are not affected.
    with transaction(engine) as session:
        assert self_check_in(session, person_id=scene.placed[0], code=code, now=clock.now())
    clock.advance(timedelta(minutes=16))
    with transaction(engine) as session:
        assert self_check_in(session, person_id=jan, code=code, now=clock.now()).changed


def test_deep_link_names_the_activity(engine: Engine, clock: FrozenClock) -> None:
    scene = make_scene(engine, clock.now(), starts_in=timedelta(minutes=10))
    code = _code(engine, scene.actor, scene.activity_id, clock)
    with transaction(engine) as session:
        with pytest.raises(WrongCode):
            self_check_in(
                session,
                person_id=scene.placed[0],
                code=code,
                now=clock.now(),
                activity_id=scene.activity_id + 1,
            )
        result = self_check_in(
            session,
            person_id=scene.placed[0],
            code=code,
            now=clock.now(),
            activity_id=scene.activity_id,
        )
        assert result.activity.id == scene.activity_id


def test_cancelled_activity_has_no_code(engine: Engine, clock: FrozenClock) -> None:
    scene = make_scene(engine, clock.now(), starts_in=timedelta(minutes=10))
    code = _code(engine, scene.actor, scene.activity_id, clock)
    with transaction(engine) as session:
        activity = session.get(Activity, scene.activity_id)
        assert activity is not None
        activity.status = "cancelled"
        session.add(activity)
    with transaction(engine) as session, pytest.raises(WrongCode):
        self_check_in(session, person_id=scene.placed[0], code=code, now=clock.now())
