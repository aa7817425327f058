"""Residents in more than one programme: join, show, leave; who may sign up where; who hears
a programme's announcements; history stays with its programme."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from schedules.clock import FrozenClock
from storage.db import transaction
from storage.messaging.broadcasts import Audience, recipients
from storage.models import AuditEntry, Person, Programme, ProgrammeMembership, Registration
from storage.people.identity import identify
from storage.people.memberships import (
    NotAMember,
    NotJoinable,
    join_programme,
    leave_programme,
    resident_programmes,
    show_programme,
)
from storage.privacy.erasure import erase_person
from tests.support.signup import make_activity, make_person, make_programme
from usecases.activities import SignUpRefusal
from usecases.activities import sign_up as sign_up_as
from usecases.caller import Caller


def _setting(engine: Engine, now: datetime) -> tuple[int, int, int, int]:
    """An edition that has ended, a new one, a second area's programme, and Krystyna."""
    with transaction(engine) as session:
        old = make_programme(session, name="PAL Zatorze 2026", open_until=now - timedelta(days=1))
        new = make_programme(session, name="PAL Zatorze 2027")
        area = make_programme(session, name="PAL Centrum")
        krystyna = make_person(session, telegram_id=7001, programme=old)
        past = make_activity(session, programme=old, starts_at=now - timedelta(days=30))
        assert krystyna.id is not None and past.id is not None
        session.add(Registration(activity_id=past.id, person_id=krystyna.id, status="confirmed"))
        assert old.id is not None and new.id is not None and area.id is not None
        return old.id, new.id, area.id, krystyna.id


def test_joining_a_new_edition_shows_it_and_keeps_the_old_with_its_history(
    engine: Engine, clock: FrozenClock
) -> None:
    old, new, area, krystyna = _setting(engine, clock.now())
    with transaction(engine) as session:
        before = resident_programmes(session, person_id=krystyna, now=clock.now())
        assert before.shown is not None and before.shown.id == old and not before.shown.is_open
        assert {p.id for p in before.joinable} == {new, area}
        join_programme(session, person_id=krystyna, programme_id=new, now=clock.now())
    with transaction(engine) as session:
        after = resident_programmes(session, person_id=krystyna, now=clock.now())
        assert after.shown is not None and after.shown.id == new
        assert [p.id for p in after.others] == [old]
        assert [p.id for p in after.joinable] == [area]
        person = session.get(Person, krystyna)
        assert person is not None and person.programme_id == new
        # The past sign-up stays with the ended edition's activity.
        assert len(session.exec(select(Registration)).all()) == 1
        actions = [e.action for e in session.exec(select(AuditEntry))]
        assert actions == ["membership.joined"]


def test_a_closed_archived_or_forged_programme_cannot_be_joined(
    engine: Engine, clock: FrozenClock
) -> None:
    old, new, _, krystyna = _setting(engine, clock.now())
    with transaction(engine) as session:
        for programme_id in (old, 999_999):
            with pytest.raises(NotJoinable):
                join_programme(
                    session, person_id=krystyna, programme_id=programme_id, now=clock.now()
                )
        with pytest.raises(NotAMember):
            show_programme(session, person_id=krystyna, programme_id=new, now=clock.now())
        with pytest.raises(NotAMember):
            leave_programme(session, person_id=krystyna, programme_id=new, now=clock.now())


def test_a_resident_of_two_areas_signs_up_in_both_and_hears_both(
    engine: Engine, clock: FrozenClock
) -> None:
    _, new, area, krystyna = _setting(engine, clock.now())
    now = clock.now()
    with transaction(engine) as session:
        join_programme(session, person_id=krystyna, programme_id=new, now=now)
        join_programme(session, person_id=krystyna, programme_id=area, now=now)
        resident = identify(session, telegram_id=7001, admin_ids=(), fallback_language="pl")
        assert resident.programme_id == area
        actor = resident.actor
        assert actor is not None and {new, area} <= actor.resident_of
        # Both programmes' announcements reach her.
        for programme_id in (new, area):
            assert krystyna in recipients(
                session, programme_id=programme_id, audience=Audience.PROGRAMME
            )
        # Showing the new edition again keeps the second area.
        show_programme(session, person_id=krystyna, programme_id=new, now=now)
    with transaction(engine) as session:
        resident = identify(session, telegram_id=7001, admin_ids=(), fallback_language="pl")
        assert resident.programme_id == new and area in resident.memberships


def test_leaving_stops_announcements_and_shows_another_programme(
    engine: Engine, clock: FrozenClock
) -> None:
    _, new, area, krystyna = _setting(engine, clock.now())
    now = clock.now()
    with transaction(engine) as session:
        join_programme(session, person_id=krystyna, programme_id=area, now=now)
        join_programme(session, person_id=krystyna, programme_id=new, now=now)
        left, shown = leave_programme(session, person_id=krystyna, programme_id=new, now=now)
        assert left.id == new and shown is not None and shown.id == area
        assert krystyna not in recipients(session, programme_id=new, audience=Audience.PROGRAMME)
        resident = identify(session, telegram_id=7001, admin_ids=(), fallback_language="pl")
        assert resident.actor is not None and new not in resident.actor.resident_of
        # Joining again while it takes sign-ups is allowed.
        join_programme(session, person_id=krystyna, programme_id=new, now=now)
        assert krystyna in recipients(session, programme_id=new, audience=Audience.PROGRAMME)


def test_leaving_the_last_programme_leaves_none_shown(engine: Engine, clock: FrozenClock) -> None:
    old, _, _, krystyna = _setting(engine, clock.now())
    with transaction(engine) as session:
        _, shown = leave_programme(session, person_id=krystyna, programme_id=old, now=clock.now())
        assert shown is None
        person = session.get(Person, krystyna)
        assert person is not None and person.programme_id is None


def test_erasure_removes_the_memberships(engine: Engine, clock: FrozenClock) -> None:
    _, new, _, krystyna = _setting(engine, clock.now())
    with transaction(engine) as session:
        join_programme(session, person_id=krystyna, programme_id=new, now=clock.now())
    with transaction(engine) as session:
        erase_person(session, person_id=krystyna, now=clock.now())
    with Session(engine) as session:
        assert session.exec(select(ProgrammeMembership)).all() == []


def test_a_resident_signs_up_in_joined_programmes_only(engine: Engine, clock: FrozenClock) -> None:
    _, new, area, krystyna = _setting(engine, clock.now())
    with transaction(engine) as session:
        join_programme(session, person_id=krystyna, programme_id=new, now=clock.now())
        ids = []
        for programme_id in (new, area):
            programme = session.get(Programme, programme_id)
            assert programme is not None
            activity = make_activity(
                session, programme=programme, starts_at=clock.now() + timedelta(days=2)
            )
            assert activity.id is not None
            ids.append(activity.id)
    caller = Caller(7001, frozenset(), "pl")
    outcomes = []
    for activity_id in ids:
        with transaction(engine) as session:
            outcomes.append(
                sign_up_as(
                    session,
                    caller=caller,
                    activity_id=activity_id,
                    now=clock.now(),
                    surveys_dir=None,
                )
            )
    assert outcomes[0].created and outcomes[0].refused is None
    assert outcomes[1].refused == SignUpRefusal.OTHER_PROGRAMME
