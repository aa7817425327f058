"""Factories for the survey area: questionnaire files, registrations, answered surveys."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import Session

from storage.models import Person, Programme, Registration, RegistrationStatus
from storage.surveys.questionnaires import SurveyPhase, default_questionnaire_path, items_for_phase
from storage.surveys.responses import Channel, answer, start_or_resume, submit, view
from tests.support.signup import make_activity

Data = dict[str, Any]


def default_data() -> Data:
    """The default questionnaire as plain data, to change in tests."""
    data = yaml.safe_load(default_questionnaire_path().read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return copy.deepcopy(data)


def write_yaml(path: Path, data: Data) -> Path:
    """Write questionnaire data as YAML."""
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def changed(tmp_path: Path, change: Callable[[Data], None], name: str = "q.yaml") -> Path:
    """A copy of the default questionnaire with one change applied."""
    data = default_data()
    change(data)
    return write_yaml(tmp_path / name, data)


def small_questionnaire() -> Data:
    """Four questions of every kind: likert, reverse likert, single choice, short text."""
    agree = [
        {"pl": p, "uk": u, "en": e}
        for p, u, e in [
            ("Zdecydowanie się nie zgadzam", "Зовсім не погоджуюся", "Strongly disagree"),
            ("Raczej się nie zgadzam", "Скоріше не погоджуюся", "Disagree"),
            ("Trudno powiedzieć", "Важко сказати", "Hard to say"),
            ("Raczej się zgadzam", "Скоріше погоджуюся", "Agree"),
            ("Zdecydowanie się zgadzam", "Повністю погоджуюся", "Strongly agree"),
        ]
    ]
    return {
        "id": "small",
        "version": "1",
        "title": {"pl": "Mała ankieta", "uk": "Мала анкета", "en": "Small survey"},
        "intro": {"pl": "Kilka pytań.", "uk": "Кілька питань.", "en": "A few questions."},
        "scales": {"agree": {"labels": agree}},
        "items": [
            {
                "id": "q_cope",
                "type": "likert",
                "scale": "agree",
                "text": {"pl": "Radzę sobie.", "uk": "Я даю раду.", "en": "I cope."},
            },
            {
                "id": "q_alone",
                "type": "likert",
                "scale": "agree",
                "reverse": True,
                "text": {"pl": "Czuję się sam(a).", "uk": "Я самотній(я).", "en": "I feel alone."},
            },
            {
                "id": "q_heard",
                "type": "single_choice",
                "text": {
                    "pl": "Skąd wiesz o programie?",
                    "uk": "Звідки ви знаєте?",
                    "en": "How did you hear of us?",
                },
                "options": [
                    {"value": "poster", "label": {"pl": "Plakat", "uk": "Плакат", "en": "Poster"}},
                    {
                        "value": "friend",
                        "label": {"pl": "Znajomi", "uk": "Знайомі", "en": "Friends"},
                    },
                ],
            },
            {
                "id": "q_comment",
                "type": "text",
                "max_length": 20,
                "phase": "final",
                "text": {"pl": "Co chcesz dodać?", "uk": "Що додати?", "en": "Anything to add?"},
            },
        ],
        "subscales": [
            {
                "id": "wellbeing",
                "items": ["q_cope", "q_alone"],
                "scoring": "mean",
                "min_answered": 1.0,
            }
        ],
    }


def register(
    session: Session,
    *,
    person: Person,
    programme: Programme,
    starts_at: datetime,
    status: RegistrationStatus = RegistrationStatus.CONFIRMED,
    attended: bool = False,
) -> Registration:
    """A registration of a person in a new activity of the programme."""
    activity = make_activity(session, programme=programme, starts_at=starts_at)
    assert activity.id is not None and person.id is not None
    registration = Registration(
        activity_id=activity.id, person_id=person.id, status=status.value, attended=attended
    )
    session.add(registration)
    session.flush()
    return registration


def answered_survey(
    session: Session,
    *,
    person: Person,
    programme: Programme,
    phase: SurveyPhase,
    values: dict[str, str | None],
    now: datetime,
    channel: Channel = Channel.CHAT,
    entered_by_id: int | None = None,
    surveys_dir: str | None = None,
) -> int:
    """A submitted response with the given answers (others skipped); returns its id."""
    assert person.id is not None
    response = start_or_resume(
        session,
        person_id=person.id,
        programme=programme,
        phase=phase,
        channel=channel,
        now=now,
        entered_by_id=entered_by_id,
        surveys_dir=surveys_dir,
    )
    assert response.id is not None

    items = items_for_phase(view(session, response).questionnaire, phase)
    for index, item in enumerate(items):
        answer(
            session,
            response_id=response.id,
            index=index,
            value=values.get(item.id),
            now=now + timedelta(seconds=index),
        )
    submit(session, response_id=response.id, now=now + timedelta(minutes=5))
    return response.id
