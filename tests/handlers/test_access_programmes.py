"""An animator granted two programmes chooses which one the animator screens are about;
where they live as a resident plays no part, and a forged choice is refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.engine import Engine

from schedules.clock import FrozenClock
from storage.db import transaction
from storage.models import Role
from storage.people.roles import grant
from tests.support.chat import ChatUser
from tests.support.signup import make_activity, make_person, make_programme

HELENA = 7201


def _seed(engine: Engine, clock: FrozenClock) -> tuple[int, int, int]:
    """Programmes Alfa and Beta (granted), Gamma (her home, not granted)."""
    with transaction(engine) as session:
        alfa, beta, gamma = (
            make_programme(session, name=n) for n in ("PAL Alfa", "PAL Beta", "PAL Gamma")
        )
        for programme, title in (
            (alfa, "Zajęcia Alfa"),
            (beta, "Zajęcia Beta"),
            (gamma, "Zajęcia Gamma"),
        ):
            make_activity(
                session, programme=programme, title=title, starts_at=clock.now() + timedelta(days=2)
            )
        make_person(session, telegram_id=HELENA, name="Helena", programme=gamma)
        for programme in (alfa, beta):
            grant(session, role=Role.ANIMATOR, telegram_id=HELENA, programme_id=programme.id)
        assert alfa.id is not None and beta.id is not None and gamma.id is not None
        return alfa.id, beta.id, gamma.id


def _labels(user: ChatUser) -> list[str]:
    return [label for label, _ in user.last.buttons()]


async def test_an_animator_of_two_programmes_chooses_one(
    engine: Engine, clock: FrozenClock, chat_user: Callable[..., ChatUser]
) -> None:
    alfa, beta, gamma = _seed(engine, clock)
    helena = chat_user(HELENA)
    await helena.send("/animator")
    assert helena.last.text == (
        "Pracujesz w kilku programach. Którym programem chcesz się teraz zająć?"
    )
    assert _labels(helena) == ["PAL Alfa", "PAL Beta", "↩️ Menu"]
    # Before a choice, a programme-wide tool asks for one.
    await helena.press_data("anw:new")
    assert "Najpierw wybierz program" in helena.last_answer()

    await helena.press("PAL Beta")
    assert helena.last.text == "Panel animatora. Co chcesz zrobić?\nProgram: PAL Beta."
    assert _labels(helena)[0] == "🔁 Zmień program"
    await helena.press_data("an:list")
    assert (
        [x for x in _labels(helena) if "Zajęcia" in x]
        == [x for x in _labels(helena) if "Zajęcia Beta" in x]
        != []
    )

    await helena.press("◀ Panel animatora")
    await helena.press("🔁 Zmień program")
    await helena.press("PAL Alfa")
    assert helena.last.text.endswith("Program: PAL Alfa.")
    await helena.press_data("an:list")
    assert any("Zajęcia Alfa" in x for x in _labels(helena))
    assert not any("Beta" in x or "Gamma" in x for x in _labels(helena))

    # Her home programme is not hers to run: a forged choice of it is refused.
    await helena.press_data(f"an:pg:{gamma}")
    assert helena.last_answer() == (
        "Ten program nie jest Ci przypisany. Jeśli to pomyłka, zapytaj administratora."
    )
    await helena.send("/animator")
    assert helena.last.text.endswith("Program: PAL Alfa.")
    assert alfa != beta


async def test_an_animator_of_one_programme_is_not_asked(
    engine: Engine, clock: FrozenClock, chat_user: Callable[..., ChatUser]
) -> None:
    with transaction(engine) as session:
        alfa, home = make_programme(session, name="PAL Alfa"), make_programme(session)
        make_person(session, telegram_id=HELENA, name="Helena", programme=home)
        grant(session, role=Role.ANIMATOR, telegram_id=HELENA, programme_id=alfa.id)
    helena = chat_user(HELENA)
    await helena.send("/animator")
    assert helena.last.text == "Panel animatora. Co chcesz zrobić?"
    assert "🔁 Zmień program" not in _labels(helena)
