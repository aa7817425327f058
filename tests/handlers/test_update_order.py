"""Each person's updates in arrival order through the real Application's update queue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from telegram import Update
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.context import PalApplication
from bot.update_order import PerPersonUpdateProcessor
from schedules.clock import FrozenClock
from storage.models import Person
from tests.support.chat import ChatUser
from tests.support.signup import onboard, seed_programme


@pytest.fixture
async def running_app(app: PalApplication) -> AsyncIterator[PalApplication]:
    """The application fetching updates from its queue, as polling and webhooks feed it."""
    await app.start()
    yield app
    await app.stop()


async def _drain(app: PalApplication) -> None:
    await asyncio.wait_for(app.update_queue.join(), timeout=30)


async def _until(condition: Callable[[], bool], *, seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


def test_the_bot_uses_the_per_person_processor(app: PalApplication) -> None:
    assert isinstance(app.update_processor, PerPersonUpdateProcessor)


async def test_a_name_and_a_command_typed_back_to_back_get_the_menu(
    running_app: PalApplication,
    chat_user: Callable[..., ChatUser],
    engine: Engine,
    clock: FrozenClock,
) -> None:
    seed_programme(engine, clock.now())
    olena = chat_user(701)
    await olena.send("/start")
    await olena.press("Polski")
    await olena.press("➡️")
    assert "Jak mają Cię widzieć animatorzy" in olena.last.text
    # Typed, then the command a moment later: both are queued before either is handled.
    await running_app.update_queue.put(olena.update(olena.message_payload("Olena")))
    await running_app.update_queue.put(olena.update(olena.message_payload("/activities")))
    await _drain(running_app)
    texts = [m.text for m in olena.messages]
    # The welcome with the programme's activities, then the list /activities asked for.
    assert "Dziękujemy, Olena!" in texts[-3]
    assert "Zajęcia i spotkania" in texts[-2] and "Zajęcia i spotkania" in texts[-1]
    assert sum("Jak mają Cię widzieć animatorzy" in t for t in texts) == 1
    with Session(engine) as session:
        person = session.exec(select(Person).where(Person.telegram_id == 701)).one()
    assert person.display_name == "Olena" and person.is_onboarded


async def test_others_are_answered_while_one_person_is_stuck(
    running_app: PalApplication,
    chat_user: Callable[..., ChatUser],
    engine: Engine,
    clock: FrozenClock,
) -> None:
    seed_programme(engine, clock.now())
    jan, olena = chat_user(702), chat_user(703)
    await onboard(jan, "Jan")
    await onboard(olena, "Olena")
    release = asyncio.Event()
    seen: list[tuple[int, str]] = []

    async def hold_jans_first_update(update: Update, context: Any) -> None:
        # Stands in for a slow Telegram call or a long database wait in Jan's update.
        assert update.effective_user is not None and update.effective_message is not None
        seen.append((update.effective_user.id, update.effective_message.text or ""))
        if update.effective_user.id == 702 and not release.is_set():
            await release.wait()

    running_app.add_handler(TypeHandler(Update, hold_jans_first_update), group=-100)
    jan_before, olena_before = len(jan.messages), len(olena.messages)
    try:
        for text in ("/my", "/activities", "/help"):
            await running_app.update_queue.put(jan.update(jan.message_payload(text)))
        for text in ("/activities", "/my"):
            await running_app.update_queue.put(olena.update(olena.message_payload(text)))
        # Olena is answered twice while Jan's first update is still held.
        await _until(lambda: len(olena.messages) >= olena_before + 2)
        assert [t for uid, t in seen if uid == 702] == ["/my"]  # the rest wait their turn
        assert len(jan.messages) == jan_before
        assert "Zajęcia i spotkania" in olena.messages[-2].text
    finally:
        release.set()
    await _drain(running_app)
    assert [t for uid, t in seen if uid == 702] == ["/my", "/activities", "/help"]
    assert len(jan.messages) == jan_before + 3
    processor = running_app.update_processor
    assert isinstance(processor, PerPersonUpdateProcessor)
    assert processor.active_people == 0


async def test_a_burst_from_several_people_keeps_each_persons_order(
    running_app: PalApplication,
    chat_user: Callable[..., ChatUser],
    engine: Engine,
    clock: FrozenClock,
) -> None:
    seed_programme(engine, clock.now())
    people = [chat_user(710 + i) for i in range(4)]
    for person in people:
        await onboard(person, f"Osoba {person.user_id}")
    seen: dict[int, list[str]] = {p.user_id: [] for p in people}

    async def note(update: Update, context: Any) -> None:
        assert update.effective_user is not None and update.effective_message is not None
        text = update.effective_message.text or ""
        # Uneven waits, as real I/O has: without ordering, later updates would overtake.
        await asyncio.sleep(0.003 * (int(text.rsplit("-", 1)[1]) * 7 % 3))
        seen[update.effective_user.id].append(text)
        raise ApplicationHandlerStop  # only the order matters here, not the screens

    running_app.add_handler(TypeHandler(Update, note), group=-100)
    sent = {p.user_id: [f"{p.user_id}-{n}" for n in range(15)] for p in people}
    for n in range(15):
        for person in people:
            await running_app.update_queue.put(
                person.update(person.message_payload(sent[person.user_id][n]))
            )
    await _drain(running_app)
    assert seen == sent
