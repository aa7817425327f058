"""Consultations on the clock: opening on the date, quiet hours, announcement pacing, each
person's language, results after closing, and nothing sent for a closed one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine

from schedules.clock import FrozenClock
from schedules.consultations import ConsultationSchedule
from schedules.dispatcher import Dispatcher, DispatchSettings
from storage.consultations.answers import Answerer, choose
from storage.consultations.running import close_now, create_consultation
from storage.db import transaction
from storage.executor import Database
from storage.models import Person
from tests.support.animator import Scene, make_scene
from tests.unit.test_dispatcher import Outbox

WARSAW = ZoneInfo("Europe/Warsaw")
NIGHT = (time(21, 0), time(8, 0))


@pytest.fixture
async def database(engine: Engine) -> AsyncIterator[Database]:
    db = Database(engine)
    yield db
    db.close()


@pytest.fixture
def scene(engine: Engine, clock: FrozenClock) -> Scene:
    found = make_scene(engine, clock.now(), places=3, people=3)
    with transaction(engine) as session:
        olena = session.get(Person, found.placed[2])
        assert olena is not None
        olena.language = "uk"
        session.add(olena)
    return found


def _create(engine: Engine, scene: Scene, clock: FrozenClock, opens: str) -> int:
    draft = {
        "kind": "poll",
        "audience": "programme",
        "show_results": True,
        "opens": opens,
        "closes": "2026-11-30",
        "questions": [
            {"text": "Kiedy?", "multiple": False, "options": ["Rano", "Po południu", "Wieczorem"]}
        ],
    }
    with transaction(engine) as session:
        found = create_consultation(
            session,
            draft=draft,
            programme_id=scene.programme_id,
            actor=scene.actor,
            now=clock.now(),
            zone=WARSAW,
        )
        assert found.id is not None
        return found.id


async def test_it_opens_on_its_day_after_quiet_hours_paced_like_announcements(
    engine: Engine, database: Database, clock: FrozenClock, scene: Scene
) -> None:
    _create(engine, scene, clock, opens="2026-11-25")
    schedule = ConsultationSchedule(database, clock)
    outbox = Outbox()
    dispatcher = Dispatcher(
        db=database, sender=outbox, clock=clock, settings=DispatchSettings(quiet_hours=NIGHT)
    )
    assert (await schedule.tick()).opened == []
    midnight = datetime(2026, 11, 25, 0, 0, tzinfo=WARSAW)
    assert await schedule.next_at() == midnight
    clock.set(midnight)
    assert len((await schedule.tick()).opened) == 1
    await dispatcher.drain()
    assert outbox.sent == []  # quiet hours: held until the morning
    clock.set(datetime(2026, 11, 25, 8, 0, tzinfo=WARSAW))
    await dispatcher.drain()
    assert len(outbox.sent) == 3
    assert all(bulk and broadcast for _, _, bulk, broadcast in outbox.sent)
    by_chat = {chat: message.text for chat, message, _, _ in outbox.sent}
    assert "Zespół programu prosi o Twoją opinię" in by_chat[5000]
    assert "Команда програми просить вашої думки" in by_chat[5002]
    buttons = [b.callback_data for row in outbox.sent[0][1].buttons for b in row]
    assert buttons[:3] == ["cr:1:0:0", "cr:1:0:1", "cr:1:0:2"]


async def test_closing_sends_results_and_drops_unsent_invitations(
    engine: Engine, database: Database, clock: FrozenClock, scene: Scene
) -> None:
    cid = _create(engine, scene, clock, opens="2026-11-23")
    with transaction(engine) as session:
        choose(
            session,
            consultation_id=cid,
            who=Answerer(scene.placed[0]),
            question=0,
            option=2,
            now=clock.now(),
        )
        close_now(session, consultation_id=cid, actor=scene.actor, now=clock.now())
    outbox = Outbox()
    dispatcher = Dispatcher(
        db=database, sender=outbox, clock=clock, settings=DispatchSettings(quiet_hours=None)
    )
    await dispatcher.drain()
    # The invitations were still waiting when it closed: only the results go out.
    assert [chat for chat, _, _, _ in outbox.sent] == [5000]
    text = outbox.sent[0][1].text
    assert "Wyniki konsultacji: Kiedy?" in text
    assert "• Wieczorem: <5" in text and "• Rano: 0" in text
