"""Survey invitations and gentle follow-ups, left in the outbox and rendered when due.

- an initial survey offered after a first sign-up (or started in the chat) and not
  submitted gets one reminder 3 days later;
- when the final survey opens, every participant gets an invitation, and reminders
  3 and 7 days later while it is not submitted;
- submitting cancels what is pending (storage.surveys.responses.submit); the renderers also drop
  anything that is no longer relevant (submitted, survey closed, follow-ups turned off
  for the programme, person erased or without Telegram).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select

from schedules.messages import Button, OutgoingMessage
from storage.audit import AuditAction, record
from storage.messaging.outbox import enqueue
from storage.models import (
    Activity,
    ParticipantCode,
    PendingSend,
    Person,
    Programme,
    Registration,
    RegistrationStatus,
    SendKind,
    SurveyResponse,
)
from storage.surveys.questionnaires import SurveyPhase
from storage.surveys.responses import (
    cancel_survey_sends,
    find_response,
    followup_sends,
    invite_key,
    phase_open,
    view,
)
from storage.surveys.versions import SurveyError, current_questionnaire, questionnaire_of
from translations import Translator

log = logging.getLogger(__name__)
PHASE_LETTER = {SurveyPhase.INITIAL: "i", SurveyPhase.FINAL: "f"}


def open_survey_data(programme_id: int, phase: SurveyPhase) -> str:
    """Callback data of the button that opens (or resumes) a survey: `sv:go:12:f`."""
    return f"sv:go:{programme_id}:{PHASE_LETTER[phase]}"


def _key_exists(session: Session, key: str) -> bool:
    found = session.exec(select(PendingSend.id).where(PendingSend.dedupe_key == key)).first()
    return found is not None


def schedule_followups(
    session: Session,
    *,
    person_id: int,
    programme: Programme,
    phase: SurveyPhase,
    offered_at: datetime,
) -> int:
    """Leave the phase's follow-ups in the outbox, once; returns how many were added.

    Follow-ups that already exist (in any state) are left alone, so offering again or
    starting from /survey never moves or revives a reminder.
    """
    if not programme.survey_followups or programme.id is None:
        return 0
    added = 0
    for send in followup_sends(
        person_id=person_id, programme_id=programme.id, phase=phase, offered_at=offered_at
    ):
        assert send.dedupe_key is not None
        if _key_exists(session, send.dedupe_key):
            continue
        enqueue(
            session,
            kind=send.kind,
            person_id=send.person_id,
            due_at=send.due_at,
            programme_id=send.programme_id,
            payload=send.payload,
            dedupe_key=send.dedupe_key,
        )
        added += 1
    return added


@dataclass(frozen=True)
class FinalSurveyOpening:
    """What opening the final survey did."""

    invited: int
    already_invited: int
    already_answered: int
    without_telegram: int
    opened_now: bool


def final_survey_audience(session: Session, *, programme_id: int) -> list[Person]:
    """Everyone with a submitted initial survey, or a place or attendance in an activity."""
    with_initial = (
        select(ParticipantCode.person_id)
        .join(SurveyResponse, col(SurveyResponse.participant_code_id) == col(ParticipantCode.id))
        .where(
            ParticipantCode.programme_id == programme_id,
            SurveyResponse.phase == SurveyPhase.INITIAL.value,
            col(SurveyResponse.submitted_at).is_not(None),
        )
    )
    took_part = (
        select(Registration.person_id)
        .join(Activity, col(Activity.id) == col(Registration.activity_id))
        .where(
            Activity.programme_id == programme_id,
            or_(
                col(Registration.status) == RegistrationStatus.CONFIRMED.value,
                col(Registration.attended),
            ),
        )
    )
    return list(
        session.exec(
            select(Person)
            .where(
                or_(col(Person.id).in_(with_initial), col(Person.id).in_(took_part)),
                col(Person.erased_at).is_(None),
            )
            .order_by(col(Person.id))
        )
    )


def open_final_survey(
    session: Session, *, programme: Programme, now: datetime, actor_id: int | None = None
) -> FinalSurveyOpening:
    """Open the final survey and invite everyone it is for, once per person."""
    assert programme.id is not None
    opened_now = programme.final_survey_opened_at is None
    if opened_now:
        programme.final_survey_opened_at = now
        session.add(programme)
        record(
            session,
            actor_id=actor_id,
            action=AuditAction.FINAL_SURVEY_OPENED,
            subject_type="programme",
            subject_id=programme.id,
        )
    invited = already_invited = answered = paper = 0
    for person in final_survey_audience(session, programme_id=programme.id):
        assert person.id is not None
        # The initial survey is over for everyone: its reminders would only confuse.
        cancel_survey_sends(
            session, person_id=person.id, programme_id=programme.id, phase=SurveyPhase.INITIAL
        )
        response = find_response(
            session, person_id=person.id, programme_id=programme.id, phase=SurveyPhase.FINAL
        )
        if response is not None and response.submitted_at is not None:
            answered += 1
            continue
        if person.telegram_id is None:
            paper += 1
            continue
        key = invite_key(person.id, programme.id, SurveyPhase.FINAL)
        if _key_exists(session, key):
            already_invited += 1
            continue
        enqueue(
            session,
            kind=SendKind.SURVEY_INVITE,
            person_id=person.id,
            due_at=now,
            programme_id=programme.id,
            payload={"phase": SurveyPhase.FINAL.value},
            dedupe_key=key,
        )
        schedule_followups(
            session,
            person_id=person.id,
            programme=programme,
            phase=SurveyPhase.FINAL,
            offered_at=now,
        )
        invited += 1
    return FinalSurveyOpening(invited, already_invited, answered, paper, opened_now)


# --------------------------------------------------------------------- renderers


@dataclass(frozen=True)
class _Due:
    programme: Programme
    phase: SurveyPhase
    response: SurveyResponse | None


def _still_due(session: Session, send: PendingSend, person: Person) -> _Due | None:
    if person.erased_at is not None or person.telegram_id is None or person.id is None:
        return None
    programme = session.get(Programme, send.programme_id) if send.programme_id else None
    try:
        phase = SurveyPhase(str(send.payload.get("phase", "")))
    except ValueError:
        log.warning("survey send %s has no valid phase; dropped", send.id)
        return None
    if programme is None or programme.id is None or not phase_open(programme, phase):
        return None
    if send.kind == SendKind.SURVEY_FOLLOWUP.value and not programme.survey_followups:
        return None
    response = find_response(session, person_id=person.id, programme_id=programme.id, phase=phase)
    if response is not None and response.submitted_at is not None:
        return None
    return _Due(programme, phase, response)


def _minutes(session: Session, due: _Due) -> int | None:
    try:
        if due.response is not None:
            return questionnaire_of(session, due.response).estimated_minutes(due.phase)
        return current_questionnaire(session, due.programme).estimated_minutes(due.phase)
    except SurveyError:
        return None  # the message still goes out, just without the estimate


def _invitation_text(t: Translator, phase: SurveyPhase, minutes: int | None) -> str:
    if phase == SurveyPhase.FINAL:
        lead = t._(
            "📝 The final survey is open. Tell us how you are doing now that you have "
            "taken part in the programme."
        )
    else:
        lead = t._(
            "📝 We invite you to answer the initial survey: a few short questions about "
            "how you are doing."
        )
    parts = [lead]
    if minutes is not None:
        parts.append(
            t.ngettext("It takes about {n} minute.", "It takes about {n} minutes.", minutes).format(
                n=minutes
            )
        )
    parts.append(t._("Taking part and the surveys are voluntary and never affect benefits."))
    return "\n\n".join(parts)


def render_survey_invite(
    session: Session, send: PendingSend, person: Person, t: Translator
) -> OutgoingMessage | None:
    """The invitation to a survey with a button that opens it; dropped once submitted."""
    due = _still_due(session, send, person)
    if due is None or due.programme.id is None:
        return None
    return OutgoingMessage(
        text=_invitation_text(t, due.phase, _minutes(session, due)),
        buttons=(
            (
                Button(
                    t._("📝 Answer the survey"),
                    callback_data=open_survey_data(due.programme.id, due.phase),
                ),
            ),
        ),
    )


def render_survey_followup(
    session: Session, send: PendingSend, person: Person, t: Translator
) -> OutgoingMessage | None:
    """A gentle reminder of an unfinished survey; dropped once submitted or turned off."""
    due = _still_due(session, send, person)
    if due is None or due.programme.id is None:
        return None
    data = open_survey_data(due.programme.id, due.phase)
    if due.response is not None:
        try:
            progress = view(session, due.response)
        except SurveyError:
            return None
        text = t._(
            "📝 Your survey is waiting for you: {done} of {total} questions done. You can "
            "continue where you stopped."
        ).format(done=min(progress.response.position, progress.total), total=progress.total)
        text += "\n\n" + t._("Taking part and the surveys are voluntary and never affect benefits.")
        return OutgoingMessage(
            text=text, buttons=((Button(t._("▶️ Continue the survey"), callback_data=data),),)
        )
    text = (
        t._("A gentle reminder.") + "\n\n" + _invitation_text(t, due.phase, _minutes(session, due))
    )
    return OutgoingMessage(
        text=text, buttons=((Button(t._("📝 Answer the survey"), callback_data=data),),)
    )
