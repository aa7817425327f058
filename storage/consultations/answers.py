"""Answering a consultation: one tap, one transaction, stored under the participant code.

A person's answers are one `ConsultationResponse` row per consultation, keyed by their
pseudonymous participant code in the consultation's programme. Each tap writes the
choice and the position (the question the person is at) together, so whichever process
receives the next tap, or a restart, continues at the same question. Answers may change
until the consultation closes. Staff enter paper answers for people without Telegram the
same way, marked `paper`. Erasure and the right of access are at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, update
from sqlmodel import Session, col, select

from storage.activities.organising import Actor, detached
from storage.audit import record
from storage.consultations.drafts import FREE_ANSWER_MAX, checked_text
from storage.consultations.running import (
    ConsultationNotOpen,
    NotInAudience,
    NotYourConsultation,
    in_audience,
    may_run,
)
from storage.dialogs import close_dialog, get_dialog, save_dialog
from storage.models import (
    AnswerChannel,
    Consultation,
    ConsultationResponse,
    ConsultationState,
    ParticipantCode,
    Programme,
)
from storage.people.participant_codes import participant_code
from storage.people.without_telegram import proxy_participant


class BadAnswer(ValueError):
    """A question or option that does not exist (a forged or mangled button)."""


@dataclass(frozen=True)
class AnswerSheet:
    """Where one person stands in one consultation: what to show them next."""

    consultation: Consultation
    choices: dict[int, tuple[int, ...]]
    position: int
    free_text: str | None
    channel: str

    @property
    def steps(self) -> int:
        """Questions to answer, the open question included."""
        return len(self.consultation.questions) + (1 if self.consultation.free_question else 0)

    @property
    def finished(self) -> bool:
        """Whether every question has been passed."""
        return self.position >= self.steps

    @property
    def at_free_question(self) -> bool:
        """Whether the person is at the open question."""
        return self.consultation.free_question is not None and self.position == len(
            self.consultation.questions
        )


def _open_consultation(session: Session, consultation_id: int, now: datetime) -> Consultation:
    consultation = session.get(Consultation, consultation_id)
    if consultation is None:
        raise NotYourConsultation(consultation_id)
    if consultation.state != ConsultationState.OPEN or consultation.closes_at <= now:
        raise ConsultationNotOpen(consultation.state, consultation.closes_at)
    return consultation


def _row(session: Session, consultation_id: int, code_id: int) -> dict[str, Any] | None:
    found = (
        session.connection()
        .execute(
            select(
                ConsultationResponse.id,
                ConsultationResponse.choices,  # type: ignore[call-overload]
                ConsultationResponse.position,
                ConsultationResponse.free_text,
                ConsultationResponse.channel,
            ).where(
                col(ConsultationResponse.consultation_id) == consultation_id,
                col(ConsultationResponse.participant_code_id) == code_id,
            )
        )
        .first()
    )
    return dict(found._mapping) if found is not None else None


def _sheet(consultation: Consultation, row: dict[str, Any] | None) -> AnswerSheet:
    if row is None:
        return AnswerSheet(detached(consultation), {}, 0, None, AnswerChannel.CHAT.value)
    choices = {int(k): tuple(v) for k, v in (row["choices"] or {}).items()}
    return AnswerSheet(
        detached(consultation), choices, int(row["position"]), row["free_text"], str(row["channel"])
    )


def _save(
    session: Session,
    consultation_id: int,
    code_id: int,
    row: dict[str, Any] | None,
    *,
    choices: dict[int, tuple[int, ...]],
    position: int,
    free_text: str | None,
    channel: AnswerChannel,
    entered_by_id: int | None,
    now: datetime,
) -> None:
    stored = {str(k): list(v) for k, v in sorted(choices.items()) if v}
    if row is None:
        session.connection().execute(
            insert(ConsultationResponse).values(
                consultation_id=consultation_id,
                participant_code_id=code_id,
                channel=channel.value,
                entered_by_id=entered_by_id,
                position=position,
                choices=stored,
                free_text=free_text,
                answered_at=now,
                updated_at=now,
            )
        )
        if channel == AnswerChannel.PAPER:
            record(
                session,
                actor_id=entered_by_id,
                action="consultation.paper_answer",
                subject_type="consultation",
                subject_id=consultation_id,
                at=now,
            )
    else:
        session.connection().execute(
            update(ConsultationResponse)
            .where(col(ConsultationResponse.id) == row["id"])
            .values(
                position=position,
                choices=stored,
                free_text=free_text,
                updated_at=now,
                channel=channel.value,
                entered_by_id=entered_by_id,
            )
        )


# The open question's answer is typed: the dialog waiting for that text, per answerer.
TEXT_DIALOG = "consultation_text"
PAPER_TEXT_DIALOG = "consultation_paper_text"


def _follow(session: Session, who: Answerer, sheet: AnswerSheet) -> None:
    """Wait for typed text exactly while the answerer is at the open question."""
    if sheet.consultation.free_question is None:
        return  # nothing is ever typed: no dialog to look at
    typist = who.person_id if who.paper_by is None else who.paper_by.person_id
    kind = TEXT_DIALOG if who.paper_by is None else PAPER_TEXT_DIALOG
    cid = sheet.consultation.id
    if sheet.at_free_question:
        save_dialog(
            session,
            person_id=typist,
            kind=kind,
            step=str(cid),
            data={"consultation_id": cid, "person_id": who.person_id},
            awaits_text=True,
        )
        return
    waiting = get_dialog(session, person_id=typist, kind=kind)
    if (
        waiting is not None
        and waiting.data.get("consultation_id") == cid
        and (waiting.data.get("person_id") == who.person_id)
    ):
        close_dialog(session, person_id=typist, kind=kind)


def _code_id(session: Session, person_id: int, programme_id: int) -> int:
    """The person's code, locked: one person's taps take turns (PostgreSQL row lock; SQLite
    runs writes one at a time anyway), so a quick second tap reads the first one's answer
    instead of overwriting it, and the first answer's row is inserted once."""
    code = participant_code(session, person_id=person_id, programme_id=programme_id)
    assert code.id is not None
    session.connection().execute(
        select(ParticipantCode.id).where(col(ParticipantCode.id) == code.id).with_for_update()
    )
    return code.id


