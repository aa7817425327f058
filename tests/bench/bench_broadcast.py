"""Broadcast benchmark: an announcement to thousands of residents through a rate-limiting server.

    .venv/bin/python -m tests.bench.bench_broadcast
    .venv/bin/python -m tests.bench.bench_broadcast --residents 1000 --tappers 20
    .venv/bin/python -m tests.bench.bench_broadcast --processes 3 --postgres URL [--kill-half-way]

`palbot run` runs as subprocesses against the local Bot API server in rate-limit mode
(30 messages/s overall, 1 per second per chat, 429 with retry_after beyond): one polling
process on SQLite, or `--processes N` webhook processes on one PostgreSQL database (a
fresh database is created on the server of `--postgres`, or of PALBOT_TEST_POSTGRES_URL,
and dropped afterwards). An animator sends an announcement to the whole programme from
the chat; meanwhile residents keep tapping buttons (open an activity, back to the list).
The bot spreads announcements and everything else at up to 30/s, replies first, each
process within its share of Telegram's limit. Prints messages/s overall (copies, replies
and edits the server accepted while the copies went out) and of the copies alone, the 429 count, the
p50/p99 of the taps (press reaching the server to the edited screen), duplicates and
losses, and the machine's load; ends with one RESULT line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from storage.db import make_engine
from storage.migrate import upgrade_to_latest
from tests.support.broadcast_load import LoadFigures, run_load

POSTGRES_ENV = "PALBOT_TEST_POSTGRES_URL"


@contextlib.contextmanager
def _database(postgres: str | None, workdir: Path) -> Iterator[str]:
    """A fresh database: a new one on the PostgreSQL server, or an SQLite file."""
    if postgres is None:
        yield f"sqlite:///{workdir / 'palbot.sqlite3'}"
        return
    server = make_url(postgres)
    name = f"palbot_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _load() -> str:
    with contextlib.suppress(OSError):
        return Path("/proc/loadavg").read_text().strip()
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


async def run(args: argparse.Namespace, postgres: str | None) -> LoadFigures:
    """Run the scenario once and return its figures."""
    with tempfile.TemporaryDirectory(prefix="palbot-bench-") as folder:
        workdir = Path(folder)
        with _database(postgres, workdir) as url:
            engine = make_engine(url)
            try:
                upgrade_to_latest(engine)
                return await run_load(
                    engine,
                    url,
                    workdir,
                    residents=args.residents,
                    tappers=args.tappers,
                    tap_interval=args.tap_interval,
                    processes=args.processes,
                    kill_half_way=args.kill_half_way,
                )
            finally:
                engine.dispose()


def report(figures: LoadFigures, load_before: str, load_after: str) -> bool:
    """Print the figures; whether every target was met."""
    f = figures
    print(f"  total time: {f.elapsed:.1f} s from pressing Send to the last copy")
    print(
        f"  overall: {f.messages_per_s:.1f} messages/s accepted while the copies went out "
        f"(target >= 27 with several processes); copies alone {f.copies_per_s:.1f}/s"
    )
    print(f"  429 answers from the server after Send: {f.rate_limited}")
    for after, method, chat, limit in (r for r in f.refusals if r[0] >= 0):
        print(f"    {after:.2f} s after Send: {method} to chat {chat}, {limit} limit")
    print(
        f"  duplicates: {f.duplicates} ({f.duplicates_at_kill} sent by the killed process "
        f"as it died), losses: {f.losses}"
    )
    print(
        f"  interactive taps: {len(f.latencies)} answered, {f.unanswered} unanswered; "
        f"p50 {f.p50 * 1000:.0f} ms, p99 {f.p99 * 1000:.0f} ms (target p99 < 1500 ms)"
    )
    if f.killed_at is not None:
        print(
            f"  SIGKILL at {f.killed_at:.1f} s: copies {f.rate_before_kill:.1f}/s in the 5 s "
            f"before, {f.rate_after_kill:.1f}/s in the 5 s after; back to 80 % within "
            f"{f.takeover_s:.1f} s"
        )
    print(
        f"  delivery report in the animator's chat: {'yes' if f.report_seen else 'NO'}; "
        f"broadcast state: {f.state}"
    )
    print(
        f"  machine load (/proc/loadavg) before: {load_before}; after: {load_after} "
        f"on {os.cpu_count()} cores"
    )
    if "Traceback" in f.logs:
        start = f.logs.find("Traceback")
        print("  a process logged a traceback:\n" + f.logs[start : start + 3000])
    ok = (
        f.rate_limited == 0
        and f.duplicates == f.duplicates_at_kill
        and f.losses == 0
        and f.p99 < 1.5
        and f.report_seen
        and (f.processes == 1 or f.messages_per_s >= 27)
    )
    print("  -> " + ("all targets met" if ok else "TARGET MISSED"))
    return ok


def main() -> int:
    """Parse arguments, run, print the figures and the RESULT line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=3000)
    parser.add_argument("--tappers", type=int, default=40)
    parser.add_argument(
        "--tap-interval", type=float, default=8.0, help="mean seconds between one tapper's taps"
    )
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument(
        "--postgres",
        help="PostgreSQL server URL (default: "
        f"${POSTGRES_ENV}; SQLite when neither is given and --processes 1)",
    )
    parser.add_argument(
        "--kill-half-way",
        action="store_true",
        help="SIGKILL the process showing the progress once half is sent",
    )
    args = parser.parse_args()
    postgres = args.postgres or os.environ.get(POSTGRES_ENV)
    if args.processes > 1 and not postgres:
        parser.error(f"several processes need PostgreSQL: --postgres URL or ${POSTGRES_ENV}")
    if args.processes == 1 and not args.postgres:
        postgres = None  # one process: SQLite, as a default deployment
    print(
        f"announcement to {args.residents} residents from {args.processes} process(es) on "
        f"{'PostgreSQL' if postgres else 'SQLite'}, {args.tappers} residents tapping "
        f"meanwhile (one tap per ~{args.tap_interval:g} s each); server limits 30/s, 1/s "
        f"per chat"
    )
    load_before = _load()
    figures = asyncio.run(run(args, postgres))
    ok = report(figures, load_before, _load())
    print(
        f"RESULT processes={args.processes} msg_per_s={figures.messages_per_s:.1f} "
        f"r429={figures.rate_limited} duplicates={figures.duplicates} "
        f"losses={figures.losses} p99_ms={figures.p99 * 1000:.0f}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
