"""Consultations: who may run them, who is asked, opening and closing, and the counts.

Telegram-free. A consultation is `scheduled` until its opening instant, `open` while
answers are taken, then `closed`. Opening and closing are claimed by a state change
(`UPDATE … WHERE state = 'scheduled'`), so of several processes exactly one enqueues the
invitations (or the results) — one pending send per person, delivered by the outbox
dispatcher at the announcement pace and held during quiet hours. Answers are kept under
the participant's pseudonymous code (storage.consultations.answers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, exists, func, update
from sqlmodel import Session, col, select

from storage.access import Action, may
from storage.activities.organising import Actor, managed_activity
from storage.audit import record
from storage.consultations.drafts import (
    closes_at,
    opens_at,
    title_of,
    validate_complete,
)
from storage.messaging.outbox import NewSend, enqueue_many
from storage.models import (
    AnswerChannel,
    Consultation,
    ConsultationAudience,
    ConsultationResponse,
    ConsultationState,
    ParticipantCode,
    Person,
    Registration,
    RegistrationStatus,
    SendKind,
)
from storage.models.people import OnboardingStep
from storage.people.memberships import members_of


class NotYourConsultation(PermissionError):
    """No such consultation, or not one this person may run (forged ids reveal nothing)."""


class ConsultationNotOpen(Exception):
    """Answers are taken only while a consultation is open; `state` says why not."""

    def __init__(self, state: str, closes_at: datetime | None = None) -> None:
        super().__init__(state)
        self.state = state
        self.closes_at = closes_at


class NotInAudience(PermissionError):
    """The consultation does not ask this person."""


# ---------------------------------------------------------------- access


def may_run(actor: Actor, programme_id: int) -> bool:
    """Who may run a programme's consultations: its staff and admins, by the access rule."""
    return may(actor, Action.WORK_IN_PROGRAMME, programme_id=programme_id)


def staff_consultation(session: Session, *, consultation_id: int, actor: Actor) -> Consultation:
    """The consultation if the actor may run it; NotYourConsultation otherwise."""
    found = session.get(Consultation, consultation_id)
    if found is None or not may_run(actor, found.programme_id):
        raise NotYourConsultation(consultation_id)
    return found


# ---------------------------------------------------------------- audience


def _audience_conditions(
    audience: str, programme_id: int, activity_id: int | None
) -> list[ColumnElement[bool]]:
    """Who a consultation asks, as conditions on Person (erased people never)."""
    conditions: list[ColumnElement[bool]] = [
        col(Person.erased_at).is_(None),
        col(Person.onboarding_step) == OnboardingStep.DONE.value,
    ]
    if audience == ConsultationAudience.PROGRAMME:
        conditions.append(members_of(programme_id))
    elif audience == ConsultationAudience.ACTIVITY:
        conditions.append(
            exists().where(
                col(Registration.person_id) == col(Person.id),
                col(Registration.activity_id) == activity_id,
                col(Registration.status) == RegistrationStatus.CONFIRMED.value,
            )
        )
    return conditions


def _of(consultation: Consultation) -> list[ColumnElement[bool]]:
    return _audience_conditions(
        consultation.audience, consultation.programme_id, consultation.audience_activity_id
    )


def audience_ids(session: Session, consultation: Consultation, *, reachable: bool) -> list[int]:
    """Person ids the consultation asks; `reachable`: only those the chat can reach."""
    return _ids(session, _of(consultation), reachable=reachable)


def _ids(session: Session, conditions: list[ColumnElement[bool]], *, reachable: bool) -> list[int]:
    query = select(Person.id).where(*conditions)
    if reachable:
        query = query.where(
            col(Person.telegram_id).is_not(None), col(Person.unreachable_at).is_(None)
        )
    return [int(pid) for pid in session.exec(query.order_by(col(Person.id))).all() if pid]


def in_audience(session: Session, consultation: Consultation, person_id: int) -> bool:
    """Whether the consultation asks this person (checked on every answer)."""
    found = session.exec(
        select(Person.id).where(col(Person.id) == person_id, *_of(consultation))
    ).first()
    return found is not None