@dataclass(frozen=True)
class Answerer:
    """Who the answer is for, and whether staff enter it from paper."""

    person_id: int
    paper_by: Actor | None = None


def _begin(
    session: Session, consultation_id: int, who: Answerer, now: datetime
) -> tuple[Consultation, int, dict[str, Any] | None]:
    consultation = _open_consultation(session, consultation_id, now)
    if who.paper_by is not None:
        if not may_run(who.paper_by, consultation.programme_id):
            raise NotYourConsultation(consultation_id)
        programmes = None if who.paper_by.is_admin else {consultation.programme_id}
        proxy_participant(session, person_id=who.person_id, programme_ids=programmes)
    if not in_audience(session, consultation, who.person_id):
        raise NotInAudience(consultation_id)
    code_id = _code_id(session, who.person_id, consultation.programme_id)
    return consultation, code_id, _row(session, consultation_id, code_id)


def _channel(who: Answerer) -> tuple[AnswerChannel, int | None]:
    if who.paper_by is None:
        return AnswerChannel.CHAT, None
    return AnswerChannel.PAPER, who.paper_by.person_id


def answer_sheet(
    session: Session, *, consultation_id: int, who: Answerer, now: datetime
) -> AnswerSheet:
    """The person's answers so far (refuses closed consultations and other audiences)."""
    consultation, _, row = _begin(session, consultation_id, who, now)
    return _sheet(consultation, row)


def choose(
    session: Session,
    *,
    consultation_id: int,
    who: Answerer,
    question: int,
    option: int,
    now: datetime,
) -> AnswerSheet:
    """A tap on an option: single choice sets it and goes on; multiple choice toggles it."""
    consultation, code_id, row = _begin(session, consultation_id, who, now)
    if not 0 <= question < len(consultation.questions):
        raise BadAnswer(question)
    asked = consultation.questions[question]
    if not 0 <= option < len(asked["options"]):
        raise BadAnswer(option)
    sheet = _sheet(consultation, row)
    choices = dict(sheet.choices)
    if asked["multiple"]:
        chosen = set(choices.get(question, ()))
        chosen ^= {option}
        choices[question] = tuple(sorted(chosen))
        position = question
    else:
        choices[question] = (option,)
        position = question + 1
    channel, by = _channel(who)
    _save(
        session,
        consultation_id,
        code_id,
        row,
        choices=choices,
        position=position,
        free_text=sheet.free_text,
        channel=channel,
        entered_by_id=by,
        now=now,
    )
    moved = AnswerSheet(sheet.consultation, choices, position, sheet.free_text, channel.value)
    _follow(session, who, moved)
    return moved


def move_to(
    session: Session, *, consultation_id: int, who: Answerer, position: int, now: datetime
) -> AnswerSheet:
    """Done (multiple choice), Skip or Change my answers: go to a question, keep answers."""
    consultation, code_id, row = _begin(session, consultation_id, who, now)
    sheet = _sheet(consultation, row)
    if not 0 <= position <= sheet.steps:
        raise BadAnswer(position)
    channel, by = _channel(who)
    _save(
        session,
        consultation_id,
        code_id,
        row,
        choices=dict(sheet.choices),
        position=position,
        free_text=sheet.free_text,
        channel=channel,
        entered_by_id=by,
        now=now,
    )
    moved = AnswerSheet(
        sheet.consultation, dict(sheet.choices), position, sheet.free_text, channel.value
    )
    _follow(session, who, moved)
    return moved


