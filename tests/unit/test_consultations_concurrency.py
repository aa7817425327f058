"""Consultations under real concurrency, on SQLite and PostgreSQL: a double tap keeps both
toggles, and several processes opening at once invite everyone exactly once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from storage.consultations.answers import Answerer, choose
from storage.consultations.running import advance_consultations, create_consultation
from storage.db import read_only, transaction
from storage.models import ConsultationResponse, PendingSend
from tests.support.animator import make_scene

THREADS = 6
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ZONE = ZoneInfo("Europe/Warsaw")


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest) -> Engine:
    name = "engine" if request.param == "sqlite" else "postgres_engine"
    engine = request.getfixturevalue(name)
    assert isinstance(engine, Engine)
    return engine


def _all_at_once(engine: Engine, works: list[Callable[[Session], object]]) -> list[object]:
    barrier = threading.Barrier(len(works))

    def run(work: Callable[[Session], object]) -> object:
        barrier.wait()
        with transaction(engine) as session:
            return work(session)

    with ThreadPoolExecutor(max_workers=len(works)) as pool:
        return list(pool.map(run, works))


def _consultation(engine: Engine, opens: str) -> tuple[int, list[int]]:
    scene = make_scene(engine, NOW, places=3, people=5)
    draft = {
        "kind": "poll",
        "audience": "programme",
        "show_results": False,
        "opens": opens,
        "closes": "2026-11-30",
        "questions": [
            {"text": "Co?", "multiple": True, "options": [f"Opcja {i}" for i in range(THREADS)]}
        ],
    }
    with transaction(engine) as session:
        found = create_consultation(
            session,
            draft=draft,
            programme_id=scene.programme_id,
            actor=scene.actor,
            now=NOW,
            zone=ZONE,
        )
        assert found.id is not None
        return found.id, scene.placed + scene.reserve


def test_many_quick_taps_of_one_person_are_all_kept(db: Engine) -> None:
    cid, people = _consultation(db, "2026-11-23")
    who = Answerer(people[0])

    def tap(option: int) -> Callable[[Session], object]:
        return lambda session: choose(
            session, consultation_id=cid, who=who, question=0, option=option, now=NOW
        )

    _all_at_once(db, [tap(i) for i in range(THREADS)])
    with read_only(db) as session:
        rows = session.exec(select(ConsultationResponse)).all()
    assert len(rows) == 1
    assert rows[0].choices == {"0": list(range(THREADS))}


def test_processes_opening_at_once_invite_everyone_once(db: Engine) -> None:
    cid, people = _consultation(db, "2026-11-24")
    due = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
    outcomes = _all_at_once(
        db, [lambda session: advance_consultations(session, now=due) for _ in range(THREADS)]
    )
    opened = [cid for outcome in outcomes for cid in getattr(outcome, "opened", [])]
    with read_only(db) as session:
        sends = session.exec(select(PendingSend).where(PendingSend.kind == "consultation")).all()
    assert sorted(s.person_id or 0 for s in sends) == sorted(people)
    assert opened.count(cid) == 1
