"""Factories for evaluation tests: programmes, activities, people, sign-ups and surveys,
inserted as model rows directly (the rules that create them are tested elsewhere)."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from storage.models import (
    Activity,
    ActivityStatus,
    ParticipantCode,
    Person,
    Programme,
    Registration,
    RegistrationStatus,
    SurveyAnswer,
    SurveyResponse,
    SurveyVersion,
)
from storage.models.people import OnboardingStep
from storage.surveys.questionnaires import Questionnaire, from_definition

_telegram_ids = itertools.count(700_000_001)

AGREE = {"pl": "Zgadzam się", "uk": "Погоджуюся", "en": "Agree"}


def _scale() -> dict[str, Any]:
    labels = [
        {
            "pl": "Zdecydowanie się nie zgadzam",
            "uk": "Зовсім не погоджуюся",
            "en": "Strongly disagree",
        },
        {"pl": "Raczej się nie zgadzam", "uk": "Скоріше не погоджуюся", "en": "Disagree"},
        {"pl": "Trudno powiedzieć", "uk": "Важко сказати", "en": "Hard to say"},
        {"pl": "Raczej się zgadzam", "uk": "Скоріше погоджуюся", "en": "Agree"},
        {"pl": "Zdecydowanie się zgadzam", "uk": "Повністю погоджуюся", "en": "Strongly agree"},
    ]
    return {"labels": labels}


def _item(item_id: str, pl: str, en: str, **extra: Any) -> dict[str, Any]:
    return {"id": item_id, "text": {"pl": pl, "uk": pl, "en": en}, **extra}


# A small questionnaire: two subscales (one reverse item), two final-only items and a
# free-text item that must never reach an evaluator.
TEST_DEFINITION: dict[str, Any] = {
    "id": "test-self",
    "version": "1",
    "title": {"pl": "Ankieta testowa", "en": "Test survey"},
    "intro": {"pl": "Kilka pytań.", "en": "A few questions."},
    "scales": {"agree5": _scale()},
    "items": [
        _item(
            "se1",
            "Jestem osobą wartościową.",
            "I am a worthwhile person.",
            type="likert",
            scale="agree5",
        ),
        _item(
            "se2",
            "Często czuję, że nic nie umiem.",
            "I often feel I can do nothing.",
            type="likert",
            scale="agree5",
            reverse=True,
        ),
        _item(
            "se3",
            "Radzę sobie z trudnościami.",
            "I cope with difficulties.",
            type="likert",
            scale="agree5",
        ),
        _item(
            "co1",
            "Łatwo rozmawiam z sąsiadami.",
            "I talk easily with neighbours.",
            type="likert",
            scale="agree5",
        ),
        _item(
            "co2",
            "Czuję się częścią osiedla.",
            "I feel part of the estate.",
            type="likert",
            scale="agree5",
        ),
        _item(
            "ch1",
            "Udział zmienił moje kontakty.",
            "Taking part changed my contacts.",
            type="likert",
            scale="agree5",
            phase="final",
        ),
        _item(
            "ch2",
            "Czy polecisz zajęcia?",
            "Would you recommend the activities?",
            type="single_choice",
            phase="final",
            options=[
                {"value": "yes", "label": {"pl": "Tak", "uk": "Так", "en": "Yes"}},
                {"value": "no", "label": {"pl": "Nie", "uk": "Ні", "en": "No"}},
                {"value": "unsure", "label": {"pl": "Nie wiem", "uk": "Не знаю", "en": "Not sure"}},
            ],
        ),
        _item(
            "note",
            "Co chcesz dodać?",
            "Anything to add?",
            type="text",
            max_length=500,
            phase="final",
        ),
    ],
    "subscales": [
        {
            "id": "self_esteem",
            "title": {"pl": "Samoocena", "uk": "Самооцінка", "en": "Self-esteem"},
            "items": ["se1", "se2", "se3"],
            "scoring": "mean",
            "min_answered": 0.6,
        },
        {
            "id": "community",
            "title": {"pl": "Przynależność", "uk": "Належність", "en": "Belonging"},
            "items": ["co1", "co2"],
            "scoring": "mean",
            "min_answered": 1.0,
        },
    ],
}


def small_questionnaire() -> Questionnaire:
    """The small questionnaire above, validated by the real model."""
    return from_definition(TEST_DEFINITION)


def _id(row: Any) -> int:
    """A flushed row's id (mypy: ids are Optional until the row is inserted)."""
    assert row.id is not None
    return int(row.id)


def aware(year: int, month: int, day: int, hour: int = 10) -> datetime:
    """A UTC instant (tests state times in UTC)."""
    return datetime(year, month, day, hour, tzinfo=UTC)


def make_programme(
    session: Session, name: str = "PAL Osiedle Słoneczne", **extra: Any
) -> Programme:
    """A programme row."""
    programme = Programme(name=name, **extra)
    session.add(programme)
    session.flush()
    return programme


