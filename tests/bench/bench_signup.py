"""Sign-up benchmark: `palbot run` as a subprocess against the local Bot API server.

    .venv/bin/python -m tests.bench.bench_signup            # everything, one RESULT line
    .venv/bin/python -m tests.bench.bench_signup --no-steady    # floor, burst, in-process
    .venv/bin/python -m tests.bench.bench_signup --only burst --residents 1000 --places 50
    .venv/bin/python -m tests.bench.bench_signup --only steady --rate 100 --seconds 20
    .venv/bin/python -m tests.bench.bench_signup --only floor   # bare PTB, for comparison
    .venv/bin/python -m tests.bench.bench_signup --only inproc  # CPU and SQL per tap

One local Bot API server serves every part of a run, so the figures compare:
(floor) the same presses to a bare python-telegram-bot app (answer + edit, no database)
on the same transport as the bot (PALBOT_HTTP_CLIENT, aiohttp by default);
(a) burst: every resident has the activity open (`/start act_<id>`), then all press
"Zapisz się" at once; prints updates handled per second from the first press to the
last answer, the bot's CPU per update and peak memory, and checks places / reserve list /
arrival order in the database;
(in-process) the same sign-up taps through Application.process_update on an offline
request with the same database work: CPU per tap, SQL statements and transactions per tap
(counted with SQLAlchemy's before_cursor_execute and begin events);
(b) steady: presses arrive at a fixed rate; prints p50/p99 from the press reaching the
server to the bot's answer.
The run ends with one line:
RESULT burst_per_s= floor_per_s= ratio= cpu_ms= inproc_ms= statements= transactions= peak_mb=
Targets (2 cores, SQLite, 1,000 residents, 50 places): burst >= 200 updates/s and >= 0.4 of
the floor, in-process <= 3 ms per tap, steady p99 < 100 ms, peak memory < 150 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from telegram import Update

from bot.app import build_application
from bot.settings import load_settings
from storage.db import make_engine
from storage.migrate import upgrade_to_latest
from storage.models import Person, Registration, RegistrationStatus
from tests.e2e.botapi import BotProcess, FakeBotApi, TgUser, bot_env
from tests.support.recording import RecordingRequest
from tests.support.signup import make_people, seed_programme

TOKEN = "123456:BENCH-signup"
RESIDENTS_FROM = 100_000  # the bot's residents; the floor's people come after them
FLOOR_FROM = 900_000


@dataclass
class Bench:
    """A running bot with its database and the server."""

    api: FakeBotApi
    bot: BotProcess
    engine: Engine
    peak_rss: int = 0

    async def sample_memory(self, stop: asyncio.Event) -> None:
        """Track the bot process's peak resident memory until `stop` is set."""
        assert self.bot.pid is not None
        process = psutil.Process(self.bot.pid)
        while not stop.is_set():
            with contextlib.suppress(psutil.Error):
                self.peak_rss = max(self.peak_rss, process.memory_info().rss)
            await asyncio.sleep(0.02)


@dataclass
class Figures:
    """What the RESULT line reports (None: that part did not run)."""

    burst_per_s: float | None = None
    floor_per_s: float | None = None
    cpu_ms: float | None = None
    inproc_ms: float | None = None
    statements: float | None = None
    transactions: float | None = None
    peak_mb: float | None = None

    def result_line(self) -> str:
        """The one machine-readable line the run ends with."""
        ratio = (
            self.burst_per_s / self.floor_per_s
            if self.burst_per_s is not None and self.floor_per_s
            else None
        )

        def show(value: float | None, digits: int) -> str:
            if value is None:
                return "NA"
            return str(int(value)) if float(value).is_integer() else f"{value:.{digits}f}"

        return (
            f"RESULT burst_per_s={show(self.burst_per_s and round(self.burst_per_s), 0)} "
            f"floor_per_s={show(self.floor_per_s and round(self.floor_per_s), 0)} "
            f"ratio={show(ratio, 2)} cpu_ms={show(self.cpu_ms, 2)} "
            f"inproc_ms={show(self.inproc_ms, 2)} statements={show(self.statements, 1)} "
            f"transactions={show(self.transactions, 1)} "
            f"peak_mb={show(self.peak_mb and round(self.peak_mb), 0)}"
        )


