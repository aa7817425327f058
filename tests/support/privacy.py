"""Factories for data-rights tests: a resident with a full history, and ways to look for them.

Names and ids are distinctive on purpose, so a search of a whole database file or an
export cannot find them by accident.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.activities.seats import sign_up
from storage.messaging.outbox import enqueue
from storage.models import (
    Dialog,
    ParticipantCode,
    Person,
    Programme,
    Registration,
    RoleGrant,
    SendKind,
    SurveyAnswer,
    SurveyResponse,
    SurveyVersion,
)
from storage.surveys.questionnaires import from_definition
from tests.support.signup import make_activity, make_person, make_programme

# A questionnaire with two agreement items and one free-text item.
QUESTIONNAIRE: dict[str, Any] = {
    "id": "privacy_test",
    "version": "1",
    "title": {"pl": "Ankieta testowa", "uk": "Тестова анкета", "en": "Test survey"},
    "intro": {"pl": "Kilka pytań.", "en": "A few questions."},
    "scales": {
        "agree": {
            "labels": [
                {"pl": "Zdecydowanie się nie zgadzam", "en": "Strongly disagree"},
                {"pl": "Raczej się nie zgadzam", "en": "Disagree"},
                {"pl": "Trudno powiedzieć", "en": "Hard to say"},
                {"pl": "Raczej się zgadzam", "en": "Agree"},
                {"pl": "Zdecydowanie się zgadzam", "en": "Strongly agree"},
            ]
        }
    },
    "items": [
        {
            "id": "q1",
            "type": "likert",
            "scale": "agree",
            "text": {"pl": "Czuję się potrzebna w okolicy.", "en": "I feel needed nearby."},
        },
        {
            "id": "q2",
            "type": "likert",
            "scale": "agree",
            "reverse": True,
            "text": {
                "pl": "Trudno mi rozmawiać z nowymi ludźmi.",
                "en": "I find it hard to talk to new people.",
            },
        },
        {
            "id": "note",
            "type": "text",
            "max_length": 500,
            "text": {"pl": "Co chcesz nam powiedzieć?", "en": "What would you like to tell us?"},
        },
    ],
}


@dataclass
class Resident:
    """Ids of everything made for one resident with a history."""

    person_id: int
    telegram_id: int
    name: str
    free_text: str
    programme_id: int
    future_activity_id: int
    past_activity_id: int
    full_activity_id: int
    waiting_person_id: int
    code: str


def store_questionnaire(session: Session) -> None:
    """Record the test questionnaire's version, as the survey area does on first use."""
    questionnaire = from_definition(QUESTIONNAIRE)
    session.add(
        SurveyVersion(
            questionnaire_id=questionnaire.id,
            version=questionnaire.version,
            fingerprint=questionnaire.fingerprint,
            definition=questionnaire.definition(),
        )
    )
    session.flush()


