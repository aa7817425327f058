"""The right to erasure: removing a person's identity and every link to it.

Telegram-free. `erase_person` carries out erasure (RODO art. 17) the same way whether
the person asks in the chat, an animator acts for someone without Telegram, or the
retention period of their programmes has passed (see storage.privacy.retention). What a person
may see under the right of access is gathered in storage.privacy.my_data.

Erasure removes the identity, not the statistics the programme must report: the person
row stays as an empty stub (no name, no Telegram id, no phone), so past attendance still
counts in the yearly indicators but can no longer be tied to anyone. Survey answers are
kept under the pseudonymous participant code or deleted, as the programme says; free-text
answers are always deleted because they can identify.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage.activities.seats import RegistrationClosed, cancel
from storage.consultations.answers import consultation_responses, erase_consultation_answers
from storage.db import is_sqlite
from storage.messaging.outbox import cancel_pending
from storage.models import (
    Activity,
    ActivityStatus,
    AuditEntry,
    Broadcast,
    Dialog,
    ParticipantCode,
    PendingSend,
    Person,
    Programme,
    ProgrammeMembership,
    Registration,
    RegistrationStatus,
    RoleGrant,
    SendState,
    SurveyAnswer,
    SurveyResponse,
)
from storage.models.activities import ACTIVE_STATUSES
from storage.people.without_telegram import proxy_participant
from storage.privacy.my_data import PersonNotFound, questionnaire_of
from storage.surveys.questionnaires import ItemType, Questionnaire

log = logging.getLogger(__name__)

# What a stored answer looks like when it is a button choice (likert point or option value).
_CHOICE_VALUE = re.compile(r"^[a-z0-9][a-z0-9_]{0,31}$")


class ErasureReason(StrEnum):
    """Why an identity was erased (kept in the audit trail, ids only)."""

    REQUEST = "request"  # the person asked (/forgetme)
    ANIMATOR = "animator"  # an animator acted for a person without Telegram
    RETENTION = "retention"  # the retention period of their programmes passed


class AnswersFate(StrEnum):
    """What happened to a person's survey answers on erasure."""

    NONE = "none"  # there were no submitted answers
    KEPT = "kept"  # kept under the pseudonymous code only
    DELETED = "deleted"
    MIXED = "mixed"  # kept in one programme, deleted in another


# ---------------------------------------------------------------- the right to erasure


@dataclass(frozen=True)
class ErasurePreview:
    """What erasing a person would do, to show before they confirm."""

    places_released: int
    reserve_positions_left: int
    pending_messages: int
    answers: AnswersFate


@dataclass
class ErasureReport:
    """What erasing a person did (ids and counts only: this is logged and audited)."""

    person_id: int
    already_erased: bool = False
    places_released: int = 0
    reserve_positions_left: int = 0
    promoted_registration_ids: list[int] = field(default_factory=list)
    sends_cancelled: int = 0
    answers: AnswersFate = AnswersFate.NONE
    responses_kept: int = 0
    responses_deleted: int = 0
    free_text_answers_deleted: int = 0
    consultation_answers_kept: int = 0
    consultation_answers_deleted: int = 0


def _answers_fate(kept: int, deleted: int) -> AnswersFate:
    if kept and deleted:
        return AnswersFate.MIXED
    if kept:
        return AnswersFate.KEPT
    if deleted:
        return AnswersFate.DELETED
    return AnswersFate.NONE


def _live_registrations(session: Session, person_id: int) -> list[tuple[Registration, Activity]]:
    return list(
        session.exec(
            select(Registration, Activity)
            .join(Activity, col(Activity.id) == col(Registration.activity_id))
            .where(
                Registration.person_id == person_id,
                col(Registration.status).in_([s.value for s in ACTIVE_STATUSES]),
            )
            .order_by(col(Registration.id))
        ).all()
    )


def _codes_with_programmes(
    session: Session, person_id: int
) -> list[tuple[ParticipantCode, Programme]]:
    return list(
        session.exec(
            select(ParticipantCode, Programme)
            .join(Programme, col(Programme.id) == col(ParticipantCode.programme_id))
            .where(ParticipantCode.person_id == person_id)
            .order_by(col(ParticipantCode.id))
        ).all()
    )


def _submitted_responses(session: Session, code_id: int) -> int:
    return len(
        session.exec(
            select(SurveyResponse.id).where(
                SurveyResponse.participant_code_id == code_id,
                col(SurveyResponse.submitted_at).is_not(None),
            )
        ).all()
    )