def _profile(pid: int) -> subprocess.Popen[bytes] | None:
    """With PALBOT_BENCH_PROFILE=FILE, sample the bot with py-spy into FILE (raw stacks)."""
    target = os.environ.get("PALBOT_BENCH_PROFILE")
    if not target:
        return None
    return subprocess.Popen(
        [
            "py-spy",
            "record",
            "--pid",
            str(pid),
            "--format",
            "raw",
            "--rate",
            "200",
            "-o",
            target,
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@contextlib.contextmanager
def _workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="palbot-bench-") as name:
        yield Path(name)


def _cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


async def _open_details(api: FakeBotApi, users: list[TgUser], activities: list[int]) -> None:
    """Each resident opens an activity by deep link (not timed)."""
    before = api.method_count("sendMessage")
    for i, user in enumerate(users):
        user.send(f"/start act_{activities[i % len(activities)]}")
    await _wait_count(api, "sendMessage", before + len(users))


async def _wait_count(api: FakeBotApi, method: str, count: int, limit_s: float = 300) -> None:
    # One waiter for everyone: a waiter per user would wake on every change (O(n²)) and
    # slow the server that shares this process.
    await api.wait_until(
        lambda: api.method_count(method) >= count,
        limit_s,
        interval=0.01,
        description=f"{count} {method} calls",
    )


def _answers(api: FakeBotApi, users: list[TgUser]) -> list[tuple[float, float, str]]:
    """(press time, answer time, answer text) for each user's latest press, in users' order."""
    result = []
    for user in users:
        press = api.callback_presses(user.user_id)[-1]
        assert press.answer is not None, f"no answer for {user.user_id}"
        result.append((press.time, press.answer.time, press.answer.text or ""))
    return result


def _check_order(engine: Engine, activity: int, order: list[int], places: int) -> str:
    """Places, reserve list and press order of one activity's registrations."""
    with Session(engine) as session:
        rows = session.exec(
            select(Registration.status, Person.telegram_id)
            .join(Person, col(Person.id) == col(Registration.person_id))
            .where(Registration.activity_id == activity)
            .order_by(col(Registration.id))
        ).all()
    confirmed = sum(1 for status, _ in rows if status == RegistrationStatus.CONFIRMED)
    reserve = sum(1 for status, _ in rows if status == RegistrationStatus.RESERVE)
    in_order = [tid for _, tid in rows] == order
    statuses_ok = [s for s, _ in rows] == (
        [RegistrationStatus.CONFIRMED] * min(places, len(order))
        + [RegistrationStatus.RESERVE] * max(0, len(order) - places)
    )
    ok = in_order and statuses_ok
    return (
        f"{confirmed} places, {reserve} on the reserve list, arrival order "
        f"{'kept' if in_order else 'BROKEN'} -> {'OK' if ok else 'FAILED'}"
    )


def _seeded_database(
    workdir: Path, residents: int, places: int, activities: int = 1
) -> tuple[str, Engine, list[int]]:
    url = f"sqlite:///{workdir / 'palbot.sqlite3'}"
    engine = make_engine(url)
    upgrade_to_latest(engine)
    programme, activity_ids = seed_programme(
        engine, datetime.now(UTC), activities=activities, places=places, first_in=timedelta(days=3)
    )
    make_people(engine, residents, programme_id=programme, first_telegram_id=RESIDENTS_FROM)
    return url, engine, activity_ids


async def _start(
    api: FakeBotApi, workdir: Path, residents: int, places: int, activities: int = 1
) -> tuple[Bench, list[int], list[TgUser]]:
    url, engine, activity_ids = _seeded_database(workdir, residents, places, activities)
    # The local server does not limit, so neither does the bot (as the issue asks).
    env = bot_env(
        api, PALBOT_DATABASE_URL=url, PALBOT_LOG_LEVEL="WARNING", PALBOT_RATE_LIMIT="false"
    )
    bot = BotProcess(env, workdir, ["run"], log_path=workdir / "bot.log")
    bot.start()
    await bot.wait_ready(api, timeout=60)
    assert bot.pid is not None
    with contextlib.suppress(psutil.Error):
        process = psutil.Process(bot.pid)
        print(
            f"  bot at ready: {process.memory_info().rss / 2**20:.0f} MB resident, "
            f"{_cpu_seconds(bot.pid):.2f} s CPU to start (targets <= 105 MB, <= 1.4 s)"
        )
    users = [api.user(RESIDENTS_FROM + i) for i in range(residents)]
    return Bench(api, bot, engine), activity_ids, users


async def _stop(bench: Bench) -> None:
    code = await bench.bot.terminate(timeout=30)
    if "Traceback" in bench.bot.log_text() or code != 0:
        print(f"  bot exited with {code}; log tail:\n{bench.bot.log_tail()}")
    bench.engine.dispose()


async def burst(api: FakeBotApi, residents: int, places: int, figures: Figures) -> None:
    """All residents press "Zapisz się" at once."""
    print(f"(a) burst: {residents} residents sign up at once for a {places}-place activity")
    with _workdir() as workdir:
        bench, (activity,), users = await _start(api, workdir, residents, places)
        try:
            started = time.perf_counter()
            await _open_details(bench.api, users, [activity])
            opened = time.perf_counter() - started
            print(
                f"  warm-up: {residents} deep links answered in {opened:.2f} s "
                f"({residents / opened:.0f} updates/s)"
            )
            stop = asyncio.Event()
            sampler = asyncio.create_task(bench.sample_memory(stop))
            before = bench.api.method_count("answerCallbackQuery")
            assert bench.bot.pid is not None
            profiler = _profile(bench.bot.pid)
            cpu_before = _cpu_seconds(bench.bot.pid)
            first_press = time.time()
            for user in users:  # arrival order = this order
                user.press("Zapisz się")
            await _wait_count(bench.api, "answerCallbackQuery", before + residents)
            answers = _answers(bench.api, users)
            last_answer = max(answered for _, answered, _ in answers)
            cpu = _cpu_seconds(bench.bot.pid) - cpu_before
            if profiler is not None:
                profiler.send_signal(2)
                await asyncio.to_thread(profiler.wait)
            stop.set()
            await sampler
            elapsed = last_answer - first_press
            figures.burst_per_s = residents / elapsed
            figures.cpu_ms = cpu / residents * 1000
            figures.peak_mb = bench.peak_rss / 2**20
            print(
                f"  {residents} sign-ups handled in {elapsed:.2f} s: "
                f"{figures.burst_per_s:.0f} updates/s (target >= 200); "
                f"bot CPU {cpu:.2f} s ({figures.cpu_ms:.2f} ms per update)"
            )
            print(f"  bot peak memory: {figures.peak_mb:.0f} MB (target < 150 MB)")
            print("  " + _check_order(bench.engine, activity, [u.user_id for u in users], places))
        finally:
            await _stop(bench)


async def steady(api: FakeBotApi, rate: float, seconds: float) -> None:
    """Presses arrive at a fixed rate; latency from press to answer."""
    total = int(rate * seconds)
    print(f"(b) steady: {rate:.0f} sign-up updates/s for {seconds:.0f} s ({total} updates)")
    # Several activities so places and reserve lists both occur, like a real week.
    with _workdir() as workdir:
        bench, activity_ids, users = await _start(api, workdir, total, places=50, activities=4)
        try:
            await _open_details(bench.api, users, activity_ids)
            before = bench.api.method_count("answerCallbackQuery")
            stop = asyncio.Event()
            sampler = asyncio.create_task(bench.sample_memory(stop))
            begin = time.perf_counter()
            for i, user in enumerate(users):
                delay = begin + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                user.press("Zapisz się")
            await _wait_count(bench.api, "answerCallbackQuery", before + total)
            stop.set()
            await sampler
            latencies = sorted(
                (answered - pressed) * 1000 for pressed, answered, _ in _answers(bench.api, users)
            )
            p50 = statistics.median(latencies)
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
            print(
                f"  press -> answer: p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
                f"max {latencies[-1]:.1f} ms (target p99 < 100 ms)"
            )
            print(f"  bot peak memory: {bench.peak_rss / 2**20:.0f} MB (target < 150 MB)")
        finally:
            await _stop(bench)


_FLOOR_BOT = """
import os
from telegram.ext import Application, CallbackQueryHandler, CommandHandler
from bot.settings import load_settings
from bot.transport import bot_api_request

async def start(update, context):
    await update.message.reply_text("📌 Warsztaty", reply_markup={"inline_keyboard": [[
        {"text": "Zapisz się", "callback_data": "su:1"}]]})

async def press(update, context):
    await update.callback_query.answer("ok")
    await update.callback_query.edit_message_text("📌 Warsztaty: ok")

# The bot's own transport and pool (PALBOT_HTTP_CLIENT), nothing else of the bot.
settings = load_settings()
url = os.environ["PALBOT_API_URL"]
app = (Application.builder().token(os.environ["PALBOT_TOKEN"]).base_url(url + "/bot")
       .request(bot_api_request(settings))
       .get_updates_request(bot_api_request(settings, for_updates=True))
       .concurrent_updates(256).build())
app.add_handler(CommandHandler("start", start))
app.add_handler(CallbackQueryHandler(press))
app.run_polling()
"""


async def floor(api: FakeBotApi, residents: int, figures: Figures) -> None:
    """The same burst against a bare python-telegram-bot app: no database, no features."""
    print(
        f"(floor) {residents} presses at once to a bare python-telegram-bot app on the "
        f"bot's transport ({os.environ.get('PALBOT_HTTP_CLIENT', 'aiohttp')}; answer + edit, "
        "no database)"
    )
    with _workdir() as workdir:
        script = workdir / "floor_bot.py"
        script.write_text(_FLOOR_BOT)
        bot = BotProcess(
            bot_env(api),
            workdir,
            command=[sys.executable, str(script)],
            log_path=workdir / "bot.log",
        )
        bot.start()
        try:
            await bot.wait_ready(api, timeout=60)
            users = [api.user(FLOOR_FROM + i) for i in range(residents)]
            await _open_details(api, users, [1])
            assert bot.pid is not None
            cpu_before = _cpu_seconds(bot.pid)
            before = api.method_count("answerCallbackQuery")
            first_press = time.time()
            for user in users:
                user.press("Zapisz się")
            await _wait_count(api, "answerCallbackQuery", before + residents)
            last = max(answered for _, answered, _ in _answers(api, users))
            cpu = _cpu_seconds(bot.pid) - cpu_before
            figures.floor_per_s = residents / (last - first_press)
            print(
                f"  {figures.floor_per_s:.0f} updates/s; bot CPU "
                f"{cpu / residents * 1000:.2f} ms per update"
            )
        finally:
            await bot.terminate(timeout=30)


class _SqlCounter:
    """SQL statements and transactions on an engine, from SQLAlchemy's events."""

    def __init__(self, engine: Engine) -> None:
        self.statements = 0
        self.transactions = 0
        self.counting = False
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "begin", self._begin)

    def _statement(self, conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        # BEGIN [IMMEDIATE] is how a transaction starts on SQLite: counted as one, not here.
        if self.counting and not statement.lstrip().upper().startswith("BEGIN"):
            self.statements += 1

    def _begin(self, conn: Any) -> None:
        if self.counting:
            self.transactions += 1


_callback_ids = itertools.count(1)


def _press_update(app: Any, rec: RecordingRequest, user_id: int, label: str) -> Update:
    """The callback update of `user_id` pressing the newest button labelled `label`."""
    for message in reversed(rec.chats[user_id]):
        for text, data in message.buttons():
            if label in text:
                payload = {
                    "update_id": next(_callback_ids),
                    "callback_query": {
                        "id": str(next(_callback_ids)),
                        "chat_instance": "ci",
                        "data": data,
                        "from": {
                            "id": user_id,
                            "is_bot": False,
                            "first_name": "T",
                            "language_code": "pl",
                        },
                        "message": message.as_api(),
                    },
                }
                return Update.de_json(payload, app.bot)
    raise AssertionError(f"no {label!r} button for {user_id}")


def _message_update(app: Any, user_id: int, text: str) -> Update:
    command = text.split()[0]
    payload = {
        "update_id": next(_callback_ids),
        "message": {
            "message_id": next(_callback_ids),
            "date": 1_780_000_000,
            "text": text,
            "chat": {"id": user_id, "type": "private"},
            "from": {"id": user_id, "is_bot": False, "first_name": "T", "language_code": "pl"},
            "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
        },
    }
    return Update.de_json(payload, app.bot)


async def inproc(residents: int, places: int, figures: Figures) -> None:
    """Sign-up taps through Application.process_update offline: CPU and SQL per tap."""
    print(
        f"(in-process) {residents} sign-up taps through Application.process_update, "
        f"offline request, same database work ({places} places)"
    )
    with _workdir() as workdir:
        url, engine, (activity,) = _seeded_database(workdir, residents, places)
        engine.dispose()
        settings = load_settings(_env_file=None, token=TOKEN, database_url=url, rate_limit=False)
        rec = RecordingRequest()
        app = build_application(settings, request=rec, get_updates_request=rec, with_updater=False)
        await app.initialize()
        services = app.bot_data["services"]
        counter = _SqlCounter(services.db.engine)
        people = [RESIDENTS_FROM + i for i in range(residents)]
        try:
            for person in people:  # open the activity (not measured)
                await app.process_update(_message_update(app, person, f"/start act_{activity}"))
            presses = [_press_update(app, rec, person, "Zapisz się") for person in people]
            counter.counting = True
            cpu_before = time.process_time()
            for update in presses:
                await app.process_update(update)
            cpu = time.process_time() - cpu_before
            counter.counting = False
        finally:
            await app.shutdown()
            services.db.close()
        figures.inproc_ms = cpu / residents * 1000
        figures.statements = counter.statements / residents
        figures.transactions = counter.transactions / residents
        print(
            f"  CPU per sign-up tap: {figures.inproc_ms:.2f} ms (target <= 3 ms); "
            f"{figures.statements:.1f} SQL statements in {figures.transactions:.1f} "
            "transactions per tap (target 1 transaction, <= 8 statements)"
        )
        check = make_engine(url)
        print("  " + _check_order(check, activity, people, places))
        check.dispose()


async def run(args: argparse.Namespace) -> Figures:
    """The chosen parts against one local Bot API server."""
    figures = Figures()
    parts = (
        [args.only]
        if args.only
        else ["floor", "burst", "inproc"] + ([] if args.no_steady else ["steady"])
    )
    async with FakeBotApi(token=TOKEN) as api:
        if "floor" in parts:
            await floor(api, args.residents, figures)
        if "burst" in parts:
            await burst(api, args.residents, args.places, figures)
        if "inproc" in parts:
            await inproc(args.residents, args.places, figures)
        if "steady" in parts:
            await steady(api, args.rate, args.seconds)
    return figures


def _load() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark parts, print figures and the RESULT line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", choices=["burst", "steady", "floor", "inproc"])
    parser.add_argument("--no-steady", action="store_true", help="skip the steady-rate part")
    parser.add_argument("--residents", type=int, default=1000)
    parser.add_argument("--places", type=int, default=50)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args(argv)
    print(f"machine load before: {_load()} ({os.cpu_count()} cores)")
    figures = asyncio.run(run(args))
    print(f"machine load after: {_load()}")
    print(figures.result_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
