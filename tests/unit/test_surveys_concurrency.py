"""Survey steps under real concurrency (double taps from two processes), on SQLite and
PostgreSQL: one response, one answer, one submission."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from schedules.clock import FrozenClock
from storage.db import transaction
from storage.models import ParticipantCode, Programme, SurveyAnswer, SurveyResponse, SurveyVersion
from storage.surveys.questionnaire_files import questionnaire_cache
from storage.surveys.questionnaires import SurveyPhase
from storage.surveys.responses import (
    AlreadySubmitted,
    Channel,
    StaleStep,
    answer,
    load_view,
    start_or_resume,
    submit,
)
from tests.support.signup import make_person, make_programme

THREADS = 8


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest) -> Engine:
    questionnaire_cache.clear()
    name = "engine" if request.param == "sqlite" else "postgres_engine"
    engine = request.getfixturevalue(name)
    assert isinstance(engine, Engine)
    return engine


def _all_at_once(engine: Engine, work: Callable[[Session], object]) -> list[object]:
    """Run `work` in THREADS transactions that start together; refusals are returned."""
    barrier = threading.Barrier(THREADS)

    def run(_: int) -> object:
        barrier.wait()
        try:
            with transaction(engine) as session:
                return work(session)
        except (StaleStep, AlreadySubmitted) as exc:
            return exc

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(run, range(THREADS)))


def _seed(engine: Engine) -> tuple[int, int]:
    with transaction(engine) as session:
        programme = make_programme(session)
        person = make_person(session, telegram_id=4001, programme=programme)
        assert programme.id is not None and person.id is not None
        return programme.id, person.id


def test_simultaneous_starts_make_one_response_and_one_code(db: Engine, clock: FrozenClock) -> None:
    programme_id, person_id = _seed(db)

    def start(session: Session) -> int | None:
        programme = session.get(Programme, programme_id)
        assert programme is not None
        return start_or_resume(
            session,
            person_id=person_id,
            programme=programme,
            phase=SurveyPhase.INITIAL,
            channel=Channel.CHAT,
            now=clock.now(),
        ).id

    ids = _all_at_once(db, start)
    assert len(set(ids)) == 1
    with Session(db) as session:
        assert len(session.exec(select(SurveyResponse)).all()) == 1
        assert len(session.exec(select(ParticipantCode)).all()) == 1
        assert len(session.exec(select(SurveyVersion)).all()) == 1


def test_double_taps_store_one_answer_and_submit_once(db: Engine, clock: FrozenClock) -> None:
    programme_id, person_id = _seed(db)
    with transaction(db) as session:
        programme = session.get(Programme, programme_id)
        assert programme is not None
        response = start_or_resume(
            session,
            person_id=person_id,
            programme=programme,
            phase=SurveyPhase.INITIAL,
            channel=Channel.CHAT,
            now=clock.now(),
        )
        assert response.id is not None
        response_id = response.id

    outcomes = _all_at_once(
        db, lambda s: answer(s, response_id=response_id, index=0, value="3", now=clock.now())
    )
    assert sum(isinstance(o, StaleStep) for o in outcomes) == THREADS - 1
    with transaction(db) as session:
        assert load_view(session, response_id=response_id).response.position == 1
        for index in range(1, 12):
            answer(
                session,
                response_id=response_id,
                index=index,
                value="4",
                now=clock.now() + timedelta(seconds=index),
            )
    outcomes = _all_at_once(db, lambda s: submit(s, response_id=response_id, now=clock.now()))
    assert sum(isinstance(o, AlreadySubmitted) for o in outcomes) == THREADS - 1
    with Session(db) as session:
        assert len(session.exec(select(SurveyAnswer)).all()) == 12
        submitted = session.get(SurveyResponse, response_id)
        assert submitted is not None and submitted.submitted_at is not None
