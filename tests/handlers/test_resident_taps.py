"""Residents' taps as single use cases: own programme only, no programme switching by a
replayed button, and a failure anywhere in a tap rolls the whole tap back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

import usecases.surveys
from schedules.clock import FrozenClock
from storage.db import read_only, transaction
from storage.models import PendingSend, Person, Registration
from tests.support.chat import ChatUser
from tests.support.signup import make_activity, make_person, make_programme


def _two_programmes(engine: Engine, clock: FrozenClock, telegram_id: int) -> tuple[int, int, int]:
    """(person in programme A, A's activity, B's activity)."""
    with transaction(engine) as session:
        own = make_programme(session, name="PAL Osiedle Barwinek")
        other = make_programme(session, name="PAL Stare Miasto")
        mine = make_activity(session, programme=own, starts_at=clock.now() + timedelta(days=2))
        theirs = make_activity(
            session,
            programme=other,
            title="Spacer z kijkami",
            starts_at=clock.now() + timedelta(days=3),
        )
        person = make_person(session, telegram_id=telegram_id, programme=own)
        assert person.id and mine.id and theirs.id
        return person.id, mine.id, theirs.id


def _registrations(engine: Engine) -> list[Registration]:
    with read_only(engine) as session:
        return list(session.exec(select(Registration)))


async def test_a_forged_sign_up_for_another_programme_is_refused_and_changes_nothing(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    _, _, theirs = _two_programmes(engine, clock, 8101)
    ola = chat_user(8101)
    await ola.press_data(f"su:{theirs}")
    assert "innego programu" in ola.last_answer()
    assert _registrations(engine) == []


async def test_a_deep_link_to_another_programme_shows_it_with_the_reason(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    _, _, theirs = _two_programmes(engine, clock, 8102)
    ola = chat_user(8102)
    await ola.send(f"/start act_{theirs}")
    assert "📌 Spacer z kijkami" in ola.last.text
    assert "innego programu" in ola.last.text
    assert not any(data.startswith("su:") for _, data in ola.last.buttons())


async def test_own_programme_sign_up_still_works(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    person, mine, _ = _two_programmes(engine, clock, 8103)
    ola = chat_user(8103)
    await ola.send(f"/start act_{mine}")
    await ola.press("Zapisz się")
    assert [(r.person_id, r.activity_id) for r in _registrations(engine)] == [(person, mine)]


async def test_a_replayed_programme_choice_after_onboarding_changes_nothing(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    person_id, _, _ = _two_programmes(engine, clock, 8104)
    with read_only(engine) as session:
        person = session.get(Person, person_id)
        assert person is not None
        own, other = person.programme_id, (person.programme_id or 0) + 1
    ola = chat_user(8104)
    await ola.press_data(f"prog:{other}")
    assert "Bierzesz już udział w programie PAL Osiedle Barwinek" in ola.last_answer()
    with read_only(engine) as session:
        again = session.get(Person, person_id)
        assert again is not None and again.programme_id == own


async def test_a_failure_while_offering_the_survey_rolls_back_the_whole_tap(
    chat_user: Callable[..., ChatUser],
    engine: Engine,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, mine, _ = _two_programmes(engine, clock, 8105)

    def broken(*_args: Any, **_kwargs: Any) -> int:
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(usecases.surveys, "add_sends", broken)
    ola = chat_user(8105)
    await ola.send(f"/start act_{mine}")
    details = ola.last
    await ola.press("Zapisz się")
    assert "Coś poszło nie tak" in ola.last_answer()
    # Neither the place nor its reminders were kept: the person can simply try again.
    assert _registrations(engine) == []
    with read_only(engine) as session:
        assert list(session.exec(select(PendingSend))) == []
    monkeypatch.undo()
    await ola.press("Zapisz się", message=details)
    assert len(_registrations(engine)) == 1
