"""Evaluation report benchmark: a large programme, the full report, time and memory.

    .venv/bin/python -m tests.bench.bench_report                    # SQLite, default sizes
    .venv/bin/python -m tests.bench.bench_report --postgres URL     # also on PostgreSQL
    .venv/bin/python -m tests.bench.bench_report --participants 2000 --activities 400 \\
        --registrations 8000 --responses 1600                       # a smaller run

Data (bulk-inserted with SQLAlchemy Core): one programme over three years (2024–2026),
10,000 participants, 2,000 activities in 8 categories, 40,000 sign-ups (places, reserve
list, cancellations, attendance, 5 % by an animator), 8,000 initial and 8,000 final
surveys of the default questionnaire (12 statements initially, 15 at the end: 216,000
answers; 7,000 matched pairs).

Measured, each in a fresh process state: (1) the report as the chat builds it — read-only
snapshot, indicators, comparison, disclosure control, XLSX and two PNG charts in memory;
(2) the same with `--row-level` sheets. Printed: wall time, peak resident memory (psutil,
sampled every 10 ms, and its growth over the process before the report), and the peak of
Python allocations (tracemalloc, in a separate run because tracing slows code down).
Target: < 10 s and < 500 MB.
"""

from __future__ import annotations

import argparse
import gc
import random
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import insert, text
from sqlalchemy.engine import Engine

from evaluation.export import report_files
from evaluation.options import ReportOptions
from storage.db import make_engine
from storage.migrate import upgrade_to_latest
from storage.models import (
    Activity,
    ParticipantCode,
    Person,
    Programme,
    Registration,
    SurveyAnswer,
    SurveyResponse,
    SurveyVersion,
)
from storage.surveys.questionnaire_files import load_questionnaire
from storage.surveys.questionnaires import default_questionnaire_path, items_for_phase

CATEGORIES = [
    "Warsztaty",
    "Spotkania sąsiedzkie",
    "Wolontariat",
    "Sport",
    "Kultura",
    "Akademia Lidera",
    "Wyjazdy studyjne",
    "Konsultacje",
]
NOW = datetime(2026, 12, 20, 12, tzinfo=UTC)
BATCH = 5_000


@dataclass
class Sizes:
    """How big the generated programme is."""

    participants: int = 10_000
    activities: int = 2_000
    registrations: int = 40_000
    responses: int = 8_000


