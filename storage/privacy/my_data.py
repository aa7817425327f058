"""The right of access: everything stored about a person, gathered for /mydata.

Telegram-free, so the command line writes the same files for people without Telegram
(bot/data_export.py renders them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from storage.consultations.answers import ConsultationAnswerRecord, consultation_answers_of
from storage.models import (
    Activity,
    ActivityStatus,
    Dialog,
    ParticipantCode,
    PendingSend,
    Person,
    PlaceOffer,
    Programme,
    ProgrammeMembership,
    Registration,
    RegistrationStatus,
    RoleGrant,
    SendState,
    SurveyAnswer,
    SurveyResponse,
    SurveyVersion,
)
from storage.surveys.questionnaires import Questionnaire, from_definition


class PersonNotFound(LookupError):
    """No person with that id."""


@dataclass(frozen=True)
class RegistrationRecord:
    """One sign-up as the person may see it."""

    registration_id: int
    activity_id: int
    title: str
    category: str
    venue: str
    starts_at: datetime
    ends_at: datetime
    activity_cancelled: bool
    status: str
    reserve_position: int | None
    joined_reserve: bool
    promoted_at: datetime | None
    cancelled_at: datetime | None
    attended: bool
    attendance_marked_at: datetime | None
    signed_up_by_animator: bool
    confirmed_coming_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class AnswerRecord:
    """One survey answer, with the question's text when the questionnaire is known."""

    item_id: str
    question: dict[str, str]
    value: str | None
    # Button label per language for choice answers, so the file reads like the chat did.
    label: dict[str, str]
    answered_at: datetime


@dataclass(frozen=True)
class ResponseRecord:
    """One survey (initial or final) in one programme."""

    programme: str
    participant_code: str
    phase: str
    questionnaire_id: str
    questionnaire_version: str
    channel: str
    started_at: datetime
    submitted_at: datetime | None
    answers: tuple[AnswerRecord, ...]


@dataclass(frozen=True)
class SendRecord:
    """A message the bot has scheduled for, or sent to, the person."""

    send_id: int
    kind: str
    state: str
    due_at: datetime
    sent_at: datetime | None
    activity_title: str | None


@dataclass(frozen=True)
class OfferRecord:
    """A freed place offered to the person from the reserve list, and what came of it."""

    activity_title: str
    starts_at: datetime
    kind: str
    state: str
    offered_at: datetime
    deadline: datetime
    answered_at: datetime | None


