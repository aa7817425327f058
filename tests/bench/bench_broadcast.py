"""Broadcast benchmark: an announcement to 5,000 residents through a rate-limiting server.

    .venv/bin/python -m tests.bench.bench_broadcast
    .venv/bin/python -m tests.bench.bench_broadcast --residents 1000 --tappers 20

`palbot run` runs as a subprocess against the local Bot API server in rate-limit mode
(30 messages/s overall, 1 per second per chat, 429 with retry_after beyond). An animator
sends an announcement to the whole programme from the chat; meanwhile 50 residents keep
tapping buttons (open an activity, back to the list; each about every 20 s, so 2.5 taps
a second together). The bot keeps broadcasts at 25/s and everything at 29/s, so taps
beyond about 4 a second come out of the broadcast's share. Prints achieved messages/s, the
429 count, total time, the p50/p99 of the taps (press reaching the server to the edited
screen) and checks every resident got exactly one copy.
Targets: >= 24 messages/s, zero duplicates and losses, interactive p99 < 1.5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
from sqlmodel import Session, select

from storage.db import make_engine, transaction
from storage.migrate import upgrade_to_latest
from storage.models import Broadcast, Programme
from tests.e2e.botapi import BotProcess, FakeBotApi, RateLimit, TgUser, bot_env
from tests.support.animator import seat_animator
from tests.support.signup import make_activity, make_people

TOKEN = "123456:BENCH-broadcast"
ANIMATOR = 900
FIRST_RESIDENT = 100_000
TEXT = "Zebranie mieszkańców w czwartek o 18:00 w świetlicy. Zapraszamy!"


@contextlib.contextmanager
def _workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="palbot-bench-") as name:
        yield Path(name)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


class Tapper:
    """A resident who keeps opening an activity and going back to the list.

    Taps are fired on a schedule and timed afterwards from the server's records (the
    press, and the edit of that message that answered it), so measuring adds no load to
    the server sharing this process.
    """

    def __init__(self, user: TgUser, activity_id: int, mean_interval: float) -> None:
        self.user = user
        self.activity_id = activity_id
        self.mean_interval = mean_interval

    async def open_list(self) -> None:
        """Get the activity list (not timed)."""
        await self.user.ask("/activities", "Zajęcia i spotkania", timeout=30)

    async def run(self, stop: asyncio.Event, rng: random.Random) -> None:
        """Tap until `stop`, alternating between the details and the list."""
        message = self.user.last_message
        assert message is not None
        screens = [f"act:{self.activity_id}", "acts:0"]
        turn = 0
        # People read the screen before the next tap: from half to one and a half times
        # the mean interval.
        delay = rng.uniform(0, self.mean_interval)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            if stop.is_set():
                break
            self.api_press(message.message_id, screens[turn % 2])
            turn += 1
            delay = self.mean_interval * rng.uniform(0.5, 1.5)

    def api_press(self, message_id: int, data: str) -> None:
        """Press a button on the list message."""
        self.user.api.user_presses(self.user.user_id, message_id, data)

    def latencies(self) -> tuple[list[float], int]:
        """Seconds from each press to the edit answering it; and presses never answered."""
        api = self.user.api
        chat = self.user.user_id
        edits = [e for e in api.events(chat) if e.kind == "edit"]
        found: list[float] = []
        missing = 0
        for press in api.callback_presses(chat):
            if press.data not in (f"act:{self.activity_id}", "acts:0"):
                continue
            answer = next((e.time for e in edits
                           if e.message_id == press.message_id and e.time >= press.time), None)
            if answer is None:
                missing += 1
            else:
                found.append(answer - press.time)
        return found, missing


async def _poll(condition: Callable[[], bool], limit: float) -> None:
    """Check once a second (the server's own waiters re-check on every change)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return
        await asyncio.sleep(1.0)


def _copies(api: FakeBotApi, residents: int) -> list[int]:
    return [sum(1 for m in api.messages(FIRST_RESIDENT + i) if m.body == TEXT)
            for i in range(residents)]


def _first_copy_times(api: FakeBotApi, residents: int) -> list[float]:
    return [m.sent_at for i in range(residents) for m in api.messages(FIRST_RESIDENT + i)
            if m.body == TEXT]


async def run(residents: int, tappers: int, tap_interval: float) -> int:
    """Run the benchmark once; returns a shell exit code (1 if a target was missed)."""
    print(f"broadcast to {residents} residents, {tappers} of them tapping buttons meanwhile "
          f"(one tap per ~{tap_interval:.0f} s each), server limits 30/s and 1/s per chat")
    with _workdir() as workdir:
        url = f"sqlite:///{workdir / 'palbot.sqlite3'}"
        engine = make_engine(url)
        upgrade_to_latest(engine)
        _, programme_id = seat_animator(engine, telegram_id=ANIMATOR)
        make_people(engine, residents, programme_id=programme_id, first_telegram_id=FIRST_RESIDENT)
        with transaction(engine) as session:
            programme = session.get(Programme, programme_id)
            assert programme is not None
            activity = make_activity(session, programme=programme,
                                     starts_at=datetime.now(UTC) + timedelta(days=3))
            activity_id = activity.id
        assert activity_id is not None
        api = FakeBotApi(token=TOKEN, rate_limit=RateLimit())
        await api.start()
        env = bot_env(api, PALBOT_DATABASE_URL=url, PALBOT_LOG_LEVEL="WARNING",
                      PALBOT_QUIET_HOURS="off")
        bot = BotProcess(env, workdir, ["run"], log_path=workdir / "bot.log")
        bot.start()
        try:
            await bot.wait_ready(api, timeout=60)
            rng = random.Random(7)
            # Tappers spread over the programme, so their copies arrive throughout the run.
            step = max(1, residents // max(tappers, 1))
            taps = [Tapper(api.user(FIRST_RESIDENT + i * step), activity_id, tap_interval)
                    for i in range(tappers)]
            await asyncio.gather(*(t.open_list() for t in taps))
            animator = api.user(ANIMATOR)
            await animator.ask("/animator", "Panel animatora", timeout=30)
            await animator.tap("Ogłoszenie", "Nowe ogłoszenie")
            await animator.ask(TEXT, "Kto ma dostać ogłoszenie?")
            await animator.tap("Wszyscy w programie", "Odbiorcy:")
            before = api.stats(include_chats=False)
            assert bot.pid is not None
            bot_process = psutil.Process(bot.pid)
            cpu_before = bot_process.cpu_times()
            stop = asyncio.Event()
            tapping = [asyncio.create_task(t.run(stop, rng)) for t in taps]
            started = time.time()
            animator.press("Wyślij do")
            # A cheap counter while sending (the server shares this process); the copies
            # themselves are checked once at the end.
            def all_sent() -> bool:
                sent = api.stats(include_chats=False)["sends_accepted"]
                return bool(sent - before["sends_accepted"] >= residents)

            await _poll(all_sent, residents / 10 + 120)
            last_copy = max(_first_copy_times(api, residents))
            cpu_after = bot_process.cpu_times()
            stop.set()
            await asyncio.gather(*tapping)
            await asyncio.sleep(2)  # let the last taps be answered
            report_seen = False
            with contextlib.suppress(Exception):
                await api.wait_until(
                    lambda: any("Dostarczono:" in m.body for m in api.messages(ANIMATOR)), 15,
                    description="the delivery report")
                report_seen = True
            await asyncio.sleep(3)  # anything sent twice would arrive now
            copies = _copies(api, residents)
            limited = api.stats(include_chats=False)["rate_limited"] - before["rate_limited"]
            measured = [t.latencies() for t in taps]
        finally:
            code = await bot.terminate(timeout=30)
            log = bot.log_text()
            await api.stop()
        with Session(engine) as session:
            state = session.exec(select(Broadcast.state)).first()
        engine.dispose()
    elapsed = last_copy - started
    rate = residents / elapsed
    latencies = [x for found, _ in measured for x in found]
    timeouts = sum(missing for _, missing in measured)
    duplicates = sum(1 for c in copies if c > 1)
    losses = sum(1 for c in copies if c == 0)
    p50, p99 = _percentile(latencies, 0.5), _percentile(latencies, 0.99)
    print(f"  total time: {elapsed:.1f} s from pressing Send to the last copy")
    print(f"  achieved: {rate:.1f} messages/s (target >= 24)")
    print(f"  429 answers from the server: {limited}")
    cpu = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)
    print(f"  bot CPU while sending: {cpu:.1f} s ({cpu / elapsed * 100:.0f} % of one core); "
          f"machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"  duplicates: {duplicates}, losses: {losses} (target 0 and 0)")
    print(f"  interactive taps: {len(latencies)} answered, {timeouts} unanswered; "
          f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms (target p99 < 1500 ms); "
          f"mean {statistics.fmean(latencies) * 1000 if latencies else float('nan'):.0f} ms")
    print(f"  delivery report in the animator's chat: {'yes' if report_seen else 'NO'}; "
          f"broadcast state: {state}")
    if code != 0 or "Traceback" in log:
        print(f"  bot exited with {code}; log tail:\n" + "\n".join(log.splitlines()[-30:]))
    ok = rate >= 24 and duplicates == 0 and losses == 0 and p99 < 1.5 and timeouts == 0
    print("  -> " + ("all targets met" if ok else "TARGET MISSED"))
    return 0 if ok else 1


def main() -> int:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=5000)
    parser.add_argument("--tappers", type=int, default=50)
    parser.add_argument("--tap-interval", type=float, default=20.0,
                        help="mean seconds between one tapper's taps")
    args = parser.parse_args()
    return asyncio.run(run(args.residents, args.tappers, args.tap_interval))


if __name__ == "__main__":
    raise SystemExit(main())
