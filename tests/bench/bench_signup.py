"""Sign-up benchmark: `palbot run` as a subprocess against the local Bot API server.

    .venv/bin/python -m tests.bench.bench_signup            # both parts, default sizes
    .venv/bin/python -m tests.bench.bench_signup --only burst --residents 1000 --places 50
    .venv/bin/python -m tests.bench.bench_signup --only steady --rate 100 --seconds 20
    .venv/bin/python -m tests.bench.bench_signup --only floor   # bare PTB, for comparison

(a) burst: every resident has the activity open (`/start act_<id>`), then all press
"Zapisz się" at once; prints updates handled per second from the first press to the
last answer, and checks places / reserve list / arrival order in the database.
(b) steady: presses arrive at a fixed rate; prints p50/p99 from the press reaching the
server to the bot's answer, and the bot process's peak resident memory (psutil).
Targets (2 cores, SQLite): burst >= 300 updates/s, steady p99 < 100 ms, memory < 200 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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

import psutil
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage.db import make_engine
from storage.migrate import upgrade_to_latest
from storage.models import Person, Registration, RegistrationStatus
from tests.e2e.botapi import BotProcess, FakeBotApi, TgUser, bot_env
from tests.support.signup import make_people, seed_programme

TOKEN = "123456:BENCH-signup"


@dataclass
class Bench:
    """A running bot with its database and the fake server."""

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


def _profile(pid: int) -> subprocess.Popen[bytes] | None:
    """With PALBOT_BENCH_PROFILE=FILE, sample the bot with py-spy into FILE (raw stacks)."""
    target = os.environ.get("PALBOT_BENCH_PROFILE")
    if not target:
        return None
    return subprocess.Popen(["py-spy", "record", "--pid", str(pid), "--format", "raw",
                             "--rate", "200", "-o", target, "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@contextlib.contextmanager
def _workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="palbot-bench-") as name:
        yield Path(name)


async def _open_details(api: FakeBotApi, users: list[TgUser], activities: list[int]) -> None:
    """Each resident opens an activity by deep link (not timed)."""
    before = api.method_count("sendMessage")
    for i, user in enumerate(users):
        user.send(f"/start act_{activities[i % len(activities)]}")
    await _wait_count(api, "sendMessage", before + len(users))


async def _wait_count(api: FakeBotApi, method: str, count: int, limit_s: float = 300) -> None:
    # One waiter for everyone: a waiter per user would wake on every change (O(n²)) and
    # slow the server that shares this process.
    await api.wait_until(lambda: api.method_count(method) >= count, limit_s, interval=0.01,
                         description=f"{count} {method} calls")


def _answers(api: FakeBotApi, users: list[TgUser]) -> list[tuple[float, float, str]]:
    """(press time, answer time, answer text) for each user's latest press, in users' order."""
    result = []
    for user in users:
        press = api.callback_presses(user.user_id)[-1]
        assert press.answer is not None, f"no answer for {user.user_id}"
        result.append((press.time, press.answer.time, press.answer.text or ""))
    return result


def _check_order(engine: Engine, activity: int, order: list[TgUser], places: int) -> str:
    with Session(engine) as session:
        rows = session.exec(
            select(Registration.status, Person.telegram_id)
            .join(Person, col(Person.id) == col(Registration.person_id))
            .where(Registration.activity_id == activity)
            .order_by(col(Registration.id))
        ).all()
    confirmed = sum(1 for status, _ in rows if status == RegistrationStatus.CONFIRMED)
    reserve = sum(1 for status, _ in rows if status == RegistrationStatus.RESERVE)
    in_order = [tid for _, tid in rows] == [u.user_id for u in order]
    statuses_ok = [s for s, _ in rows] == (
        [RegistrationStatus.CONFIRMED] * min(places, len(order))
        + [RegistrationStatus.RESERVE] * max(0, len(order) - places)
    )
    ok = in_order and statuses_ok
    return (f"{confirmed} places, {reserve} on the reserve list, arrival order "
            f"{'kept' if in_order else 'BROKEN'} -> {'OK' if ok else 'FAILED'}")


async def _start(workdir: Path, residents: int, places: int, activities: int = 1
                 ) -> tuple[Bench, list[int], list[TgUser]]:
    url = f"sqlite:///{workdir / 'palbot.sqlite3'}"
    engine = make_engine(url)
    upgrade_to_latest(engine)
    now = datetime.now(UTC)
    programme, activity_ids = seed_programme(engine, now, activities=activities, places=places,
                                             first_in=timedelta(days=3))
    make_people(engine, residents, programme_id=programme, first_telegram_id=100_000)
    api = FakeBotApi(token=TOKEN)
    await api.start()
    # The local server does not limit, so neither does the bot (as the issue asks).
    env = bot_env(api, PALBOT_DATABASE_URL=url, PALBOT_LOG_LEVEL="WARNING",
                  PALBOT_RATE_LIMIT="false")
    bot = BotProcess(env, workdir, ["run"], log_path=workdir / "bot.log")
    bot.start()
    await bot.wait_ready(api, timeout=60)
    users = [api.user(100_000 + i) for i in range(residents)]
    return Bench(api, bot, engine), activity_ids, users


async def _stop(bench: Bench) -> None:
    code = await bench.bot.terminate(timeout=30)
    if "Traceback" in bench.bot.log_text() or code != 0:
        print(f"  bot exited with {code}; log tail:\n{bench.bot.log_tail()}")
    await bench.api.stop()
    bench.engine.dispose()


async def burst(residents: int, places: int) -> None:
    """All residents press "Zapisz się" at once."""
    print(f"(a) burst: {residents} residents sign up at once for a {places}-place activity")
    with _workdir() as workdir:
        bench, (activity,), users = await _start(workdir, residents, places)
        try:
            started = time.perf_counter()
            await _open_details(bench.api, users, [activity])
            opened = time.perf_counter() - started
            print(f"  warm-up: {residents} deep links answered in {opened:.2f} s "
                  f"({residents / opened:.0f} updates/s)")
            stop = asyncio.Event()
            sampler = asyncio.create_task(bench.sample_memory(stop))
            before = bench.api.method_count("answerCallbackQuery")
            assert bench.bot.pid is not None
            profiler = _profile(bench.bot.pid)
            cpu_before = psutil.Process(bench.bot.pid).cpu_times()
            first_press = time.time()
            for user in users:  # arrival order = this order
                user.press("Zapisz się")
            await _wait_count(bench.api, "answerCallbackQuery", before + residents)
            answers = _answers(bench.api, users)
            last_answer = max(answered for _, answered, _ in answers)
            cpu_after = psutil.Process(bench.bot.pid).cpu_times()
            if profiler is not None:
                profiler.send_signal(2)
                await asyncio.to_thread(profiler.wait)
            stop.set()
            await sampler
            elapsed = last_answer - first_press
            cpu = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)
            print(f"  {residents} sign-ups handled in {elapsed:.2f} s: "
                  f"{residents / elapsed:.0f} updates/s (target >= 300); "
                  f"bot CPU {cpu:.2f} s ({cpu / residents * 1000:.2f} ms per update)")
            print(f"  bot peak memory: {bench.peak_rss / 2**20:.0f} MB")
            print("  " + _check_order(bench.engine, activity, users, places))
        finally:
            await _stop(bench)


async def steady(rate: float, seconds: float) -> None:
    """Presses arrive at a fixed rate; latency from press to answer."""
    total = int(rate * seconds)
    print(f"(b) steady: {rate:.0f} sign-up updates/s for {seconds:.0f} s ({total} updates)")
    # Several activities so places and reserve lists both occur, like a real week.
    with _workdir() as workdir:
        bench, activity_ids, users = await _start(workdir, total, places=50, activities=4)
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
            latencies = sorted((answered - pressed) * 1000
                               for pressed, answered, _ in _answers(bench.api, users))
            p50 = statistics.median(latencies)
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
            print(f"  press -> answer: p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
                  f"max {latencies[-1]:.1f} ms (target p99 < 100 ms)")
            print(f"  bot peak memory: {bench.peak_rss / 2**20:.0f} MB (target < 200 MB)")
        finally:
            await _stop(bench)


_FLOOR_BOT = """
import os, sys
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

