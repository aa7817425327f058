"""PerPersonUpdateProcessor on its own: turns per person, the running bound, idle clean-up."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
from telegram import Update

from bot.update_order import PerPersonUpdateProcessor, person_key

_ids = itertools.count(1)


def _message(user_id: int | None, chat_id: int = 0) -> Update:
    message: dict[str, Any] = {
        "message_id": next(_ids),
        "date": 1_780_000_000,
        "chat": {"id": chat_id or user_id, "type": "private" if user_id else "channel"},
        "text": "x",
    }
    if user_id is not None:
        message["from"] = {"id": user_id, "is_bot": False, "first_name": "T"}
        return Update.de_json({"update_id": next(_ids), "message": message}, None)
    return Update.de_json({"update_id": next(_ids), "channel_post": message}, None)


def _poll() -> Update:
    # A poll's state change has neither a user nor a chat; its fields do not matter here.
    return Update(update_id=next(_ids))


def test_whose_turn_an_update_waits_for() -> None:
    assert person_key(_message(5)) == 5
    assert person_key(_message(None, chat_id=-100)) == -100  # a channel post: its chat
    assert person_key(_poll()) is None  # nobody's: runs freely
    assert person_key(object()) is None


def _feed(processor: PerPersonUpdateProcessor, update: object, work: Any) -> asyncio.Task[None]:
    # As python-telegram-bot does: one task per update, created in arrival order.
    return asyncio.create_task(processor.process_update(update, work))


async def test_one_slow_person_does_not_take_everyones_slots() -> None:
    processor = PerPersonUpdateProcessor(running=2)
    gate = asyncio.Event()
    done: list[str] = []

    async def slow() -> None:
        await gate.wait()
        done.append("slow")

    async def quick(name: str) -> None:
        done.append(name)

    slow_person = [_feed(processor, _message(1), slow())]
    # Many more updates from the slow person queue behind the first, holding no slot.
    slow_person += [_feed(processor, _message(1), quick(f"1-{n}")) for n in range(10)]
    others = [_feed(processor, _message(2 + n), quick(f"other-{n}")) for n in range(5)]
    await asyncio.wait_for(asyncio.gather(*others), timeout=5)
    assert done == [f"other-{n}" for n in range(5)]
    assert processor.active_people == 1
    gate.set()
    await asyncio.wait_for(asyncio.gather(*slow_person), timeout=5)
    assert done[5:] == ["slow"] + [f"1-{n}" for n in range(10)]
    assert processor.active_people == 0


async def test_no_more_than_the_bound_run_at_once_and_people_overlap() -> None:
    processor = PerPersonUpdateProcessor(running=3)
    now_running = 0
    peak = 0
    per_person: dict[int, list[int]] = {}

    async def work(person: int, n: int) -> None:
        nonlocal now_running, peak
        now_running += 1
        peak = max(peak, now_running)
        await asyncio.sleep(0.002 * ((n * 7 + person) % 3))
        per_person.setdefault(person, []).append(n)
        now_running -= 1

    tasks = [
        _feed(processor, _message(person), work(person, n))
        for n in range(20)
        for person in range(1, 7)
    ]
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)
    assert peak == 3
    assert per_person == {person: list(range(20)) for person in range(1, 7)}
    assert processor.active_people == 0


async def test_updates_of_nobody_run_without_waiting_for_a_person() -> None:
    processor = PerPersonUpdateProcessor(running=2)
    gate = asyncio.Event()
    ran: list[str] = []

    async def blocked() -> None:
        await gate.wait()

    async def free() -> None:
        ran.append("poll")

    held = _feed(processor, _message(1), blocked())
    await asyncio.wait_for(_feed(processor, _poll(), free()), timeout=5)
    assert ran == ["poll"]
    gate.set()
    await held


async def test_a_failing_or_cancelled_update_frees_its_persons_lane() -> None:
    processor = PerPersonUpdateProcessor(running=1)
    gate = asyncio.Event()
    ran: list[str] = []

    async def failing() -> None:
        raise RuntimeError("handler error")

    async def blocked() -> None:
        await gate.wait()

    async def after() -> None:
        ran.append("after")

    with pytest.raises(RuntimeError):
        await _feed(processor, _message(1), failing())
    assert processor.active_people == 0
    held = _feed(processor, _message(2), blocked())
    waiting = _feed(processor, _message(3), after())  # waits for the only running slot
    await asyncio.sleep(0.01)
    assert processor.active_people == 2
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    gate.set()
    await held
    assert ran == [] and processor.active_people == 0


def test_bounds_are_positive() -> None:
    with pytest.raises(ValueError):
        PerPersonUpdateProcessor(running=0)
    processor = PerPersonUpdateProcessor(running=8, admitted=4)
    assert (processor.running_limit, processor.max_concurrent_updates) == (8, 8)