def write_free_text(
    session: Session, *, consultation_id: int, who: Answerer, text: str, now: datetime
) -> AnswerSheet:
    """The answer to the open question (checked like staff text); then the end."""
    consultation, code_id, row = _begin(session, consultation_id, who, now)
    if consultation.free_question is None:
        raise BadAnswer("free")
    cleaned = checked_text(text, limit=FREE_ANSWER_MAX, multiline=True)
    sheet = _sheet(consultation, row)
    channel, by = _channel(who)
    _save(
        session,
        consultation_id,
        code_id,
        row,
        choices=dict(sheet.choices),
        position=sheet.steps,
        free_text=cleaned,
        channel=channel,
        entered_by_id=by,
        now=now,
    )
    done = AnswerSheet(sheet.consultation, dict(sheet.choices), sheet.steps, cleaned, channel.value)
    _follow(session, who, done)
    return done


def current_sheet(session: Session, *, consultation: Consultation, person_id: int) -> AnswerSheet:
    """What a person has answered so far, read only (nothing is created)."""
    code_id = session.exec(
        select(ParticipantCode.id).where(
            col(ParticipantCode.person_id) == person_id,
            col(ParticipantCode.programme_id) == consultation.programme_id,
        )
    ).first()
    row = _row(session, consultation.id or 0, code_id) if code_id is not None else None
    return _sheet(consultation, row)


def open_for(session: Session, *, person_id: int, now: datetime) -> list[Consultation]:
    """Open consultations that ask this person, soonest closing first (for /consultations)."""
    rows = session.exec(
        select(Consultation)
        .where(
            col(Consultation.state) == ConsultationState.OPEN.value,
            col(Consultation.closes_at) > now,
        )
        .order_by(col(Consultation.closes_at), col(Consultation.id))
    ).all()
    return [detached(c) for c in rows if in_audience(session, c, person_id)]


# ---------------------------------------------------------------- erasure and access


def consultation_responses(session: Session, *, code_id: int) -> int:
    """How many consultations were answered under a code (for the erasure preview)."""
    return len(
        session.exec(
            select(ConsultationResponse.id).where(
                col(ConsultationResponse.participant_code_id) == code_id
            )
        ).all()
    )


def erase_consultation_answers(session: Session, *, code_id: int, keep: bool) -> tuple[int, int]:
    """On erasure: keep answers under the code alone (free text deleted) or delete them.

    Returns (kept, deleted). Called by storage.privacy.erasure before the code is cut loose or
    deleted; free text always goes, as it may identify.
    """
    rows = session.exec(
        select(ConsultationResponse.id).where(
            col(ConsultationResponse.participant_code_id) == code_id
        )
    ).all()
    if not rows:
        return 0, 0
    if keep:
        session.exec(
            update(ConsultationResponse)
            .where(col(ConsultationResponse.participant_code_id) == code_id)
            .values(free_text=None, entered_by_id=None)
            .execution_options(synchronize_session=False)
        )
        return len(rows), 0
    session.exec(
        delete(ConsultationResponse).where(col(ConsultationResponse.participant_code_id) == code_id)
    )
    return 0, len(rows)


@dataclass(frozen=True)
class ConsultationAnswerRecord:
    """One consultation a person answered, as they may see it (/mydata)."""

    programme: str
    participant_code: str
    title: str
    channel: str
    answers: tuple[tuple[str, tuple[str, ...]], ...]
    free_question: str | None
    free_text: str | None
    answered_at: datetime
    updated_at: datetime


def consultation_answers_of(session: Session, *, person_id: int) -> list[ConsultationAnswerRecord]:
    """Every consultation answer stored under this person's codes, with the texts."""
    found = []
    for response, consultation, code, programme in session.exec(
        select(ConsultationResponse, Consultation, ParticipantCode, Programme)
        .join(Consultation, col(Consultation.id) == col(ConsultationResponse.consultation_id))
        .join(
            ParticipantCode,
            col(ParticipantCode.id) == col(ConsultationResponse.participant_code_id),
        )
        .join(Programme, col(Programme.id) == col(Consultation.programme_id))
        .where(col(ParticipantCode.person_id) == person_id)
        .order_by(col(ConsultationResponse.answered_at), col(ConsultationResponse.id))
    ).all():
        answers = []
        for index, question in enumerate(consultation.questions):
            options = question["options"]
            chosen = tuple(
                str(options[o])
                for o in (response.choices or {}).get(str(index), [])
                if 0 <= o < len(options)
            )
            answers.append((str(question["text"]), chosen))
        found.append(
            ConsultationAnswerRecord(
                programme=programme.name,
                participant_code=code.code,
                title=consultation.title,
                channel=response.channel,
                answers=tuple(answers),
                free_question=consultation.free_question,
                free_text=response.free_text,
                answered_at=response.answered_at,
                updated_at=response.updated_at,
            )
        )
    return found