async def start(update, context):
    await update.message.reply_text("📌 Warsztaty", reply_markup={"inline_keyboard": [[
        {"text": "Zapisz się", "callback_data": "su:1"}]]})

async def press(update, context):
    await update.callback_query.answer("ok")
    await update.callback_query.edit_message_text("📌 Warsztaty: ok")

url = os.environ["PALBOT_API_URL"]
app = (Application.builder().token(os.environ["PALBOT_TOKEN"]).base_url(url + "/bot")
       .concurrent_updates(256).build())
app.add_handler(CommandHandler("start", start))
app.add_handler(CallbackQueryHandler(press))
app.run_polling()
"""


async def floor(residents: int) -> None:
    """The same burst against a bare python-telegram-bot app: no database, no features."""
    print(f"(floor) {residents} presses at once to a bare PTB bot (answer + edit, no database)")
    with _workdir() as workdir:
        script = workdir / "floor_bot.py"
        script.write_text(_FLOOR_BOT)
        api = FakeBotApi(token=TOKEN)
        await api.start()
        bot = BotProcess(bot_env(api), workdir, command=[sys.executable, str(script)],
                         log_path=workdir / "bot.log")
        bot.start()
        try:
            await bot.wait_ready(api, timeout=60)
            users = [api.user(100_000 + i) for i in range(residents)]
            await _open_details(api, users, [1])
            assert bot.pid is not None
            cpu_before = psutil.Process(bot.pid).cpu_times()
            before = api.method_count("answerCallbackQuery")
            first_press = time.time()
            for user in users:
                user.press("Zapisz się")
            await _wait_count(api, "answerCallbackQuery", before + residents)
            last = max(answered for _, answered, _ in _answers(api, users))
            cpu_after = psutil.Process(bot.pid).cpu_times()
            cpu = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)
            print(f"  {residents / (last - first_press):.0f} updates/s; bot CPU "
                  f"{cpu / residents * 1000:.2f} ms per update")
        finally:
            await bot.terminate(timeout=30)
            await api.stop()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark parts and print figures."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["burst", "steady", "floor"])
    parser.add_argument("--residents", type=int, default=1000)
    parser.add_argument("--places", type=int, default=50)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args(argv)
    if args.only in (None, "burst"):
        asyncio.run(burst(args.residents, args.places))
    if args.only in (None, "steady"):
        asyncio.run(steady(args.rate, args.seconds))
    if args.only == "floor":
        asyncio.run(floor(args.residents))
    return 0


if __name__ == "__main__":
    sys.exit(main())