def _pending_sends(session: Session, person_id: int) -> int:
    return len(
        session.exec(
            select(PendingSend.id).where(
                PendingSend.person_id == person_id, PendingSend.state == SendState.PENDING
            )
        ).all()
    )


def erasure_preview(session: Session, *, person_id: int, now: datetime) -> ErasurePreview:
    """What `erase_person` would do now, without doing it."""
    if session.get(Person, person_id) is None:
        raise PersonNotFound(person_id)
    released = reserve = 0
    for registration, activity in _live_registrations(session, person_id):
        if activity.status != ActivityStatus.CANCELLED and now < activity.starts_at:
            if registration.status == RegistrationStatus.CONFIRMED:
                released += 1
            else:
                reserve += 1
    pending = _pending_sends(session, person_id)
    kept = deleted = 0
    for code, programme in _codes_with_programmes(session, person_id):
        assert code.id is not None
        submitted = _submitted_responses(session, code.id) + consultation_responses(
            session, code_id=code.id
        )
        if programme.keep_answers_on_erasure:
            kept += submitted
        else:
            deleted += submitted
    return ErasurePreview(released, reserve, pending, _answers_fate(kept, deleted))


def _free_text_answer_ids(
    session: Session,
    response: SurveyResponse,
    cache: dict[tuple[str, str], Questionnaire | None],
) -> list[int]:
    answers = session.exec(
        select(SurveyAnswer).where(SurveyAnswer.response_id == response.id)
    ).all()
    questionnaire = questionnaire_of(
        session, cache, response.questionnaire_id, response.questionnaire_version
    )
    text_items: set[str] | None = None
    if questionnaire is not None:
        text_items = {i.id for i in questionnaire.items if i.type == ItemType.TEXT}
    doomed = []
    for answer in answers:
        if answer.value is None or answer.id is None:
            continue
        if text_items is not None:
            if answer.item_id in text_items:
                doomed.append(answer.id)
        elif not _CHOICE_VALUE.match(answer.value):
            # Without the questionnaire, anything that is not a button choice may be
            # someone's own words: delete it rather than risk keeping it.
            doomed.append(answer.id)
    return doomed


def _delete_responses(session: Session, response_ids: Iterable[int]) -> None:
    ids = list(response_ids)
    if not ids:
        return
    session.exec(delete(SurveyAnswer).where(col(SurveyAnswer.response_id).in_(ids)))
    session.exec(delete(SurveyResponse).where(col(SurveyResponse.id).in_(ids)))


def _erase_answers(session: Session, person_id: int, report: ErasureReport) -> None:
    cache: dict[tuple[str, str], Questionnaire | None] = {}
    for code, programme in _codes_with_programmes(session, person_id):
        responses = session.exec(
            select(SurveyResponse).where(SurveyResponse.participant_code_id == code.id)
        ).all()
        # An unsubmitted survey never counted (nothing counts until Submit): it goes.
        unsubmitted = [r.id for r in responses if r.submitted_at is None and r.id is not None]
        submitted = [r for r in responses if r.submitted_at is not None]
        _delete_responses(session, unsubmitted)
        assert code.id is not None
        # Consultation answers share the code's fate; their free text always goes.
        kept, deleted = erase_consultation_answers(
            session, code_id=code.id, keep=programme.keep_answers_on_erasure
        )
        report.consultation_answers_kept += kept
        report.consultation_answers_deleted += deleted
        if programme.keep_answers_on_erasure:
            free_text: list[int] = []
            for response in submitted:
                free_text += _free_text_answer_ids(session, response, cache)
            if free_text:
                session.exec(delete(SurveyAnswer).where(col(SurveyAnswer.id).in_(free_text)))
            report.free_text_answers_deleted += len(free_text)
            report.responses_kept += len(submitted)
            # The code stays as the only key to the answers; nothing leads back to the person.
            code.person_id = None
            session.add(code)
        else:
            _delete_responses(session, [r.id for r in submitted if r.id is not None])
            report.responses_deleted += len(submitted)
            session.delete(code)
    session.flush()
    report.answers = _answers_fate(
        report.responses_kept + report.consultation_answers_kept,
        report.responses_deleted + report.consultation_answers_deleted,
    )


