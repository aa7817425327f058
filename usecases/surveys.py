"""The survey side of residents' taps: the offer after a first sign-up, /survey and
opening (or resuming) one's own survey."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from storage.activities.seats import Place
from storage.dialogs import get_dialog
from storage.messaging.outbox import add_sends
from storage.models import Activity, ParticipantCode, Person, Programme, Registration
from storage.surveys.questionnaires import Questionnaire, SurveyPhase
from storage.surveys.responses import (
    Channel,
    ResponseNotFound,
    find_response,
    followup_sends,
    phase_due,
    phase_open,
    resident_programme_id,
    start_or_resume,
    view,
)
from storage.surveys.versions import (
    SurveyUnavailable,
    current_questionnaire,
    current_questionnaire_of,
)
from usecases.survey_steps import KIND_SELF, Actor, Step, keep_dialog


def offer_after_sign_up(
    session: Session, *, place: Place, person_id: int, now: datetime, surveys_dir: str | None
) -> Questionnaire | None:
    """The initial survey to offer after this sign-up, with its follow-up left in the outbox.

    Offered at the person's first sign-up in the programme only, while the initial
    survey is open and not yet started; /survey is always there otherwise. A
    questionnaire file that cannot be read means no offer (it is logged), not a failed
    sign-up.
    """
    locked = place.locked
    if (
        not place.reachable
        or place.earlier_sign_ups_here != 0
        or place.has_initial_response
        or locked.final_survey_opened_at is not None
    ):
        return None
    programme_id = locked.card.programme_id
    try:
        questionnaire = current_questionnaire_of(
            session,
            programme_id=programme_id,
            survey_path=locked.survey_path,
            surveys_dir=surveys_dir,
        )
    except SurveyUnavailable:
        return None
    if locked.survey_followups:
        # Follow-ups that already exist (in any state) are left alone.
        add_sends(
            session,
            followup_sends(
                person_id=person_id,
                programme_id=programme_id,
                phase=SurveyPhase.INITIAL,
                offered_at=now,
            ),
            revive=False,
        )
    return questionnaire


def belongs(session: Session, person: Person, programme_id: int) -> bool:
    """Whether a resident takes part in a programme (theirs, a sign-up, or a code)."""
    if resident_programme_id(session, person) == programme_id:
        return True
    signed_up = session.exec(
        select(Registration.id)
        .join(Activity, col(Activity.id) == col(Registration.activity_id))
        .where(Registration.person_id == person.id, Activity.programme_id == programme_id)
    ).first()
    has_code = session.exec(
        select(ParticipantCode.id).where(
            ParticipantCode.person_id == person.id, ParticipantCode.programme_id == programme_id
        )
    ).first()
    return signed_up is not None or has_code is not None


@dataclass(frozen=True)
class OwnSurvey:
    """Where a resident stands with the survey due now in their programme."""

    programme: Programme | None
    phase: SurveyPhase = SurveyPhase.INITIAL
    questionnaire: Questionnaire | None = None
    in_progress: Step | None = None
    submitted_at: datetime | None = None
    old_message_id: int | None = None


def own_survey(session: Session, *, actor: Actor, surveys_dir: str | None) -> OwnSurvey:
    """/survey: the survey due now in the resident's programme and where they stand."""
    person = session.get(Person, actor.person_id)
    programme_id = resident_programme_id(session, person) if person is not None else None
    programme = session.get(Programme, programme_id) if programme_id is not None else None
    if programme is None or programme.id is None:
        return OwnSurvey(None)
    phase = phase_due(programme)
    dialog = get_dialog(session, person_id=actor.person_id, kind=KIND_SELF)
    old_message = dialog.message_id if dialog is not None else None
    response = find_response(
        session, person_id=actor.person_id, programme_id=programme.id, phase=phase
    )
    if response is not None and response.submitted_at is not None:
        return OwnSurvey(programme, phase, submitted_at=response.submitted_at)
    if response is not None:
        return OwnSurvey(
            programme,
            phase,
            in_progress=Step(view(session, response), None),
            old_message_id=old_message,
        )
    q = current_questionnaire(session, programme, surveys_dir)
    return OwnSurvey(programme, phase, questionnaire=q, old_message_id=old_message)


def open_own(
    session: Session,
    *,
    actor: Actor,
    programme_id: int,
    phase: SurveyPhase,
    now: datetime,
    message_id: int | None,
    surveys_dir: str | None,
) -> Step:
    """`sv:go`: start or resume the resident's survey, with its gentle follow-up."""
    person = session.get(Person, actor.person_id)
    programme = session.get(Programme, programme_id)
    if (
        person is None
        or programme is None
        or not phase_open(programme, phase)
        or not belongs(session, person, programme_id)
    ):
        raise ResponseNotFound(programme_id)
    response = start_or_resume(
        session,
        person_id=actor.person_id,
        programme=programme,
        phase=phase,
        channel=Channel.CHAT,
        now=now,
        surveys_dir=surveys_dir,
    )
    # Started here without an invitation: the same gentle reminder if left unfinished.
    if programme.survey_followups:
        # Follow-ups that already exist (in any state) are left alone.
        add_sends(
            session,
            followup_sends(
                person_id=actor.person_id, programme_id=programme_id, phase=phase, offered_at=now
            ),
            revive=False,
        )
    step = Step(view(session, response), None)
    keep_dialog(session, actor, step, message_id)
    return step
