"""Consultation benchmark on SQLite: opening for a whole programme, answer taps, the sheet.

    .venv/bin/python -m tests.bench.bench_consultation [--residents 5000] [--taps 2000]

(1) Opening a consultation for every resident of a programme: one transaction writes the
consultation and one pending send per person (the time every other database call of the
bot waits behind it). (2) Answer taps through the storage rule, one transaction each, as
the handler makes them: per-tap time, first taps (code and row created) and changes.
(3) The evaluator's Consultations sheet for the year. Prints figures and one RESULT line.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import select

from evaluation.options import ReportOptions
from evaluation.report import build_report
from storage.activities.organising import Actor
from storage.consultations.answers import Answerer, choose
from storage.consultations.running import close_now, create_consultation
from storage.db import make_engine, read_only, transaction
from storage.migrate import upgrade_to_latest
from storage.models import PendingSend, Programme
from tests.support.signup import make_people, make_person, make_programme

ZONE = ZoneInfo("Europe/Warsaw")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def main() -> None:
    """Run the three measurements and print them."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=5000)
    parser.add_argument("--taps", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        upgrade_to_latest(engine)
        with transaction(engine) as session:
            programme = make_programme(session, name="PAL Bench")
            animator = make_person(session, telegram_id=1, name="Ewa", programme=programme)
            assert programme.id is not None and animator.id is not None
            programme_id, animator_id = programme.id, animator.id
        people = make_people(engine, args.residents, programme_id=programme_id)
        actor = Actor(person_id=animator_id, programme_id=programme_id, is_admin=False)
        draft = {
            "kind": "poll",
            "audience": "programme",
            "show_results": True,
            "opens": "2026-11-23",
            "closes": "2026-11-30",
            "questions": [
                {
                    "text": "Kiedy?",
                    "multiple": False,
                    "options": ["Rano", "Po południu", "Wieczorem"],
                }
            ],
        }
        started = time.perf_counter()
        with transaction(engine) as session:
            consultation = create_consultation(
                session, draft=draft, programme_id=programme_id, actor=actor, now=NOW, zone=ZONE
            )
            assert consultation.id is not None
            cid = consultation.id
        opening = time.perf_counter() - started
        with read_only(engine) as session:
            queued = len(session.exec(select(PendingSend.id)).all())
        print(
            f"opening for {args.residents} residents: {opening * 1000:.0f} ms, "
            f"{queued} sends queued"
        )

        def tap(person_id: int, option: int) -> float:
            begin = time.perf_counter()
            with transaction(engine) as session:
                choose(
                    session,
                    consultation_id=cid,
                    who=Answerer(person_id),
                    question=0,
                    option=option,
                    now=NOW,
                )
            return time.perf_counter() - begin

        taps = min(args.taps, len(people))
        first = [tap(people[i], i % 3) for i in range(taps)]
        again = [tap(people[i], (i + 1) % 3) for i in range(taps)]
        for name, times in (("first tap", first), ("changed answer", again)):
            ordered = sorted(times)
            print(
                f"{name}: p50 {statistics.median(times) * 1000:.2f} ms, "
                f"p99 {ordered[int(len(ordered) * 0.99) - 1] * 1000:.2f} ms"
            )
        with transaction(engine) as session:
            close_now(session, consultation_id=cid, actor=actor, now=NOW + timedelta(hours=1))
        started = time.perf_counter()
        with read_only(engine) as session:
            found = session.get(Programme, programme_id)
            assert found is not None
            build_report(
                session,
                programme=found,
                now=NOW + timedelta(days=1),
                options=ReportOptions(year=2026),
            )
        report = time.perf_counter() - started
        print(f"whole report with the Consultations sheet: {report:.2f} s")
        engine.dispose()
    print(
        f"RESULT opening_ms={opening * 1000:.0f} "
        f"tap_p50_ms={statistics.median(first) * 1000:.2f} "
        f"change_p50_ms={statistics.median(again) * 1000:.2f} report_s={report:.2f}"
    )


if __name__ == "__main__":
    main()