def audience_size(
    session: Session, *, draft: dict[str, Any], programme_id: int, author_id: int
) -> int:
    """How many people a draft would reach in the chat now, its author left out."""
    conditions = _audience_conditions(
        str(draft.get("audience", ConsultationAudience.PROGRAMME)),
        programme_id,
        draft.get("activity_id"),
    )
    return len([pid for pid in _ids(session, conditions, reachable=True) if pid != author_id])


# ---------------------------------------------------------------- creating


def create_consultation(
    session: Session,
    *,
    draft: dict[str, Any],
    programme_id: int,
    actor: Actor,
    now: datetime,
    zone: ZoneInfo,
) -> Consultation:
    """Create the consultation from a complete draft; it opens at once if due today."""
    if not may_run(actor, programme_id):
        raise NotYourConsultation(programme_id)
    validate_complete(draft, now=now, zone=zone)
    audience = ConsultationAudience(draft["audience"])
    if audience == ConsultationAudience.EVERYONE and not actor.is_admin:
        raise NotYourConsultation(programme_id)
    activity_id = draft.get("activity_id") if audience == ConsultationAudience.ACTIVITY else None
    if activity_id is not None:
        # Raises NotYourActivity for an activity this person may not manage.
        managed_activity(session, activity_id=int(activity_id), actor=actor)
    consultation = Consultation(
        programme_id=programme_id,
        author_id=actor.person_id,
        title=title_of(draft),
        questions=[dict(q) for q in draft["questions"]],
        free_question=draft.get("free"),
        translations=dict(draft.get("translations") or {}),
        audience=audience.value,
        audience_activity_id=activity_id,
        opens_at=opens_at(draft, now=now, zone=zone),
        closes_at=closes_at(draft, zone),
        show_results=bool(draft["show_results"]),
        created_at=now,
    )
    session.add(consultation)
    session.flush()
    assert consultation.id is not None
    record(
        session,
        actor_id=actor.person_id,
        action="consultation.created",
        subject_type="consultation",
        subject_id=consultation.id,
        details={
            "programme_id": programme_id,
            "audience": audience.value,
            "activity_id": activity_id,
            "questions": len(consultation.questions),
            "free_question": consultation.free_question is not None,
        },
        at=now,
    )
    if consultation.opens_at <= now:
        _open(session, consultation.id, now)
    session.refresh(consultation)
    return consultation


# ---------------------------------------------------------------- opening and closing


@dataclass(frozen=True)
class Advanced:
    """What one pass of the schedule did: consultations opened and closed, sends queued."""

    opened: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    queued: int = 0


