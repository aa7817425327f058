"""Consultation counts: live for staff, final for residents and the evaluator's sheet.

Telegram-free and read-only. Staff see exact counts of their own programme; the written
answers to the open question go only to that programme's staff, never into a report.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.activities.organising import Actor, detached
from storage.consultations.running import NotYourConsultation, staff_consultation
from storage.models import (
    AnswerChannel,
    Consultation,
    ConsultationResponse,
    ConsultationState,
)


@dataclass(frozen=True)
class QuestionCounts:
    """How often each option of one question was chosen, by how many who answered it."""

    text: str
    multiple: bool
    options: tuple[str, ...]
    counts: tuple[int, ...]
    answered: int


@dataclass(frozen=True)
class Results:
    """A consultation's counts: live for staff, final once closed."""

    consultation: Consultation
    respondents: int
    on_paper: int
    questions: tuple[QuestionCounts, ...]
    free_texts: int


def count_answers(
    consultation: Consultation, responses: list[tuple[str, dict[str, list[int]], str | None]]
) -> Results:
    """Count (channel, choices, free text) rows; a respondent answered at least one thing."""
    questions = []
    for index, question in enumerate(consultation.questions):
        options = tuple(str(o) for o in question["options"])
        tally: Counter[int] = Counter()
        answered = 0
        for _, choices, _ in responses:
            chosen = [o for o in choices.get(str(index), []) if 0 <= o < len(options)]
            if chosen:
                answered += 1
                tally.update(set(chosen))
        questions.append(
            QuestionCounts(
                str(question["text"]),
                bool(question["multiple"]),
                options,
                tuple(tally[i] for i in range(len(options))),
                answered,
            )
        )
    counted = [r for r in responses if any(r[1].values()) or r[2]]
    return Results(
        consultation=consultation,
        respondents=len(counted),
        on_paper=sum(1 for r in counted if r[0] == AnswerChannel.PAPER),
        questions=tuple(questions),
        free_texts=sum(1 for r in counted if r[2]),
    )


def _responses(
    session: Session, consultation_id: int
) -> list[tuple[str, dict[str, list[int]], str | None]]:
    rows = session.exec(
        select(
            ConsultationResponse.channel,
            ConsultationResponse.choices,
            ConsultationResponse.free_text,
        ).where(col(ConsultationResponse.consultation_id) == consultation_id)
    ).all()
    return [(str(ch), dict(choices or {}), text) for ch, choices, text in rows]


def results(session: Session, *, consultation_id: int) -> Results:
    """The counts of one consultation (no access check: callers check or are residents)."""
    consultation = session.get(Consultation, consultation_id)
    if consultation is None:
        raise NotYourConsultation(consultation_id)
    return count_answers(detached(consultation), _responses(session, consultation_id))


def staff_results(session: Session, *, consultation_id: int, actor: Actor) -> Results:
    """The live counts for the programme's staff."""
    staff_consultation(session, consultation_id=consultation_id, actor=actor)
    return results(session, consultation_id=consultation_id)


def free_text_answers(session: Session, *, consultation_id: int, actor: Actor) -> list[str]:
    """The open question's answers: only for staff of that programme, never exported."""
    staff_consultation(session, consultation_id=consultation_id, actor=actor)
    rows = session.exec(
        select(ConsultationResponse.free_text)
        .where(
            col(ConsultationResponse.consultation_id) == consultation_id,
            col(ConsultationResponse.free_text).is_not(None),
        )
        .order_by(col(ConsultationResponse.updated_at))
    ).all()
    return [str(text) for text in rows if text]


@dataclass(frozen=True)
class ConsultationLine:
    """One consultation in the staff list."""

    consultation: Consultation
    respondents: int


def staff_consultations(
    session: Session, *, actor: Actor, limit: int = 20
) -> list[ConsultationLine]:
    """The programme's consultations (admins without a programme: all), newest first."""
    query = select(Consultation)
    if actor.programme_id is not None:
        query = query.where(col(Consultation.programme_id) == actor.programme_id)
    elif not actor.is_admin:
        return []
    rows = list(session.exec(query.order_by(col(Consultation.id).desc()).limit(limit)))
    ids = [c.id for c in rows if c.id is not None]
    counts: dict[int, int] = {}
    if ids:
        counts = {
            int(cid): int(n)
            for cid, n in session.exec(
                select(ConsultationResponse.consultation_id, func.count())
                .where(col(ConsultationResponse.consultation_id).in_(ids))
                .group_by(col(ConsultationResponse.consultation_id))
            ).all()
        }
    return [ConsultationLine(detached(c), counts.get(c.id or 0, 0)) for c in rows]


def consultations_between(
    session: Session, *, programme_id: int, start: datetime | None, end: datetime | None
) -> list[tuple[Consultation, Results]]:
    """Opened consultations of a programme (opening instant in [start, end)), with counts."""
    query = select(Consultation).where(
        col(Consultation.programme_id) == programme_id,
        col(Consultation.state) != ConsultationState.SCHEDULED.value,
    )
    if start is not None:
        query = query.where(col(Consultation.opens_at) >= start)
    if end is not None:
        query = query.where(col(Consultation.opens_at) < end)
    found = []
    for consultation in session.exec(
        query.order_by(col(Consultation.opens_at), col(Consultation.id))
    ):
        assert consultation.id is not None
        found.append((detached(consultation), results(session, consultation_id=consultation.id)))
    return found


def participant_codes_between(
    session: Session, *, programme_id: int, start: datetime | None, end: datetime | None
) -> dict[str, set[int]]:
    """Per channel, the participant codes that answered any of those consultations."""
    query = (
        select(
            ConsultationResponse.channel,
            ConsultationResponse.participant_code_id,
            ConsultationResponse.choices,
            ConsultationResponse.free_text,
        )
        .join(Consultation, col(Consultation.id) == col(ConsultationResponse.consultation_id))
        .where(
            col(Consultation.programme_id) == programme_id,
            col(Consultation.state) != ConsultationState.SCHEDULED.value,
        )
    )
    if start is not None:
        query = query.where(col(Consultation.opens_at) >= start)
    if end is not None:
        query = query.where(col(Consultation.opens_at) < end)
    found: dict[str, set[int]] = {AnswerChannel.CHAT.value: set(), AnswerChannel.PAPER.value: set()}
    for channel, code_id, choices, text in session.exec(query).all():
        if any((choices or {}).values()) or text:
            found.setdefault(str(channel), set()).add(int(code_id))
    return found
