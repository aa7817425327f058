"""An announcement to thousands of residents while some of them tap, through real processes.

Shared by the broadcast benchmark and the multi-process end-to-end test: `palbot run`
subprocesses (one polling on SQLite, or several webhook processes on one PostgreSQL
database) against the local Bot API server in rate-limit mode (30 messages a second, one
a second per chat, 429 with retry_after beyond). An animator sends an announcement to
the whole programme; meanwhile tappers keep opening an activity and going back to the
list. Optionally one process is killed with SIGKILL once half the copies are out.
Everything is measured from the server's own records, so measuring adds no load.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from storage.db import transaction
from storage.models import Broadcast, PendingSend, Programme, SendState
from tests.e2e.botapi import BotProcess, FakeBotApi, RateLimit, TgUser, bot_env
from tests.e2e.webhook_cluster import WebhookCluster
from tests.support.animator import seat_animator
from tests.support.signup import make_activity, make_people

TOKEN = "123456:LOAD-broadcast"
ANIMATOR = 900
FIRST_RESIDENT = 100_000
TEXT = "Zebranie mieszkańców w czwartek o 18:00 w świetlicy. Zapraszamy!"
REPORT = "Dostarczono:"


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of `values` lie (nearest rank)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


class Tapper:
    """A resident who keeps opening an activity and going back to the list.

    Taps are fired on a schedule and timed afterwards from the server's records (the
    press, and the edit of that message that answered it).
    """

    def __init__(self, user: TgUser, activity_id: int, mean_interval: float) -> None:
        self.user = user
        self.activity_id = activity_id
        self.mean_interval = mean_interval

    async def open_list(self) -> None:
        """Get the activity list (not timed)."""
        await self.user.ask("/activities", "Zajęcia i spotkania", timeout=60)

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
            self.user.api.user_presses(self.user.user_id, message.message_id, screens[turn % 2])
            turn += 1
            delay = self.mean_interval * rng.uniform(0.5, 1.5)

    def latencies(self) -> tuple[list[tuple[float, float]], list[float]]:
        """(press time, seconds to the answering edit) per answered press; unanswered presses."""
        api = self.user.api
        chat = self.user.user_id
        edits = [e for e in api.events(chat) if e.kind == "edit"]
        found: list[tuple[float, float]] = []
        missing: list[float] = []
        for press in api.callback_presses(chat):
            if press.data not in (f"act:{self.activity_id}", "acts:0"):
                continue
            answer = next(
                (
                    e.time
                    for e in edits
                    if e.message_id == press.message_id and e.time >= press.time
                ),
                None,
            )
            if answer is None:
                missing.append(press.time)
            else:
                found.append((press.time, answer - press.time))
        return found, missing


@dataclass
class LoadFigures:
    """What one run measured."""

    processes: int
    residents: int
    elapsed: float = 0.0  # from pressing Send to the last copy
    copies_per_s: float = 0.0
    # Everything the server accepted (copies, replies, edits) per second while copies went out.
    messages_per_s: float = 0.0
    rate_limited: int = 0
    # 429s per chat over the whole run, setting up included (the animator's chat is 900).
    limited_chats: dict[int, int] = field(default_factory=dict)
    # Each 429: (seconds after Send was pressed, negative before; method, chat, limit met).
    refusals: list[tuple[float, str, int | None, str]] = field(default_factory=list)
    # Most messages the server accepted within any one second (its limit is 30).
    busiest_second: int = 0
    duplicates: int = 0
    # Of those, copies the killed process had handed to the server as it died.
    duplicates_at_kill: int = 0
    losses: int = 0
    latencies: list[float] = field(default_factory=list)
    unanswered: int = 0
    report_seen: bool = False
    state: str | None = None
    killed_at: float | None = None  # seconds after Send
    takeover_s: float | None = None  # until the copies' rate was back after the kill
    rate_before_kill: float = 0.0
    rate_after_kill: float = 0.0
    logs: str = ""

    @property
    def p50(self) -> float:
        """Median seconds from a press to its answer."""
        return percentile(self.latencies, 0.5)

    @property
    def p99(self) -> float:
        """99th percentile seconds from a press to its answer."""
        return percentile(self.latencies, 0.99)


def seed(engine: Engine, residents: int) -> int:
    """The animator, a programme of `residents` onboarded people, one activity; its id."""
    _, programme_id = seat_animator(engine, telegram_id=ANIMATOR)
    make_people(engine, residents, programme_id=programme_id, first_telegram_id=FIRST_RESIDENT)
    with transaction(engine) as session:
        programme = session.get(Programme, programme_id)
        assert programme is not None
        activity = make_activity(
            session, programme=programme, starts_at=datetime.now(UTC) + timedelta(days=3)
        )
        assert activity.id is not None
        return activity.id


def _copy_times(api: FakeBotApi, residents: int) -> list[float]:
    return [
        m.sent_at
        for i in range(residents)
        for m in api.messages(FIRST_RESIDENT + i)
        if m.body == TEXT
    ]


def _outbox_empty(engine: Engine) -> bool:
    with Session(engine) as session:
        left = session.exec(
            select(func.count())
            .select_from(PendingSend)
            .where(col(PendingSend.state).in_([SendState.PENDING.value, SendState.CLAIMED.value]))
        ).one()
    return int(left) == 0


def _overall_rate(samples: list[tuple[float, int]], first: float, last: float) -> float:
    """Everything the server accepted per second while the copies were going out."""
    inside = [(at, count) for at, count in samples if first <= at <= last]
    if len(inside) < 2:
        return 0.0
    (t0, n0), (t1, n1) = inside[0], inside[-1]
    return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0


def _takeover(times: list[float], killed: float) -> tuple[float, float, float]:
    """Copies/s in the 5 s before the kill, in the 5 s after it, and the seconds until a
    one-second window after the kill again held 80 % of the earlier rate."""
    before = sum(1 for t in times if killed - 5 <= t < killed) / 5
    after = sum(1 for t in times if killed <= t < killed + 5) / 5
    ordered = sorted(t for t in times if t >= killed)
    back = float("inf")
    for index, first in enumerate(ordered):
        window = sum(1 for t in ordered[index : index + 60] if t < first + 1.0)
        if window >= 0.8 * before:
            back = first - killed
            break
    return before, after, back


async def run_load(
    engine: Engine,
    database_url: str,
    workdir: Path,
    *,
    residents: int,
    tappers: int,
    tap_interval: float,
    processes: int = 1,
    kill_half_way: bool = False,
    extra_env: dict[str, str] | None = None,
) -> LoadFigures:
    """Seed, start the bot, send the announcement while tapping; measure everything."""
    figures = LoadFigures(processes=processes, residents=residents)
    activity_id = seed(engine, residents)
    api = FakeBotApi(token=TOKEN, rate_limit=RateLimit())
    await api.start()
    env = {"PALBOT_LOG_LEVEL": "WARNING", "PALBOT_QUIET_HOURS": "off", **(extra_env or {})}
    cluster: WebhookCluster | None = None
    bot: BotProcess | None = None
    try:
        if database_url.startswith("sqlite"):
            bot = BotProcess(
                bot_env(api, PALBOT_DATABASE_URL=database_url, **env),
                workdir,
                ["run"],
                log_path=workdir / "bot.log",
            )
            bot.start()
            await bot.wait_ready(api, timeout=60)
        else:
            cluster = WebhookCluster(api, database_url, workdir, count=processes, extra_env=env)
            await cluster.__aenter__()
        kill = None
        if cluster is not None and kill_half_way:
            running = cluster

            def kill() -> None:
                _progress_owner(engine, running).kill()

        await _announce_while_tapping(
            api, engine, figures, activity_id, tappers=tappers, tap_interval=tap_interval, kill=kill
        )
    finally:
        if cluster is not None:
            await cluster.__aexit__(None, None, None)
            figures.logs = cluster.logs()
        if bot is not None:
            await bot.terminate(timeout=30)
            figures.logs = bot.log_text()
        await api.stop()
    with Session(engine) as session:
        figures.state = session.exec(select(Broadcast.state)).first()
    return figures


def _progress_owner(engine: Engine, cluster: WebhookCluster) -> BotProcess:
    """The process editing the progress message (the hardest one to lose), else the first."""
    with Session(engine) as session:
        owner = session.exec(select(Broadcast.progress_owner)).first() or ""
    pid = owner.split(":")[1] if owner.count(":") >= 2 else ""
    return next((p for p in cluster.processes if str(p.pid) == pid), cluster.processes[0])


async def _announce_while_tapping(
    api: FakeBotApi,
    engine: Engine,
    figures: LoadFigures,
    activity_id: int,
    *,
    tappers: int,
    tap_interval: float,
    kill: Callable[[], object] | None,
) -> None:
    residents = figures.residents
    rng = random.Random(7)
    # Tappers spread over the programme, so their copies arrive throughout the run.
    step = max(1, residents // max(tappers, 1))
    taps = [
        Tapper(api.user(FIRST_RESIDENT + i * step), activity_id, tap_interval)
        for i in range(tappers)
    ]
    wave = asyncio.Semaphore(10)

    async def open_list(tapper: Tapper) -> None:
        async with wave:
            await tapper.open_list()

    await asyncio.gather(*(open_list(t) for t in taps))
    animator = api.user(ANIMATOR)
    await animator.ask("/animator", "Panel animatora", timeout=60)
    await animator.tap("Ogłoszenie", "Nowe ogłoszenie", timeout=60)
    await animator.ask(TEXT, "Kto ma dostać ogłoszenie?", timeout=60)
    await animator.tap("Wszyscy w programie", "Odbiorcy:", timeout=60)
    # A person reads the summary before pressing Send (the bot's own replies in the
    # animator's chat are a second apart, as Telegram wants).
    await asyncio.sleep(1.5)
    before = api.stats(include_chats=False)
    stop = asyncio.Event()
    tapping = [asyncio.create_task(t.run(stop, rng)) for t in taps]
    started = time.time()
    animator.press("Wyślij do")
    killed: float | None = None
    deadline = time.monotonic() + residents / 10 + 120
    sent = 0
    samples: list[tuple[float, int]] = []
    while time.monotonic() < deadline:
        # A cheap counter (the server shares this process); copies are checked at the end.
        now_stats = api.stats(include_chats=False)
        sent = now_stats["sends_accepted"] - before["sends_accepted"]
        samples.append((time.time(), sent + now_stats["edits_accepted"]))
        if kill is not None and killed is None and sent >= residents // 2:
            kill()
            killed = time.time()
        # Asking the database, not the server's records: a scan of thousands of chats
        # would stall the server (same event loop) and bunch up its arrivals.
        if sent >= residents and _outbox_empty(engine):
            break
        await asyncio.sleep(0.5)
    stop.set()
    await asyncio.gather(*tapping)
    times = _copy_times(api, residents)
    last_copy = max(times) if times else time.time()
    with contextlib.suppress(Exception):
        await api.wait_until(
            lambda: any(REPORT in m.body for m in api.messages(ANIMATOR)),
            30,
            description="the delivery report",
        )
        figures.report_seen = True
    await asyncio.sleep(3)  # anything sent twice would arrive now
    copies = [
        sum(1 for m in api.messages(FIRST_RESIDENT + i) if m.body == TEXT) for i in range(residents)
    ]
    figures.elapsed = last_copy - started
    figures.copies_per_s = residents / figures.elapsed if figures.elapsed > 0 else 0.0
    figures.messages_per_s = _overall_rate(samples, min(times, default=started), last_copy)
    figures.rate_limited = api.stats(include_chats=False)["rate_limited"] - before["rate_limited"]
    every = api.stats(include_chats=True)
    chats = every["chats"]
    figures.refusals = [
        (round(at - started, 2), method, chat, limit)
        for at, method, chat, limit in every["refusals"]
    ]
    figures.limited_chats = {
        int(chat): data["rate_limited"] for chat, data in chats.items() if data["rate_limited"]
    }
    # The busiest second at the server, to tell Telegram's overall limit from a chat's.
    arrivals = sorted(
        t for data in chats.values() for t in [*data["send_times"], *data["edit_times"]]
    )
    figures.busiest_second = max(
        (bisect.bisect_left(arrivals, t + 1.0) - i for i, t in enumerate(arrivals)), default=0
    )
    figures.duplicates = sum(1 for c in copies if c > 1)
    if killed is not None:
        # The one repeat a crash can cause (see schedules/dispatcher.py): a copy Telegram
        # accepted from the killed process before it could record that. Its first copy
        # reached the server in the moment before the kill.
        doubled = [FIRST_RESIDENT + i for i, c in enumerate(copies) if c > 1]
        figures.duplicates_at_kill = sum(
            1
            for chat in doubled
            if killed - 1.0
            <= min(m.sent_at for m in api.messages(chat) if m.body == TEXT)
            <= killed + 0.5
        )
    figures.losses = sum(1 for c in copies if c == 0)
    for tapper in taps:
        found, missing = tapper.latencies()
        # A tap in the killed process's hands when it died is lost with it (Telegram
        # does not resend an update it delivered); only those are not counted.
        figures.latencies.extend(seconds for _, seconds in found)
        figures.unanswered += sum(
            1 for at in missing if killed is None or not killed - 2 <= at <= killed
        )
    if killed is not None:
        figures.killed_at = killed - started
        figures.rate_before_kill, figures.rate_after_kill, figures.takeover_s = _takeover(
            times, killed
        )