def _claim(
    session: Session,
    consultation_id: int,
    before: ConsultationState,
    after: ConsultationState,
    now: datetime,
) -> bool:
    stamp = {"opened_at": now} if after == ConsultationState.OPEN else {"closed_at": now}
    result = session.exec(
        update(Consultation)
        .where(col(Consultation.id) == consultation_id, col(Consultation.state) == before.value)
        .values(state=after.value, **stamp)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def _open(session: Session, consultation_id: int, now: datetime) -> int | None:
    """Open it and queue the invitations; None if another process opened it first."""
    if not _claim(
        session, consultation_id, ConsultationState.SCHEDULED, ConsultationState.OPEN, now
    ):
        return None
    consultation = session.get(Consultation, consultation_id, populate_existing=True)
    assert consultation is not None
    # The author wrote it: their copy was the preview.
    people = [
        pid
        for pid in audience_ids(session, consultation, reachable=True)
        if pid != consultation.author_id
    ]
    return enqueue_many(
        session,
        [
            NewSend(
                kind=SendKind.CONSULTATION,
                person_id=pid,
                due_at=now,
                programme_id=consultation.programme_id,
                payload={"consultation_id": consultation_id},
                dedupe_key=f"consultation:{consultation_id}:{pid}",
            )
            for pid in people
        ],
    )


def _close(
    session: Session, consultation_id: int, now: datetime, actor_id: int | None
) -> int | None:
    """Close it and queue the results; None if another process closed it first."""
    if not _claim(session, consultation_id, ConsultationState.OPEN, ConsultationState.CLOSED, now):
        return None
    consultation = session.get(Consultation, consultation_id, populate_existing=True)
    assert consultation is not None
    record(
        session,
        actor_id=actor_id,
        action="consultation.closed",
        subject_type="consultation",
        subject_id=consultation_id,
        details={"early": consultation.closes_at > now},
        at=now,
    )
    if not consultation.show_results:
        return 0
    # The results go to everyone who answered in the chat and can still be reached.
    respondents = session.exec(
        select(Person.id)
        .join(ParticipantCode, col(ParticipantCode.person_id) == col(Person.id))
        .join(
            ConsultationResponse,
            col(ConsultationResponse.participant_code_id) == col(ParticipantCode.id),
        )
        .where(
            col(ConsultationResponse.consultation_id) == consultation_id,
            col(ConsultationResponse.channel) == AnswerChannel.CHAT.value,
            col(Person.telegram_id).is_not(None),
            col(Person.erased_at).is_(None),
            col(Person.unreachable_at).is_(None),
        )
        .order_by(col(Person.id))
    ).all()
    return enqueue_many(
        session,
        [
            NewSend(
                kind=SendKind.CONSULTATION_RESULTS,
                person_id=int(pid),
                due_at=now,
                programme_id=consultation.programme_id,
                payload={"consultation_id": consultation_id},
                dedupe_key=f"consultation_results:{consultation_id}:{pid}",
            )
            for pid in respondents
            if pid is not None
        ],
    )


def advance_consultations(session: Session, *, now: datetime) -> Advanced:
    """Open every consultation whose time has come and close every one that has ended."""
    opened: list[int] = []
    closed: list[int] = []
    queued = 0
    due_open = session.exec(
        select(Consultation.id).where(
            col(Consultation.state) == ConsultationState.SCHEDULED.value,
            col(Consultation.opens_at) <= now,
        )
    ).all()
    for cid in due_open:
        sent = _open(session, cid, now) if cid is not None else None
        if cid is not None and sent is not None:
            queued += sent
            opened.append(cid)
    due_close = session.exec(
        select(Consultation.id).where(
            col(Consultation.state) == ConsultationState.OPEN.value,
            col(Consultation.closes_at) <= now,
        )
    ).all()
    for cid in due_close:
        sent = _close(session, cid, now, None) if cid is not None else None
        if cid is not None and sent is not None:
            queued += sent
            closed.append(cid)
    return Advanced(opened, closed, queued)


def next_change_at(session: Session) -> datetime | None:
    """The next instant a consultation opens or closes, if any."""
    first_open = session.exec(
        select(func.min(Consultation.opens_at)).where(
            col(Consultation.state) == ConsultationState.SCHEDULED.value
        )
    ).one()
    first_close = session.exec(
        select(func.min(Consultation.closes_at)).where(
            col(Consultation.state) == ConsultationState.OPEN.value
        )
    ).one()
    found = [moment for moment in (first_open, first_close) if moment is not None]
    return min(found) if found else None


def close_now(session: Session, *, consultation_id: int, actor: Actor, now: datetime) -> int:
    """Close an open consultation before its date (or withdraw one not open yet: nobody
    is asked); returns how many results were queued."""
    consultation = staff_consultation(session, consultation_id=consultation_id, actor=actor)
    queued = None
    if consultation.state == ConsultationState.OPEN:
        queued = _close(session, consultation_id, now, actor.person_id)
    elif consultation.state == ConsultationState.SCHEDULED and _claim(
        session, consultation_id, ConsultationState.SCHEDULED, ConsultationState.CLOSED, now
    ):
        record(
            session,
            actor_id=actor.person_id,
            action="consultation.withdrawn",
            subject_type="consultation",
            subject_id=consultation_id,
            at=now,
        )
        queued = 0
    if queued is None:
        raise ConsultationNotOpen(consultation.state, consultation.closes_at)
    return queued