@dataclass(frozen=True)
class PersonData:
    """Everything stored about one person."""

    person_id: int
    display_name: str | None
    telegram_id: int | None
    language: str
    programme: str | None
    onboarding_finished: bool
    phone: str | None
    paper_notice_signed: bool
    registered_by_animator: bool
    unreachable_since: datetime | None
    created_at: datetime
    roles: tuple[str, ...]
    registrations: tuple[RegistrationRecord, ...]
    responses: tuple[ResponseRecord, ...]
    pending_messages: tuple[SendRecord, ...]
    sent_messages: tuple[SendRecord, ...]
    open_dialogs: tuple[dict[str, Any], ...]
    generated_at: datetime
    # Consultations answered (in the chat or entered from paper), under the person's codes.
    consultations: tuple[ConsultationAnswerRecord, ...] = ()
    # Places offered from the reserve list (taken, passed, expired or still open).
    offers: tuple[OfferRecord, ...] = ()
    # Other programmes joined: (name, joined at, left at or None).
    other_programmes: tuple[tuple[str, datetime, datetime | None], ...] = ()

    @property
    def attendance(self) -> tuple[RegistrationRecord, ...]:
        """Activities that took place while the person held a place (attended or not)."""
        return tuple(
            r
            for r in self.registrations
            if r.status == RegistrationStatus.CONFIRMED
            and r.ends_at <= self.generated_at
            and not r.activity_cancelled
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (ISO 8601 UTC times) for the machine-readable copy."""

        def plain(value: Any) -> Any:
            if isinstance(value, datetime):
                return value.isoformat()
            if isinstance(value, tuple | list):
                return [plain(v) for v in value]
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if hasattr(value, "__dataclass_fields__"):
                return {k: plain(getattr(value, k)) for k in value.__dataclass_fields__}
            return value

        data = plain(self)
        assert isinstance(data, dict)
        data["attendance"] = [
            {
                "activity_id": r.activity_id,
                "title": r.title,
                "starts_at": r.starts_at.isoformat(),
                "attended": r.attended,
            }
            for r in self.attendance
        ]
        return {"format": "palbot-person-data/1", **data}


def questionnaire_of(
    session: Session, cache: dict[tuple[str, str], Questionnaire | None], qid: str, version: str
) -> Questionnaire | None:
    """The questionnaire version responses were given to, from its stored definition."""
    key = (qid, version)
    if key not in cache:
        row = session.exec(
            select(SurveyVersion).where(
                SurveyVersion.questionnaire_id == qid, SurveyVersion.version == version
            )
        ).first()
        try:
            cache[key] = from_definition(row.definition) if row and row.definition else None
        except ValueError:
            cache[key] = None
    return cache[key]


def _answer_record(answer: SurveyAnswer, questionnaire: Questionnaire | None) -> AnswerRecord:
    question: dict[str, str] = {}
    label: dict[str, str] = {}
    if questionnaire is not None:
        try:
            item = questionnaire.item(answer.item_id)
        except KeyError:
            item = None
        if item is not None:
            question = {lang: item.text.get(lang) for lang in ("pl", "uk", "en")}
            if answer.value is not None:
                for lang in ("pl", "uk", "en"):
                    for value, text in item.choices(lang):
                        if value == answer.value:
                            label[lang] = text
    return AnswerRecord(answer.item_id, question, answer.value, label, answer.answered_at)


def _reserve_position(session: Session, registration: Registration) -> int | None:
    if registration.status != RegistrationStatus.RESERVE or registration.id is None:
        return None
    ahead = session.exec(
        select(Registration.id).where(
            Registration.activity_id == registration.activity_id,
            Registration.status == RegistrationStatus.RESERVE,
            col(Registration.id) < registration.id,
        )
    ).all()
    return len(ahead) + 1


def person_data(session: Session, *, person_id: int, now: datetime) -> PersonData:
    """Everything stored about a person, for the right of access (/mydata)."""
    person = session.get(Person, person_id)
    if person is None or person.id is None:
        raise PersonNotFound(person_id)
    programme = session.get(Programme, person.programme_id) if person.programme_id else None
    roles: tuple[str, ...] = ()
    if person.telegram_id is not None:
        roles = tuple(
            sorted(
                set(
                    session.exec(
                        select(RoleGrant.role).where(RoleGrant.telegram_id == person.telegram_id)
                    ).all()
                )
            )
        )
    registrations = tuple(
        RegistrationRecord(
            registration_id=reg.id or 0,
            activity_id=act.id or 0,
            title=act.title,
            category=act.category,
            venue=act.venue,
            starts_at=act.starts_at,
            ends_at=act.ends_at,
            activity_cancelled=act.status == ActivityStatus.CANCELLED,
            status=reg.status,
            reserve_position=_reserve_position(session, reg),
            joined_reserve=reg.joined_reserve,
            promoted_at=reg.promoted_at,
            cancelled_at=reg.cancelled_at,
            attended=reg.attended,
            attendance_marked_at=reg.attendance_marked_at,
            signed_up_by_animator=reg.proxy_by_id is not None and reg.proxy_by_id != person.id,
            confirmed_coming_at=reg.confirmed_coming_at,
            created_at=reg.created_at,
        )
        for reg, act in session.exec(
            select(Registration, Activity)
            .join(Activity, col(Activity.id) == col(Registration.activity_id))
            .where(Registration.person_id == person_id)
            .order_by(col(Activity.starts_at), col(Registration.id))
        ).all()
    )
    cache: dict[tuple[str, str], Questionnaire | None] = {}
    responses = []
    for code, response, prog in session.exec(
        select(ParticipantCode, SurveyResponse, Programme)
        .join(SurveyResponse, col(SurveyResponse.participant_code_id) == col(ParticipantCode.id))
        .join(Programme, col(Programme.id) == col(SurveyResponse.programme_id))
        .where(ParticipantCode.person_id == person_id)
        .order_by(col(SurveyResponse.started_at), col(SurveyResponse.id))
    ).all():
        questionnaire = questionnaire_of(
            session, cache, response.questionnaire_id, response.questionnaire_version
        )
        answers = session.exec(
            select(SurveyAnswer)
            .where(SurveyAnswer.response_id == response.id)
            .order_by(col(SurveyAnswer.id))
        ).all()
        responses.append(
            ResponseRecord(
                programme=prog.name,
                participant_code=code.code,
                phase=response.phase,
                questionnaire_id=response.questionnaire_id,
                questionnaire_version=response.questionnaire_version,
                channel=response.channel,
                started_at=response.started_at,
                submitted_at=response.submitted_at,
                answers=tuple(_answer_record(a, questionnaire) for a in answers),
            )
        )
    pending: list[SendRecord] = []
    sent: list[SendRecord] = []
    for send, title in session.exec(
        select(PendingSend, Activity.title)
        .join(Activity, col(Activity.id) == col(PendingSend.activity_id), isouter=True)
        .where(PendingSend.person_id == person_id)
        .order_by(col(PendingSend.due_at), col(PendingSend.id))
    ).all():
        record = SendRecord(send.id or 0, send.kind, send.state, send.due_at, send.sent_at, title)
        if send.state in (SendState.PENDING, SendState.CLAIMED):
            pending.append(record)
        elif send.state == SendState.SENT:
            sent.append(record)
    dialogs = tuple(
        {"kind": d.kind, "step": d.step, "updated_at": d.updated_at}
        for d in session.exec(select(Dialog).where(Dialog.person_id == person_id)).all()
    )
    other_programmes = tuple(
        (name, joined_at, left_at)
        for name, joined_at, left_at in session.exec(
            select(Programme.name, ProgrammeMembership.joined_at, ProgrammeMembership.left_at)
            .join(Programme, col(Programme.id) == col(ProgrammeMembership.programme_id))
            .where(
                ProgrammeMembership.person_id == person_id,
                ProgrammeMembership.programme_id != person.programme_id,
            )
            .order_by(col(ProgrammeMembership.joined_at))
        ).all()
    )
    return PersonData(
        person_id=person.id,
        display_name=person.display_name,
        telegram_id=person.telegram_id,
        language=person.language,
        programme=programme.name if programme else None,
        onboarding_finished=person.is_onboarded,
        phone=person.phone,
        paper_notice_signed=person.paper_notice_signed,
        registered_by_animator=person.created_by_id is not None,
        unreachable_since=person.unreachable_at,
        created_at=person.created_at,
        roles=roles,
        registrations=registrations,
        responses=tuple(responses),
        pending_messages=tuple(pending),
        sent_messages=tuple(sent),
        open_dialogs=dialogs,
        generated_at=now,
        consultations=tuple(consultation_answers_of(session, person_id=person_id)),
        offers=tuple(
            OfferRecord(
                title,
                starts_at,
                offer.kind,
                offer.state,
                offer.created_at,
                offer.deadline,
                offer.answered_at,
            )
            for offer, title, starts_at in session.exec(
                select(PlaceOffer, Activity.title, Activity.starts_at)
                .join(Activity, col(Activity.id) == col(PlaceOffer.activity_id))
                .where(PlaceOffer.person_id == person_id)
                .order_by(col(PlaceOffer.created_at), col(PlaceOffer.id))
            ).all()
        ),
        other_programmes=other_programmes,
    )