def _batched(engine: Engine, table: Any, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        for start in range(0, len(rows), BATCH):
            conn.execute(insert(table), rows[start : start + BATCH])


def seed(engine: Engine, sizes: Sizes, rng: random.Random) -> int:
    """Bulk-insert the programme; returns its id."""
    with engine.begin() as conn:
        programme_id = conn.execute(
            insert(Programme.__table__).values(  # type: ignore[attr-defined]
                name="PAL Benchmark",
                survey_followups=True,
                keep_answers_on_erasure=True,
                created_at=NOW - timedelta(days=1100),
            )
        ).inserted_primary_key[0]
    created = NOW - timedelta(days=1100)
    animators = 5
    people = [
        {
            "id": i + 1,
            "telegram_id": 900_000_000 + i if i % 20 else None,
            "display_name": f"Uczestnik {i}",
            "language": "pl",
            "onboarding_step": "done",
            "programme_id": programme_id,
            "created_by_id": 1 if i % 20 == 0 else None,
            "paper_notice_signed": False,
            "created_at": created,
        }
        for i in range(animators, animators + sizes.participants)
    ]
    staff = [
        {
            "id": i + 1,
            "telegram_id": 800_000_000 + i,
            "display_name": f"Animator {i}",
            "language": "pl",
            "onboarding_step": "done",
            "paper_notice_signed": False,
            "created_at": created,
        }
        for i in range(animators)
    ]
    _batched(engine, Person.__table__, staff + people)  # type: ignore[attr-defined]
    start = datetime(2024, 1, 8, 15, tzinfo=UTC)
    span = (datetime(2026, 12, 18, tzinfo=UTC) - start).total_seconds()
    activities = []
    for i in range(sizes.activities):
        starts = start + timedelta(seconds=rng.uniform(0, span))
        activities.append(
            {
                "id": i + 1,
                "programme_id": programme_id,
                "title": f"Zajęcia {i}",
                "category": CATEGORIES[i % len(CATEGORIES)],
                "description": "",
                "venue": "Klub",
                "starts_at": starts,
                "ends_at": starts + timedelta(hours=2),
                "places": rng.choice([8, 10, 12, 15, 20, 30]),
                "status": "cancelled" if rng.random() < 0.04 else "published",
                "created_at": created,
                "updated_at": created,
            }
        )
    _batched(engine, Activity.__table__, activities)  # type: ignore[attr-defined]
    registrations = []
    seen: set[tuple[int, int]] = set()
    person_ids = [p["id"] for p in people]
    while len(registrations) < sizes.registrations:
        activity = activities[rng.randrange(len(activities))]
        person = rng.choice(person_ids)
        if (activity["id"], person) in seen:
            continue
        seen.add((activity["id"], person))
        roll = rng.random()
        status = "cancelled" if roll < 0.08 else "reserve" if roll < 0.14 else "confirmed"
        reserve = status == "reserve" or (status == "confirmed" and rng.random() < 0.06)
        ended = activity["ends_at"] <= NOW and activity["status"] != "cancelled"
        registrations.append(
            {
                "activity_id": activity["id"],
                "person_id": person,
                "status": status,
                "joined_reserve": reserve,
                "promoted_at": activity["starts_at"] - timedelta(days=1)
                if reserve and status == "confirmed"
                else None,
                "attended": ended and status == "confirmed" and rng.random() < 0.78,
                "proxy_by_id": 1 if rng.random() < 0.05 else None,
                "created_at": activity["starts_at"] - timedelta(days=5),
            }
        )
    _batched(engine, Registration.__table__, registrations)  # type: ignore[attr-defined]
    _surveys(engine, programme_id, person_ids, sizes, rng)
    return int(programme_id)


def _surveys(
    engine: Engine, programme_id: int, person_ids: list[int], sizes: Sizes, rng: random.Random
) -> None:
    q = load_questionnaire(default_questionnaire_path())
    with engine.begin() as conn:
        conn.execute(
            insert(SurveyVersion.__table__),
            [
                {  # type: ignore[attr-defined]
                    "questionnaire_id": q.id,
                    "version": q.version,
                    "fingerprint": q.fingerprint,
                    "definition": q.definition(),
                    "first_seen_at": NOW - timedelta(days=1100),
                }
            ],
        )
    respondents = person_ids[: sizes.responses + sizes.responses // 8]
    codes = [
        {
            "id": i + 1,
            "code": f"C{i:07d}",
            "person_id": pid,
            "programme_id": programme_id,
            "created_at": NOW,
        }
        for i, pid in enumerate(respondents)
    ]
    _batched(engine, ParticipantCode.__table__, codes)  # type: ignore[attr-defined]
    initial = codes[: sizes.responses]
    final = codes[len(codes) - sizes.responses :]
    responses, answers = [], []
    response_id = 0
    for phase, group, year_start in (("initial", initial, 2024), ("final", final, 2026)):
        items = items_for_phase(q, phase)
        for code in group:
            response_id += 1
            submitted = datetime(year_start, 1, 1, tzinfo=UTC) + timedelta(days=rng.uniform(0, 340))
            responses.append(
                {
                    "id": response_id,
                    "participant_code_id": code["id"],
                    "programme_id": programme_id,
                    "phase": phase,
                    "questionnaire_id": q.id,
                    "questionnaire_version": q.version,
                    "channel": "proxy" if code["id"] % 20 == 0 else "chat",
                    "position": len(items),
                    "started_at": submitted - timedelta(minutes=6),
                    "submitted_at": submitted,
                }
            )
            lift = 1 if phase == "final" and rng.random() < 0.4 else 0
            for item in items:
                raw = min(5, max(1, rng.choice([2, 3, 3, 4, 4, 5]) + lift))
                value = None if rng.random() < 0.02 else str(raw)
                answers.append(
                    {
                        "response_id": response_id,
                        "item_id": item.id,
                        "value": value,
                        "answered_at": submitted,
                    }
                )
    _batched(engine, SurveyResponse.__table__, responses)  # type: ignore[attr-defined]
    _batched(engine, SurveyAnswer.__table__, answers)  # type: ignore[attr-defined]


class PeakRss:
    """Samples this process's resident memory every 10 ms in a thread."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.start = self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            self._stop.wait(0.01)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)


def measure(name: str, run: Callable[[], Any]) -> None:
    """Time one run with RSS sampling, then trace its Python allocations in another."""
    gc.collect()
    with PeakRss() as rss:
        started = time.perf_counter()
        result = run()
        elapsed = time.perf_counter() - started
    del result
    gc.collect()
    tracemalloc.start()
    run()
    _, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    mb = 1024 * 1024
    print(
        f"{name:<34} {elapsed:6.2f} s   peak RSS {rss.peak / mb:6.0f} MB "
        f"(+{(rss.peak - rss.start) / mb:.0f} MB during the report)   "
        f"peak Python allocations {traced / mb:6.0f} MB"
    )


def bench(url: str, sizes: Sizes, label: str) -> None:
    """Seed one database and measure the report on it."""
    engine = make_engine(url)
    upgrade_to_latest(engine)
    started = time.perf_counter()
    programme_id = seed(engine, sizes, random.Random(2026))
    with engine.connect() as conn:
        counted = {
            t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("person", "activity", "registration", "surveyresponse", "surveyanswer")
        }
    print(f"[{label}] seeded in {time.perf_counter() - started:.1f} s: {counted}")

    def chat_report(row_level: bool = False) -> Any:
        files = report_files(
            engine,
            programme_id=programme_id,
            now=NOW,
            options=ReportOptions(language="pl", row_level=row_level),
        )
        assert files.workbook and len(files.charts) == 2
        return files

    chat_report()  # warm-up: imports, font cache, first query plans
    measure(f"[{label}] report (xlsx + 2 charts)", chat_report)
    measure(f"[{label}] report --row-level", lambda: chat_report(True))
    engine.dispose()


def main() -> None:
    """Parse sizes, run on SQLite (and PostgreSQL if given), print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=Sizes.participants)
    parser.add_argument("--activities", type=int, default=Sizes.activities)
    parser.add_argument("--registrations", type=int, default=Sizes.registrations)
    parser.add_argument(
        "--responses",
        type=int,
        default=Sizes.responses,
        help="initial surveys, and as many final ones",
    )
    parser.add_argument("--postgres", metavar="URL", help="an EMPTY database to fill")
    args = parser.parse_args()
    sizes = Sizes(args.participants, args.activities, args.registrations, args.responses)
    with tempfile.TemporaryDirectory() as folder:
        bench(f"sqlite:///{Path(folder) / 'bench.sqlite3'}", sizes, "sqlite")
    if args.postgres:
        bench(args.postgres, sizes, "postgres")
    print("target: < 10 s and < 500 MB")


if __name__ == "__main__":
    main()