def make_person(
    session: Session,
    name: str,
    *,
    programme: Programme | None = None,
    telegram: bool = True,
    created_by: Person | None = None,
) -> Person:
    """A resident; `telegram=False` with `created_by` is someone an animator keeps."""
    person = Person(
        telegram_id=next(_telegram_ids) if telegram else None,
        display_name=name,
        onboarding_step=OnboardingStep.DONE,
        programme_id=programme.id if programme else None,
        created_by_id=created_by.id if created_by else None,
    )
    session.add(person)
    session.flush()
    return person


def make_activity(
    session: Session,
    programme: Programme,
    *,
    category: str,
    starts_at: datetime,
    places: int = 10,
    hours: int = 2,
    cancelled: bool = False,
    title: str = "Warsztaty",
) -> Activity:
    """An activity of a programme."""
    activity = Activity(
        programme_id=_id(programme),
        title=title,
        category=category,
        venue="Klub Sąsiedzki",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
        places=places,
        status=ActivityStatus.CANCELLED if cancelled else ActivityStatus.PUBLISHED,
        cancelled_at=starts_at - timedelta(days=1) if cancelled else None,
    )
    session.add(activity)
    session.flush()
    return activity


def sign(
    session: Session,
    activity: Activity,
    person: Person,
    *,
    status: RegistrationStatus = RegistrationStatus.CONFIRMED,
    attended: bool = False,
    reserve: bool = False,
    promoted: bool = False,
    proxy_by: Person | None = None,
) -> Registration:
    """A sign-up row as the seat rule would have left it."""
    registration = Registration(
        activity_id=_id(activity),
        person_id=_id(person),
        status=status.value,
        attended=attended,
        joined_reserve=reserve,
        promoted_at=activity.starts_at - timedelta(days=2) if promoted else None,
        cancelled_at=activity.starts_at - timedelta(days=1)
        if status is RegistrationStatus.CANCELLED
        else None,
        proxy_by_id=proxy_by.id if proxy_by else None,
        created_at=activity.starts_at - timedelta(days=7),
    )
    session.add(registration)
    session.flush()
    return registration


def code_for(session: Session, person: Person, programme: Programme) -> ParticipantCode:
    """The person's participant code in the programme (created once)."""
    existing = session.exec(
        select(ParticipantCode).where(
            ParticipantCode.person_id == person.id, ParticipantCode.programme_id == programme.id
        )
    ).first()
    if existing is not None:
        return existing
    code = ParticipantCode(
        code=secrets.token_hex(4).upper(), person_id=person.id, programme_id=_id(programme)
    )
    session.add(code)
    session.flush()
    return code


def remember_version(session: Session, definition: Mapping[str, Any] = TEST_DEFINITION) -> None:
    """Store a questionnaire version's definition, as the survey feature does."""
    q = from_definition(definition)
    found = session.exec(
        select(SurveyVersion).where(
            SurveyVersion.questionnaire_id == q.id, SurveyVersion.version == q.version
        )
    ).first()
    if found is None:
        session.add(
            SurveyVersion(
                questionnaire_id=q.id,
                version=q.version,
                fingerprint=q.fingerprint,
                definition=q.definition(),
            )
        )
        session.flush()


def answer_survey(
    session: Session,
    programme: Programme,
    person: Person,
    phase: str,
    answers: Mapping[str, str | None],
    *,
    submitted_at: datetime | None,
    definition: Mapping[str, Any] = TEST_DEFINITION,
    channel: str = "chat",
) -> SurveyResponse:
    """A survey response with its answers; `submitted_at=None` leaves it unsubmitted."""
    remember_version(session, definition)
    code = code_for(session, person, programme)
    response = SurveyResponse(
        participant_code_id=_id(code),
        programme_id=_id(programme),
        phase=phase,
        questionnaire_id=str(definition["id"]),
        questionnaire_version=str(definition["version"]),
        channel=channel,
        started_at=(submitted_at or aware(2026, 1, 1)) - timedelta(minutes=9),
        submitted_at=submitted_at,
    )
    session.add(response)
    session.flush()
    for item_id, value in answers.items():
        session.add(SurveyAnswer(response_id=_id(response), item_id=item_id, value=value))
    session.flush()
    return response


def likert(se1: int, se2: int, se3: int, co1: int, co2: int) -> dict[str, str | None]:
    """Answers to the five items asked in both surveys (raw points, se2 reverse-worded)."""
    return {"se1": str(se1), "se2": str(se2), "se3": str(se3), "co1": str(co1), "co2": str(co2)}


