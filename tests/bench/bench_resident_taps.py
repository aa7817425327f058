"""CPU per resident tap in-process: a real Application, the offline Bot API, a real database.

    PYTHONPATH=$PWD .venv/bin/python -m tests.bench.bench_resident_taps
    PYTHONPATH=$PWD .venv/bin/python -m tests.bench.bench_resident_taps --residents 600

Every resident is onboarded in the database beforehand; each then presses "Zapisz się"
(`su:<id>`) once through `Application.process_update`, as the first sign-up of the
programme (the initial survey offer included), then one activity list and one details
screen are timed the same way. CPU is the whole process (bot and database threads) per
tap, after a warm-up; the SQLite file is on local disk. The Bot API pacer is left out
unless --paced: in-process the taps come far faster than Telegram's 30 messages/s, and
the pacer's waiting would be measured instead of the tap. Ends with one RESULT line.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from telegram import Update

from bot.app import build_application
from bot.context import PalApplication
from bot.settings import load_settings
from schedules.clock import FrozenClock
from storage.db import make_engine
from storage.migrate import upgrade_to_latest
from tests.support.recording import RecordingRequest, SentMessage
from tests.support.signup import make_people, seed_programme

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
FIRST_ID = 500_000
_update_ids = itertools.count(1)


def _user(telegram_id: int) -> dict[str, Any]:
    return {"id": telegram_id, "is_bot": False, "first_name": "R", "language_code": "pl"}


def press(app: PalApplication, telegram_id: int, data: str) -> Update:
    """A callback query from a message the bot sent this resident."""
    message = {
        "message_id": 1,
        "date": 1_780_000_000,
        "chat": {"id": telegram_id, "type": "private"},
        "from": {"id": 1, "is_bot": True, "first_name": "PAL"},
        "text": "📌",
    }
    query = {
        "id": str(next(_update_ids)),
        "from": _user(telegram_id),
        "chat_instance": "c",
        "data": data,
        "message": message,
    }
    return Update.de_json({"update_id": next(_update_ids), "callback_query": query}, app.bot)


def command(app: PalApplication, telegram_id: int, text: str) -> Update:
    """A command typed by this resident."""
    message = {
        "message_id": next(_update_ids),
        "date": 1_780_000_000,
        "chat": {"id": telegram_id, "type": "private"},
        "from": _user(telegram_id),
        "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
    }
    return Update.de_json({"update_id": next(_update_ids), "message": message}, app.bot)


async def cpu_per_tap(app: PalApplication, updates: list[Update], warm_up: int) -> float:
    """Milliseconds of process CPU per update, after `warm_up` updates."""
    for update in updates[:warm_up]:
        await app.process_update(update)
    start = time.process_time()
    for update in updates[warm_up:]:
        await app.process_update(update)
    return (time.process_time() - start) * 1000 / max(1, len(updates) - warm_up)


async def run(
    residents: int, warm_up: int, folder: Path, only: str | None = None, paced: bool = False
) -> None:
    url = f"sqlite:///{folder / 'bench.sqlite3'}"
    engine = make_engine(url)
    upgrade_to_latest(engine)
    programme_id, (activity_id,) = seed_programme(engine, NOW, places=residents // 2)
    make_people(engine, residents, programme_id=programme_id, first_telegram_id=FIRST_ID)
    engine.dispose()
    settings = load_settings(_env_file=None, token="123456:BENCH-taps", database_url=url)
    rec = RecordingRequest()
    app = build_application(
        settings,
        request=rec,
        get_updates_request=rec,
        with_updater=False,
        clock=FrozenClock(NOW),
        rate_limiter=None if paced else False,
    )
    await app.initialize()
    try:
        people = range(FIRST_ID, FIRST_ID + residents)
        for telegram_id in people:
            # The message whose buttons are pressed (the details screen), to be edited.
            rec.chats[telegram_id] = [SentMessage(1, telegram_id, "📌", None)]
        make: Callable[[int], Update]
        figures: dict[str, float] = {}
        for name, make in (
            ("signup_ms", lambda t: press(app, t, f"su:{activity_id}")),
            ("list_ms", lambda t: command(app, t, "/activities")),
            ("details_ms", lambda t: press(app, t, f"act:{activity_id}")),
        ):
            if only is not None and not name.startswith(only):
                continue
            figures[name] = await cpu_per_tap(app, [make(t) for t in people], warm_up)
            print(
                f"{name[:-3]:>8}: {figures[name]:.2f} ms CPU per tap "
                f"({residents - warm_up} taps after {warm_up} warm-up)"
            )
        line = " ".join(f"{k}={v:.2f}" for k, v in figures.items())
        print(f"RESULT {line} residents={residents} paced={int(paced)}")
    finally:
        await app.shutdown()
        app.bot_data["services"].db.close()


def main() -> None:
    """Run the benchmark from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=400)
    parser.add_argument("--warm-up", type=int, default=50)
    parser.add_argument(
        "--only",
        choices=("signup", "list", "details"),
        help="time one kind of tap (e.g. under a profiler)",
    )
    parser.add_argument(
        "--paced",
        action="store_true",
        help="keep the Bot API pacer: it then holds the taps to Telegram's "
        "30 messages/s, and its waiting costs CPU too",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(args.residents, args.warm_up, Path(folder), args.only, args.paced))


if __name__ == "__main__":
    main()
