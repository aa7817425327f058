"""The survey side of residents' taps: the offer after a first sign-up."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from storage.outbox import add_sends
from storage.questionnaires import Questionnaire, SurveyPhase
from storage.seats import Place
from storage.survey_versions import SurveyUnavailable, current_questionnaire_of
from storage.surveys import followup_sends


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
    if (not place.reachable or place.earlier_sign_ups_here != 0 or place.has_initial_response
            or locked.final_survey_opened_at is not None):
        return None
    programme_id = locked.card.programme_id
    try:
        questionnaire = current_questionnaire_of(
            session, programme_id=programme_id, survey_path=locked.survey_path,
            surveys_dir=surveys_dir)
    except SurveyUnavailable:
        return None
    if locked.survey_followups:
        # Follow-ups that already exist (in any state) are left alone.
        add_sends(session, followup_sends(person_id=person_id, programme_id=programme_id,
                                          phase=SurveyPhase.INITIAL, offered_at=now),
                  revive=False)
    return questionnaire
