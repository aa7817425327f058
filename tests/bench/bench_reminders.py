"""Reminder benchmark: 5,000 reminders due in one minute, and start-up with 50,000 pending.

    .venv/bin/python -m tests.bench.bench_reminders
    .venv/bin/python -m tests.bench.bench_reminders --reminders 1000 --skip-startup

Part 1: `palbot run` runs as a subprocess against the local Bot API server in rate-limit
mode (30 messages/s overall, 1 per second per chat, 429 with retry_after beyond). 2,500
residents hold places in two activities each; their 5,000 reminders fall due at random
moments within one minute. Prints achieved messages/s, the 429 count, lateness p50/p99
(server receipt minus due time), duplicates and losses (counted per reminder from the
buttons' registration ids, and from the database).
Targets: >= 28 messages/s, zero duplicates and losses, a handful of 429s at most.

Part 2: the bot starts on a database holding 50,000 pending sends (reminders due over the
next month): prints the time from process start until it polls with the dispatcher's
timer set, and the process's peak memory; the same for an empty database, for scale.
Targets: under 3 s and under 250 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from storage.db import make_engine, transaction
from storage.messaging.reminders import reminder_key
from storage.migrate import upgrade_to_latest
from storage.models import (
    PendingSend,
    Person,
    Registration,
    RegistrationStatus,
    SendKind,
    SendState,
)
from storage.models.people import OnboardingStep
from tests.e2e.botapi import BotProcess, FakeBotApi, RateLimit, bot_env
from tests.support.signup import make_activity, make_programme

TOKEN = "123456:BENCH-reminders"
FIRST_TELEGRAM_ID = 200_000
LANGUAGES = ("pl", "pl", "pl", "uk", "en")


@contextlib.contextmanager
def _workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="palbot-bench-") as name:
        yield Path(name)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def seed(
    engine: Engine,
    *,
    people: int,
    per_person: int,
    first_due: datetime,
    spread: timedelta,
    activity_start: datetime,
) -> dict[int, datetime]:
    """People with places in `per_person` activities and one reminder each, due within
    `spread` from `first_due`; returns registration id → due time."""
    rng = random.Random(4)
    with transaction(engine) as session:
        programme = make_programme(session, name="PAL Benchmark")
        activities = []
        for i in range(per_person):
            activity = make_activity(
                session,
                programme=programme,
                places=people + 10,
                starts_at=activity_start + timedelta(hours=i),
                title=f"Warsztaty {i + 1}",
            )
            activities.append(activity)
        assert programme.id is not None
        programme_id = programme.id
        activity_ids = [a.id for a in activities]
    with transaction(engine) as session:
        session.execute(
            insert(Person),
            [
                {
                    "telegram_id": FIRST_TELEGRAM_ID + i,
                    "display_name": f"Osoba {i}",
                    "language": LANGUAGES[i % len(LANGUAGES)],
                    "onboarding_step": OnboardingStep.DONE,
                    "programme_id": programme_id,
                    "created_at": first_due,
                }
                for i in range(people)
            ],
        )
        person_ids = list(session.exec(select(Person.id).order_by(col(Person.id))))
        session.execute(
            insert(Registration),
            [
                {
                    "activity_id": activity_id,
                    "person_id": person_id,
                    "status": RegistrationStatus.CONFIRMED,
                    "created_at": first_due,
                }
                for activity_id in activity_ids
                for person_id in person_ids
            ],
        )
        registrations = session.exec(
            select(Registration.id, Registration.person_id, Registration.activity_id)
        ).all()
        dues: dict[int, datetime] = {}
        rows = []
        for registration_id, person_id, activity_id in registrations:
            assert registration_id is not None
            due = first_due + spread * rng.random()
            dues[registration_id] = due
            rows.append(
                {
                    "kind": SendKind.REMINDER.value,
                    "person_id": person_id,
                    "activity_id": activity_id,
                    "registration_id": registration_id,
                    "programme_id": programme_id,
                    "due_at": due,
                    "state": SendState.PENDING.value,
                    "attempts": 0,
                    "payload": {"offset": 3600, "last": False},
                    "dedupe_key": reminder_key(registration_id, timedelta(hours=1)),
                    "created_at": first_due,
                }
            )
        session.execute(insert(PendingSend), rows)
    return dues


async def reminders_due_in_one_minute(total: int, per_person: int) -> bool:
    """Part 1; returns whether the targets were met."""
    people = total // per_person
    with _workdir() as work:
        url = f"sqlite:///{work / 'palbot.sqlite3'}"
        engine = make_engine(url)
        upgrade_to_latest(engine)
        async with FakeBotApi(token=TOKEN, rate_limit=RateLimit()) as api:
            env = bot_env(
                api, PALBOT_DATABASE_URL=url, PALBOT_LOG_LEVEL="INFO", PALBOT_QUIET_HOURS="off"
            )
            async with BotProcess(env, work, ["run"], log_path=work / "bot.log") as bot:
                await bot.wait_ready(api, timeout=60)
                first_due = datetime.now(UTC) + timedelta(seconds=8)
                print(f"seeding {total} reminders for {people} residents…", flush=True)
                dues = seed(
                    engine,
                    people=people,
                    per_person=per_person,
                    first_due=first_due,
                    spread=timedelta(minutes=1),
                    activity_start=first_due + timedelta(hours=2),
                )
                print("waiting for every reminder…", flush=True)
                chats = [FIRST_TELEGRAM_ID + i for i in range(people)]

                def delivered() -> int:
                    return sum(len(api.messages(chat)) for chat in chats)

                deadline = time.monotonic() + total / 20 + 120
                last_report = 0.0
                while delivered() < total and time.monotonic() < deadline:
                    await asyncio.sleep(1.0)
                    if time.monotonic() - last_report > 15:
                        last_report = time.monotonic()
                        print(f"  {delivered()} / {total} sent", flush=True)
                await asyncio.sleep(3.0)  # anything arriving late would be a duplicate
                stats = api.stats(include_chats=False)
                assert bot.pid is not None
                cpu = psutil.Process(bot.pid).cpu_times()
                assert await bot.terminate(timeout=30) == 0, bot.log_tail()
                pacer = bot.log_text().split("pacer: ", 1)[-1].splitlines()[0]
            messages = [m for chat in chats for m in api.messages(chat)]
        with Session(engine) as session:
            states = Counter(session.exec(select(PendingSend.state)).all())
        engine.dispose()

    per_registration: Counter[int] = Counter()
    lateness = []
    for message in messages:
        data = next(
            (
                b.callback_data
                for b in message.buttons
                if (b.callback_data or "").startswith("rem:y:")
            ),
            None,
        )
        if data is None:
            continue
        registration_id = int(data.removeprefix("rem:y:"))
        per_registration[registration_id] += 1
        lateness.append(message.sent_at - dues[registration_id].timestamp())
    duplicates = sum(n - 1 for n in per_registration.values() if n > 1)
    losses = sum(1 for registration_id in dues if per_registration[registration_id] == 0)
    times = sorted(m.sent_at for m in messages)
    rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else float("nan")
    print(f"reminders: {total} due within one minute to {people} residents")
    print(f"  achieved: {rate:.1f} messages/s (target >= 28)")
    print(f"  429 answers: {stats['rate_limited']} (target: a handful at most)")
    print(
        f"  lateness: p50 {_percentile(lateness, 0.5):.1f} s, "
        f"p99 {_percentile(lateness, 0.99):.1f} s, max {max(lateness, default=0):.1f} s "
        f"(at 30/s, {total} need {total / 30:.0f} s however they are sent)"
    )
    print(f"  duplicates: {duplicates}, losses: {losses} (target 0 and 0)")
    print(f"  database: {dict(states)}")
    print(
        f"  bot process: {(cpu.user + cpu.system) / max(len(messages), 1) * 1000:.1f} ms CPU "
        f"per message; pacer: {pacer}"
    )
    return (
        rate >= 28
        and duplicates == 0
        and losses == 0
        and stats["rate_limited"] <= 5
        and states == Counter({SendState.SENT.value: total})
    )


def seed_pending(engine: Engine, count: int) -> None:
    """`count` reminders due over the next month (nothing due at start)."""
    now = datetime.now(UTC)
    people = count // 2
    seed(
        engine,
        people=people,
        per_person=2,
        first_due=now + timedelta(days=1),
        spread=timedelta(days=30),
        activity_start=now + timedelta(days=40),
    )
    with Session(engine) as session:
        pending = session.exec(select(func.count()).select_from(PendingSend)).one()
        assert pending == count, pending


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def start_up(pending: int) -> tuple[float, float, float]:
    """Seconds from process start to polling with the timer set, the dispatcher's own
    share of that (rebuilding its timer from the table), and peak memory in MB."""
    with _workdir() as work:
        url = f"sqlite:///{work / 'palbot.sqlite3'}"
        engine = make_engine(url)
        upgrade_to_latest(engine)
        if pending:
            seed_pending(engine, pending)
        async with FakeBotApi(token=TOKEN) as api:
            env = bot_env(api, PALBOT_DATABASE_URL=url, PALBOT_LOG_LEVEL="INFO")
            bot = BotProcess(env, work, ["run"], log_path=work / "bot.log")
            started = time.monotonic()
            async with bot:
                await bot.wait_ready(api, timeout=60)
                await api.wait_until(
                    lambda: "outbox ready in" in bot.log_text(),
                    60,
                    description="the dispatcher set its timer",
                )
                elapsed = time.monotonic() - started
                ready = bot.log_text().split("outbox ready in ", 1)[1]
                rebuild = float(ready.split(" ms", 1)[0]) / 1000
                await asyncio.sleep(2.0)  # let anything started lazily settle
                assert bot.pid is not None
                peak = _peak_rss_mb(bot.pid)
                if pending:
                    with Session(engine) as session:
                        due = session.exec(select(func.min(PendingSend.due_at))).one()
                    assert f"next send due at {due}" in bot.log_text(), (
                        "the timer is not the earliest pending send"
                    )
                assert await bot.terminate(timeout=30) == 0, bot.log_tail()
        engine.dispose()
    return elapsed, rebuild, peak


async def main() -> int:
    """Run both parts and print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reminders", type=int, default=5000)
    parser.add_argument("--per-person", type=int, default=2)
    parser.add_argument("--pending", type=int, default=50_000)
    parser.add_argument("--skip-startup", action="store_true")
    parser.add_argument("--skip-send", action="store_true")
    args = parser.parse_args()
    ok = True
    if not args.skip_send:
        ok &= await reminders_due_in_one_minute(args.reminders, args.per_person)
    if not args.skip_startup:
        empty_time, empty_rebuild, empty_mb = await start_up(0)
        full_time, full_rebuild, full_mb = await start_up(args.pending)
        print(
            f"start-up with {args.pending} pending sends: {full_time:.2f} s to polling with "
            f"the timer set (the outbox's share: {full_rebuild * 1000:.0f} ms), "
            f"peak {full_mb:.0f} MB (targets < 3 s, < 250 MB)"
        )
        print(
            f"start-up with an empty outbox: {empty_time:.2f} s "
            f"(the outbox's share: {empty_rebuild * 1000:.0f} ms), peak {empty_mb:.0f} MB"
        )
        ok &= full_time < 3 and full_mb < 250
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
