"""Onboarding rules: display names, steps, programmes, unreachable people."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from schedules.clock import FrozenClock
from storage.db import transaction
from storage.models import Person
from storage.models.people import OnboardingStep
from storage.people.onboarding import (
    InvalidDisplayName,
    NameProblem,
    ProgrammeNotOpen,
    WrongStep,
    accept_notice,
    choose_programme,
    mark_unreachable,
    set_display_name,
    set_language,
    start_person,
    take_start_payload,
    validate_display_name,
)
from tests.support.signup import make_programme


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("  Krystyna  ", "Krystyna"),
        ("Olena Kovalenko", "Olena Kovalenko"),
        ("Anna.Nowak", "Anna.Nowak"),
        ("Pani  Zosia 🌻", "Pani Zosia 🌻"),
        ("مريم", "مريم"),
        ("Ян", "Ян"),
        ("x" * 60, "x" * 60),
    ],
)
def test_good_names_are_trimmed(raw: str, name: str) -> None:
    assert validate_display_name(raw) == name


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", NameProblem.EMPTY),
        ("   \n ", NameProblem.EMPTY),
        ("x" * 61, NameProblem.TOO_LONG),
        ("x" * 10_000, NameProblem.TOO_LONG),
        ("see https://spam.example", NameProblem.LINK),
        ("www.kupuj.pl", NameProblem.LINK),
        ("promo t.me/channel", NameProblem.LINK),
        ("kupuj.pl", NameProblem.LINK),
        ("@olena", NameProblem.MENTION),
        ("Jan\x00Kowalski", NameProblem.CONTROL),
        ("Jan\nKowalski", NameProblem.CONTROL),
        ("abc\u202edef", NameProblem.CONTROL),
        ("🌻🌻🌻", NameProblem.NO_LETTERS),
        ("12345", NameProblem.NO_LETTERS),
    ],
)
def test_bad_names_are_refused_with_reason(raw: str, problem: NameProblem) -> None:
    with pytest.raises(InvalidDisplayName) as caught:
        validate_display_name(raw)
    assert caught.value.problem == problem


def test_onboarding_steps_with_one_programme(engine: Engine, clock: FrozenClock) -> None:
    with transaction(engine) as session:
        programme = make_programme(session)
        person, created = start_person(
            session, telegram_id=77, language="uk", start_payload="act_5"
        )
        assert created and person.id is not None
        again, created_again = start_person(session, telegram_id=77, language="en")
        assert not created_again and again.id == person.id and again.language == "uk"
        pid = person.id
    with transaction(engine) as session:
        assert set_language(session, person_id=pid, language="en").onboarding_step == "notice"
        assert accept_notice(session, person_id=pid).onboarding_step == "name"
        with pytest.raises(WrongStep):
            accept_notice(session, person_id=pid)
        done = set_display_name(session, person_id=pid, raw=" Olena ", now=clock.now())
        assert done.is_onboarded and done.programme_id == programme.id
        assert done.display_name == "Olena"
        assert take_start_payload(session, person_id=pid) == "act_5"
        assert take_start_payload(session, person_id=pid) is None
    with Session(engine) as session:
        stored = session.get(Person, pid)
        assert stored is not None and stored.telegram_id == 77 and stored.language == "en"


def test_bad_name_changes_nothing(engine: Engine, clock: FrozenClock) -> None:
    with transaction(engine) as session:
        person, _ = start_person(session, telegram_id=78, language="pl")
        assert person.id is not None
        set_language(session, person_id=person.id, language="pl")
        accept_notice(session, person_id=person.id)
    with pytest.raises(InvalidDisplayName), transaction(engine) as session:
        set_display_name(session, person_id=person.id, raw="http://x.pl", now=clock.now())
    with Session(engine) as session:
        stored = session.get(Person, person.id)
        assert stored is not None and stored.display_name is None
        assert stored.onboarding_step == OnboardingStep.NAME


def test_programme_step_when_several_open(engine: Engine, clock: FrozenClock) -> None:
    with transaction(engine) as session:
        first = make_programme(session, name="PAL Barwinek")
        make_programme(session, name="PAL Zagórska")
        closed = make_programme(
            session, name="PAL 2021", open_until=clock.now() - timedelta(days=1)
        )
        person, _ = start_person(session, telegram_id=79, language="pl")
        assert person.id is not None and first.id is not None and closed.id is not None
        set_language(session, person_id=person.id, language="pl")
        accept_notice(session, person_id=person.id)
        named = set_display_name(session, person_id=person.id, raw="Jan", now=clock.now())
        assert named.onboarding_step == OnboardingStep.PROGRAMME
        with pytest.raises(ProgrammeNotOpen):
            choose_programme(session, person_id=person.id, programme_id=closed.id, now=clock.now())
        done = choose_programme(
            session, person_id=person.id, programme_id=first.id, now=clock.now()
        )
        assert done.is_onboarded and done.programme_id == first.id


def test_no_open_programme_finishes_without_one(engine: Engine, clock: FrozenClock) -> None:
    with transaction(engine) as session:
        person, _ = start_person(session, telegram_id=80, language="pl")
        assert person.id is not None
        set_language(session, person_id=person.id, language="pl")
        accept_notice(session, person_id=person.id)
        done = set_display_name(session, person_id=person.id, raw="Jan", now=clock.now())
    assert done.is_onboarded and done.programme_id is None


def test_mark_unreachable_and_back(engine: Engine, clock: FrozenClock) -> None:
    with transaction(engine) as session:
        start_person(session, telegram_id=81, language="pl")
    with transaction(engine) as session:
        assert mark_unreachable(session, telegram_id=81, now=clock.now())
        assert not mark_unreachable(session, telegram_id=81, now=clock.now())
        assert not mark_unreachable(session, telegram_id=999, now=clock.now())
    with transaction(engine) as session:
        person, _ = start_person(session, telegram_id=81, language="pl")
        assert person.unreachable_at is None