def resident_with_history(
    session: Session,
    *,
    now: datetime,
    name: str = "Wiesława Zdziebłowska",
    telegram_id: int = 987_654_321_987,
    keep_answers: bool = True,
    programme: Programme | None = None,
) -> Resident:
    """A resident holding an upcoming place, on a reserve list, with a past attended
    activity, a submitted survey with a free-text answer, a pending reminder and a dialog.
    """
    if programme is None:
        programme = make_programme(session)
        programme.keep_answers_on_erasure = keep_answers
        session.add(programme)
        store_questionnaire(session)
    assert programme.id is not None
    person = make_person(session, telegram_id=telegram_id, name=name, programme=programme)
    assert person.id is not None
    future = make_activity(
        session,
        programme=programme,
        starts_at=now + timedelta(days=3),
        places=1,
        title="Spacer nordic walking",
    )
    past = make_activity(
        session,
        programme=programme,
        starts_at=now - timedelta(days=7),
        title="Kawiarenka sąsiedzka",
    )
    full = make_activity(
        session,
        programme=programme,
        starts_at=now + timedelta(days=5),
        places=1,
        title="Wycieczka do skansenu",
    )
    assert future.id and past.id and full.id
    # Someone waits for the future activity's only place.
    sign_up(session, person_id=person.id, activity_id=future.id, now=now)
    waiting = make_person(
        session, telegram_id=telegram_id + 1, name="Marianna", programme=programme
    )
    assert waiting.id is not None
    sign_up(session, person_id=waiting.id, activity_id=future.id, now=now)
    # The full activity: someone else has the place, our resident waits.
    other = make_person(session, telegram_id=telegram_id + 2, name="Bożena", programme=programme)
    assert other.id is not None
    sign_up(session, person_id=other.id, activity_id=full.id, now=now)
    sign_up(session, person_id=person.id, activity_id=full.id, now=now)
    session.add(
        Registration(
            activity_id=past.id,
            person_id=person.id,
            status="confirmed",
            attended=True,
            attendance_marked_at=past.ends_at,
            created_at=now - timedelta(days=10),
        )
    )
    code = ParticipantCode(code="K7Q2M9XT", person_id=person.id, programme_id=programme.id)
    session.add(code)
    session.flush()
    assert code.id is not None
    response = SurveyResponse(
        participant_code_id=code.id,
        programme_id=programme.id,
        phase="initial",
        questionnaire_id="privacy_test",
        questionnaire_version="1",
        started_at=now - timedelta(days=9),
        submitted_at=now - timedelta(days=9),
    )
    session.add(response)
    session.flush()
    assert response.id is not None
    free_text = f"Pozdrawiam serdecznie, {name}, tel. 600 700 800"
    for item_id, value in (("q1", "4"), ("q2", "2"), ("note", free_text)):
        session.add(
            SurveyAnswer(
                response_id=response.id,
                item_id=item_id,
                value=value,
                answered_at=now - timedelta(days=9),
            )
        )
    enqueue(
        session,
        kind=SendKind.REMINDER,
        person_id=person.id,
        activity_id=future.id,
        due_at=now + timedelta(days=2),
        dedupe_key=f"test-reminder:{person.id}",
    )
    session.add(
        Dialog(
            person_id=person.id,
            kind="survey",
            step="q1",
            data={"draft": {"q1": "3"}},
            awaits_text=False,
        )
    )
    session.add(RoleGrant(telegram_id=telegram_id, role="evaluator"))
    session.flush()
    return Resident(
        person_id=person.id,
        telegram_id=telegram_id,
        name=name,
        free_text=free_text,
        programme_id=programme.id,
        future_activity_id=future.id,
        past_activity_id=past.id,
        full_activity_id=full.id,
        waiting_person_id=waiting.id,
        code=code.code,
    )


def telegram_id_patterns(telegram_id: int) -> list[bytes]:
    """How a Telegram id can appear in stored bytes: as text, and as SQLite's big-endian
    integer (SQLite keeps an integer in the fewest of 1, 2, 3, 4, 6 or 8 bytes)."""
    patterns = [str(telegram_id).encode()]
    for width in (4, 6, 8):
        if telegram_id < 1 << (8 * width - 1):
            patterns.append(telegram_id.to_bytes(width, "big"))
            break
    return patterns


def name_patterns(name: str) -> list[bytes]:
    """How a name can appear: UTF-8 (SQLite, PostgreSQL) and JSON-escaped."""

    return [name.encode(), json.dumps(name).strip('"').encode()]


def all_rows_text(engine: Engine) -> str:
    """Every row of every table as text: the logical content of a database."""
    chunks = []
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                chunks.append(f"{table}: {tuple(row)!r}")
    return "\n".join(chunks)


def person_row(session: Session, person_id: int) -> Person:
    """The person row as stored now."""
    person = session.get(Person, person_id, populate_existing=True)
    assert person is not None
    return person