def _lock_person(session: Session, person_id: int) -> Person | None:
    # Two erasures of one person (a request and retention in another process) must not
    # interleave. NO KEY UPDATE, so that inserts referencing the person (a sign-up holding
    # an activity lock) do not deadlock with us; populate_existing re-reads a held row.
    return session.exec(
        select(Person)
        .where(Person.id == person_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).first()


def erase_person(
    session: Session,
    *,
    person_id: int,
    now: datetime,
    actor_id: int | None = None,
    reason: ErasureReason = ErasureReason.REQUEST,
) -> ErasureReport:
    """Erase a person's identity and every link to it, in one transaction.

    Upcoming places are given up through the seat rule (promoting the reserve list),
    pending messages are withdrawn, dialogs and roles removed, survey answers kept only
    under the pseudonymous code or deleted per programme. Erasing twice is harmless.
    """
    person = _lock_person(session, person_id)
    if person is None:
        raise PersonNotFound(person_id)
    report = ErasureReport(person_id=person_id)
    if person.erased_at is not None:
        report.already_erased = True
        return report
    # Giving up a place withdraws its reminders itself; count every withdrawn send.
    pending_before = _pending_sends(session, person_id)
    for registration, activity in _live_registrations(session, person_id):
        assert activity.id is not None
        if activity.status == ActivityStatus.CANCELLED:
            continue  # no seat to give back; the row is the activity's history
        was_confirmed = registration.status == RegistrationStatus.CONFIRMED
        try:
            result = cancel(
                session, person_id=person_id, activity_id=activity.id, now=now, by_id=actor_id
            )
        except RegistrationClosed:
            # The activity has begun: the place is history (attendance), not a seat to free.
            continue
        if was_confirmed:
            report.places_released += 1
        else:
            report.reserve_positions_left += 1
        if result.promoted is not None and result.promoted.id is not None:
            report.promoted_registration_ids.append(result.promoted.id)
    cancel_pending(session, person_id=person_id)
    report.sends_cancelled = pending_before
    session.exec(delete(Dialog).where(col(Dialog.person_id) == person_id))
    # Which programmes someone joined is about them; the sign-ups' programmes stay.
    session.exec(delete(ProgrammeMembership).where(col(ProgrammeMembership.person_id) == person_id))
    if person.telegram_id is not None:
        session.exec(delete(RoleGrant).where(col(RoleGrant.telegram_id) == person.telegram_id))
    # A broadcast's progress message lives in its author's chat: that chat id is theirs.
    session.exec(
        update(Broadcast)
        .where(col(Broadcast.author_id) == person_id)
        .values(progress_chat_id=None, progress_message_id=None)
    )
    _erase_answers(session, person_id, report)
    person.display_name = None
    person.telegram_id = None
    person.phone = None
    person.pending_start_payload = None
    person.unreachable_at = None
    person.erased_at = now
    session.add(person)
    session.add(
        AuditEntry(
            at=now,
            actor_id=actor_id,
            action="person.erase",
            subject_type="person",
            subject_id=person_id,
            details={
                "reason": reason.value,
                "places_released": report.places_released,
                "reserve_left": report.reserve_positions_left,
                "sends_cancelled": report.sends_cancelled,
                "answers": report.answers.value,
                "responses_kept": report.responses_kept,
                "responses_deleted": report.responses_deleted,
                "consultations_kept": report.consultation_answers_kept,
                "consultations_deleted": report.consultation_answers_deleted,
            },
        )
    )
    session.flush()
    log.info(
        "person erased: person_id=%s reason=%s places=%s reserve=%s sends=%s answers=%s",
        person_id,
        reason.value,
        report.places_released,
        report.reserve_positions_left,
        report.sends_cancelled,
        report.answers.value,
    )
    return report


def erase_proxy_participant(
    session: Session,
    *,
    person_id: int,
    animator_id: int,
    programme_ids: set[int] | None,
    now: datetime,
) -> ErasureReport:
    """An animator erases a person without Telegram (who cannot send /forgetme).

    Only people the animator may act for: without Telegram, not erased, in one of
    `programme_ids` (None: any programme, for admins).
    Raises storage.people.without_telegram.ProxyNotFound.
    """
    proxy_participant(session, person_id=person_id, programme_ids=programme_ids)
    return erase_person(
        session, person_id=person_id, now=now, actor_id=animator_id, reason=ErasureReason.ANIMATOR
    )


def scrub_freed_space(engine: Engine) -> None:
    """After erasure on SQLite: move the WAL into the main file and empty it.

    secure_delete (set on every connection) zeroes deleted content in the database
    file, but the write-ahead log still holds old page images until a checkpoint.
    On PostgreSQL the old row versions are VACUUM's to reclaim; nothing to do here.
    """
    if not is_sqlite(engine):
        return
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        # Outside any transaction: the driver connection is in autocommit mode.
        busy, _, _ = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            log.warning("WAL checkpoint after erasure was blocked by a reader; will retry")
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
