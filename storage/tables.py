"""The models' tables, for the lean SQLAlchemy Core statements of the residents' taps."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from storage.models import (
    Activity,
    ActivitySeries,
    Dialog,
    ParticipantCode,
    PendingSend,
    Person,
    PlaceOffer,
    Programme,
    ProgrammeMembership,
    Registration,
    RoleGrant,
    SurveyAnswer,
    SurveyResponse,
)


def _table(model: object) -> Table:
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


ACTIVITY = _table(Activity)
ACTIVITY_SERIES = _table(ActivitySeries)
PARTICIPANT_CODE = _table(ParticipantCode)
PENDING_SEND = _table(PendingSend)
PERSON = _table(Person)
PLACE_OFFER = _table(PlaceOffer)
PROGRAMME = _table(Programme)
PROGRAMME_MEMBERSHIP = _table(ProgrammeMembership)
REGISTRATION = _table(Registration)
ROLE_GRANT = _table(RoleGrant)
SURVEY_RESPONSE = _table(SurveyResponse)
DIALOG = _table(Dialog)
SURVEY_ANSWER = _table(SurveyAnswer)
