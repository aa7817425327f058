"""What residents' taps cost the database: statements, transactions and thread hops.

Counts, not times, so they are deterministic: a sign-up tap runs in one transaction of
at most 8 statements (the sender's identification included), an activity list in at
most 4, a survey answer in at most 6, on SQLite and on PostgreSQL. Each tap makes one
thread hop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.app import build_application
from bot.context import PalApplication
from bot.settings import load_settings
from schedules.clock import FrozenClock
from storage.db import make_engine, read_only
from storage.migrate import upgrade_to_latest
from storage.models import (
    OfferState,
    PendingSend,
    PlaceOffer,
    Registration,
    RegistrationStatus,
    SendKind,
    SurveyAnswer,
)
from tests.conftest import TEST_TOKEN
from tests.support.chat import ChatUser
from tests.support.recording import RecordingRequest
from tests.support.signup import onboard, seed_programme
from tests.support.taps import TapCost, measure

SIGN_UP_STATEMENTS = 8
LIST_STATEMENTS = 4
DETAILS_STATEMENTS = 4
SURVEY_ANSWER_STATEMENTS = 6


@pytest.fixture(params=["sqlite", "postgresql"])
def tap_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same taps on both backends (PostgreSQL skips visibly when not configured)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'taps.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def tap_engine(tap_url: str) -> Iterator[Engine]:
    engine = make_engine(tap_url)
    upgrade_to_latest(engine)
    yield engine
    engine.dispose()


@pytest.fixture
async def tap_app(
    tap_url: str, tap_engine: Engine, rec: RecordingRequest, clock: FrozenClock
) -> AsyncIterator[PalApplication]:
    settings = load_settings(_env_file=None, token=TEST_TOKEN, database_url=tap_url)
    app = build_application(
        settings, request=rec, get_updates_request=rec, with_updater=False, clock=clock
    )
    await app.initialize()
    yield app
    await app.shutdown()


def _explain(cost: TapCost) -> str:
    return "\n".join(cost.sql)


async def test_sign_up_list_and_details_stay_within_their_budget(
    tap_app: PalApplication, tap_engine: Engine, rec: RecordingRequest, clock: FrozenClock
) -> None:
    _, (workshop, *_rest) = seed_programme(tap_engine, clock.now(), activities=3, places=1)
    anna = ChatUser(tap_app, rec, 9101)
    await onboard(anna, "Anna")

    with measure(tap_app) as listing:
        await anna.send("/activities")
    assert "Warsztaty 1" in anna.last.buttons()[0][0]
    assert listing.transactions == 1 and listing.hops == 1, _explain(listing)
    assert listing.statements <= LIST_STATEMENTS, _explain(listing)

    with measure(tap_app) as menu_button:
        await anna.send("📅 Zajęcia i spotkania")
    assert "Warsztaty 1" in anna.last.buttons()[0][0]
    assert menu_button.transactions == 1 and menu_button.hops == 1, _explain(menu_button)
    assert menu_button.statements <= LIST_STATEMENTS, _explain(menu_button)

    with measure(tap_app) as details:
        await anna.press("Warsztaty 1")
    assert details.transactions == 1 and details.hops == 1, _explain(details)
    assert details.statements <= DETAILS_STATEMENTS, _explain(details)

    # The first sign-up in the programme: a place, its reminders, the survey offer and
    # its follow-up, all in one transaction.
    with measure(tap_app) as first:
        await anna.press("Zapisz się")
    assert any("ankiet" in m.text.lower() for m in anna.messages[-2:]), anna.last.text
    assert first.transactions == 1 and first.hops == 1, _explain(first)
    assert first.statements <= SIGN_UP_STATEMENTS, _explain(first)
    with read_only(tap_engine) as session:
        kinds = [s.kind for s in session.exec(select(PendingSend))]
    assert kinds.count(SendKind.REMINDER) == 2 and kinds.count(SendKind.SURVEY_FOLLOWUP) == 1

    # A later sign-up, this time onto the reserve list of a full activity.
    ben = ChatUser(tap_app, rec, 9102)
    await onboard(ben, "Ben")
    await ben.send("/activities")
    await ben.press("Warsztaty 1")
    with measure(tap_app) as reserve:
        await ben.press("listy rezerwowej")
    assert reserve.transactions == 1 and reserve.hops == 1, _explain(reserve)
    assert reserve.statements <= SIGN_UP_STATEMENTS, _explain(reserve)

    # Pressing again changes nothing and costs less.
    with measure(tap_app) as again:
        await anna.press_data(f"su:{workshop}")
    assert again.transactions == 1 and again.statements <= SIGN_UP_STATEMENTS


async def test_release_my_and_reminder_answers_make_one_hop_each(
    tap_app: PalApplication, tap_engine: Engine, rec: RecordingRequest, clock: FrozenClock
) -> None:
    _, (first, second) = seed_programme(tap_engine, clock.now(), activities=2, places=1)
    anna = ChatUser(tap_app, rec, 9201)
    ben = ChatUser(tap_app, rec, 9202)
    for user, name in ((anna, "Anna"), (ben, "Ben")):
        await onboard(user, name)
        await user.press_data(f"su:{first}")
        await user.press_data(f"su:{second}")
    with measure(tap_app) as mine:
        await anna.send("/my")
    assert "Twoje zapisy" in anna.last.text
    assert mine.transactions == 1 and mine.hops == 1 and mine.statements <= 3, _explain(mine)

    with measure(tap_app) as asked:
        await anna.press_data(f"cx:{first}")
    assert asked.transactions == 1 and asked.hops == 1, _explain(asked)
    with measure(tap_app) as released:
        await anna.press_data(f"cxy:{first}")
    assert released.transactions == 1 and released.hops == 1, _explain(released)
    with read_only(tap_engine) as session:
        live = session.exec(
            select(Registration.status)
            .where(Registration.activity_id == first)
            .where(col(Registration.status) != RegistrationStatus.CANCELLED)
        ).all()
        offered = session.exec(
            select(PlaceOffer.state).where(PlaceOffer.activity_id == first)
        ).all()
    # Ben, first in line, is offered the freed place (storage.activities.offers);
    # it is held for him.
    assert live == [RegistrationStatus.RESERVE] and offered == [OfferState.OFFERED]

    with read_only(tap_engine) as session:
        ben_place = session.exec(
            select(Registration.id).where(
                Registration.activity_id == second,
                Registration.status == RegistrationStatus.RESERVE,
            )
        ).one()
        anna_place = session.exec(
            select(Registration.id).where(
                Registration.activity_id == second,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
        ).one()
    with measure(tap_app) as coming:
        await anna.press_data(f"rem:y:{anna_place}")
    assert coming.transactions == 1 and coming.hops == 1, _explain(coming)
    with measure(tap_app) as refused:
        await anna.press_data(f"rem:n:{ben_place}")  # someone else's place: refused
    assert refused.transactions == 1 and refused.hops == 1, _explain(refused)
    with measure(tap_app) as gave_up:
        await anna.press_data(f"rem:n:{anna_place}")
    assert gave_up.transactions == 1 and gave_up.hops == 1, _explain(gave_up)


async def test_each_survey_answer_is_one_transaction_of_at_most_six_statements(
    tap_app: PalApplication, tap_engine: Engine, rec: RecordingRequest, clock: FrozenClock
) -> None:
    _, (workshop,) = seed_programme(tap_engine, clock.now())
    olena = ChatUser(tap_app, rec, 9301)
    await onboard(olena, "Olena")
    await olena.send(f"/start act_{workshop}")
    await olena.press("Zapisz się")
    await olena.press("Dalej")
    for question in range(3):
        with measure(tap_app) as answered:
            await olena.press("Raczej się zgadzam")
        assert f"{question + 2}/" in olena.last.text or "Pytanie" in olena.last.text
        assert answered.transactions == 1 and answered.hops == 1, _explain(answered)
        assert answered.statements <= SURVEY_ANSWER_STATEMENTS, _explain(answered)
    with read_only(tap_engine) as session:
        stored = session.exec(select(SurveyAnswer.value)).all()
    assert len(stored) == 3


async def test_start_identifies_the_sender_inside_its_one_transaction(
    tap_app: PalApplication, tap_engine: Engine, rec: RecordingRequest, clock: FrozenClock
) -> None:
    _, (workshop,) = seed_programme(tap_engine, clock.now())
    newcomer = ChatUser(tap_app, rec, 9401)
    with measure(tap_app) as first:
        await newcomer.send("/start")
    assert first.transactions == 1 and first.hops == 1, _explain(first)
    await newcomer.press("Polski")
    await newcomer.press("➡️")
    await newcomer.send("Ola")
    with measure(tap_app) as menu:
        await newcomer.send("/start")
    assert menu.transactions == 1 and menu.hops == 1, _explain(menu)
    assert menu.statements <= 3, _explain(menu)
    with measure(tap_app) as linked:
        await newcomer.send(f"/start act_{workshop}")
    assert "📌 Warsztaty rękodzieła" in newcomer.last.text
    assert linked.transactions == 1 and linked.hops == 1, _explain(linked)
    assert linked.statements <= DETAILS_STATEMENTS, _explain(linked)