class Story:
    """The Słoneczne programme of the indicator tests: two years, two categories.

    Every number in `tests/unit/test_evaluation_indicators.py` is worked out by hand
    from what happens here; read this and that file side by side.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        s = session
        self.programme = make_programme(s, "PAL Osiedle Słoneczne")
        self.other = make_programme(s, "PAL Stare Miasto")
        self.ania = make_person(s, "Ania Animatorka")
        p = {n: make_person(s, f"Mieszkaniec {n}", programme=self.programme) for n in range(1, 13)}
        q1 = make_person(s, "Krystyna Papierowa", telegram=False, created_by=self.ania)
        q2 = make_person(s, "Zenon Papierowy", telegram=False, created_by=self.ania)
        self.people, self.q1, self.q2 = p, q1, q2
        workshops, meetings = "Warsztaty", "Spotkania sąsiedzkie"
        prog = self.programme
        # 2025
        a1 = make_activity(s, prog, category=workshops, starts_at=aware(2025, 3, 10), places=10)
        for n in range(1, 9):
            sign(s, a1, p[n], attended=n <= 6)
        sign(s, a1, p[9], reserve=True, promoted=True, attended=True)
        sign(s, a1, p[10], status=RegistrationStatus.RESERVE, reserve=True)
        sign(s, a1, p[11], status=RegistrationStatus.CANCELLED)
        a2 = make_activity(s, prog, category=meetings, starts_at=aware(2025, 6, 1), places=20)
        for n in range(1, 6):
            sign(s, a2, p[n], attended=True)
        sign(s, a2, q1, attended=True, proxy_by=self.ania)
        sign(s, a2, p[12], attended=True, proxy_by=self.ania)
        a3 = make_activity(s, prog, category=workshops, starts_at=aware(2025, 9, 1), cancelled=True)
        sign(s, a3, p[1], status=RegistrationStatus.CANCELLED)
        # 2026 (the report is made on 2026-11-23 09:00 UTC)
        b1 = make_activity(s, prog, category=workshops, starts_at=aware(2026, 2, 1), places=5)
        for n in range(1, 6):
            sign(s, b1, p[n], attended=n <= 4)
        sign(s, b1, p[6], status=RegistrationStatus.RESERVE, reserve=True)
        b2 = make_activity(s, prog, category=meetings, starts_at=aware(2026, 11, 23, 8))
        sign(s, b2, p[1])
        sign(s, b2, p[2])
        b3 = make_activity(s, prog, category=meetings, starts_at=aware(2026, 12, 10), places=15)
        sign(s, b3, q2, proxy_by=self.ania)
        # Another programme's rows must never leak into this one's report.
        o1 = make_activity(s, self.other, category=workshops, starts_at=aware(2025, 3, 10))
        sign(s, o1, p[1], attended=True)
        answer_survey(
            s, self.other, p[1], "initial", likert(1, 1, 1, 1, 1), submitted_at=aware(2025, 3, 1)
        )
        self._surveys()

    def _surveys(self) -> None:
        s, prog, p = self.session, self.programme, self.people
        self.pairs: list[tuple[dict[str, str | None], dict[str, str | None]]] = []
        paired = [p[n] for n in range(1, 10)] + [self.q1]
        for index, person in enumerate(paired):
            before = initial_answers(index)
            after = final_answers(index)
            channel = "proxy" if person is self.q1 else "chat"
            answer_survey(
                s,
                prog,
                person,
                "initial",
                before,
                submitted_at=aware(2025, 2, 1 + index),
                channel=channel,
            )
            answer_survey(
                s,
                prog,
                person,
                "final",
                after,
                submitted_at=aware(2026, 10, 1 + index),
                channel=channel,
            )
            self.pairs.append((before, after))
        answer_survey(
            s, prog, p[10], "initial", initial_answers(10), submitted_at=aware(2025, 2, 20)
        )
        answer_survey(s, prog, p[11], "initial", initial_answers(11), submitted_at=None)
        answer_survey(s, prog, p[11], "final", final_answers(11), submitted_at=aware(2026, 10, 20))
        answer_survey(
            s, prog, p[12], "initial", initial_answers(12), submitted_at=aware(2026, 1, 15)
        )
        answer_survey(s, prog, p[12], "final", final_answers(12), submitted_at=None)


def initial_answers(index: int) -> dict[str, str | None]:
    """Initial answers of the story's n-th respondent (se2 is reverse-worded)."""
    answers = likert(2 + index % 2, 4 - index % 3, 2, 2 + index % 3, 3)
    if index == 3:
        answers["se3"] = None  # skipped: self-esteem still scored (2 of 3 ≥ 0.6)
    return answers


def final_answers(index: int) -> dict[str, str | None]:
    """Final answers: most people rise a little, two stay, one drops."""
    answers = likert(4, 2 if index % 4 else 3, 3 + index % 2, 3 + (index % 3 == 0), 3)
    if index == 7:
        answers = likert(2, 4, 2, 2, 3)
    answers["ch1"] = str(1 + index % 5)
    answers["ch2"] = ("yes", "yes", "no", "unsure")[index % 4]
    answers["note"] = f"Dziękuję, pozdrawiam, osoba {index}"
    return answers
