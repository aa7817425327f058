"""The seat rule's SQLAlchemy Core statements, built once (and so compiled once).

storage/activities/seats.py owns the rule; these are the few statements it runs on every press:
lock the activity with its programme's settings, read the standing under the lock (with
the open offers that hold places, storage.activities.offers), insert or cancel a registration.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, and_, bindparam, case, func, insert, update
from sqlalchemy import select as core_select
from sqlmodel import Session, select

from storage.activities.listing import ActivityNotFound
from storage.activities.resident_views import (
    CANCELLED,
    CARD_COLUMNS,
    CONFIRMED,
    RESERVE,
    ActivityCard,
    card_of,
)
from storage.models import OfferKind, OfferState
from storage.tables import (
    ACTIVITY,
    PARTICIPANT_CODE,
    PERSON,
    PLACE_OFFER,
    PROGRAMME,
    REGISTRATION,
    SURVEY_RESPONSE,
)


@dataclass(frozen=True)
class LockedActivity:
    """An activity read under its lock, with what its programme sets for sign-ups."""

    card: ActivityCard
    reminder_offsets: str | None
    survey_path: str | None
    survey_followups: bool
    final_survey_opened_at: datetime | None


_LOCK_CARD = (
    core_select(
        *CARD_COLUMNS,
        PROGRAMME.c.reminder_offsets,
        PROGRAMME.c.survey_path,
        PROGRAMME.c.survey_followups,
        PROGRAMME.c.final_survey_opened_at,
    )
    .select_from(ACTIVITY.join(PROGRAMME, PROGRAMME.c.id == ACTIVITY.c.programme_id))
    .where(ACTIVITY.c.id == bindparam("activity_id", type_=Integer))
    .with_for_update(of=ACTIVITY)
)


def lock_activity(session: Session, activity_id: int) -> LockedActivity:
    """Lock the activity row (the seat rule's mutex) and read it; ActivityNotFound if none."""
    # Core statements do not autoflush: changes made through the ORM earlier in this
    # transaction (e.g. a programme's reminder offsets) must be in the database first.
    # With nothing pending this sends nothing.
    session.flush()
    row = session.connection().execute(_LOCK_CARD, {"activity_id": activity_id}).first()
    if row is None:
        raise ActivityNotFound(activity_id)
    return LockedActivity(
        card_of(row),
        row.reminder_offsets,
        row.survey_path,
        bool(row.survey_followups),
        row.final_survey_opened_at,
    )


_PERSON_ID = bindparam("person_id", type_=Integer)
_ACTIVITY_ID = bindparam("activity_id", type_=Integer)
_PROGRAMME_ID = bindparam("programme_id", type_=Integer)
_R = REGISTRATION.alias("r")
_MINE = REGISTRATION.alias("mine")
_HERE = REGISTRATION.alias("here")
_HERE_ACTIVITY = ACTIVITY.alias("here_activity")
_MY_LIVE_ID = (
    select(_MINE.c.id)
    .where(
        _MINE.c.activity_id == _ACTIVITY_ID,
        _MINE.c.person_id == _PERSON_ID,
        _MINE.c.status != CANCELLED,
    )
    .scalar_subquery()
)
# Every sign-up of the person in the programme (cancelled ones too): the survey is
# offered at the first one only.
_SIGN_UPS_HERE = (
    select(func.count())
    .select_from(_HERE.join(_HERE_ACTIVITY, _HERE_ACTIVITY.c.id == _HERE.c.activity_id))
    .where(_HERE.c.person_id == _PERSON_ID, _HERE_ACTIVITY.c.programme_id == _PROGRAMME_ID)
    .scalar_subquery()
)
_INITIAL_RESPONSES = (
    select(func.count())
    .select_from(
        SURVEY_RESPONSE.join(
            PARTICIPANT_CODE, PARTICIPANT_CODE.c.id == SURVEY_RESPONSE.c.participant_code_id
        )
    )
    .where(
        PARTICIPANT_CODE.c.person_id == _PERSON_ID,
        PARTICIPANT_CODE.c.programme_id == _PROGRAMME_ID,
        SURVEY_RESPONSE.c.phase == "initial",
    )
    .scalar_subquery()
)
_TELEGRAM_ID = select(PERSON.c.telegram_id).where(PERSON.c.id == _PERSON_ID).scalar_subquery()
_OFFER = PLACE_OFFER.alias("o")


def _open_offers(kind: OfferKind) -> Any:
    return (
        select(func.count())
        .select_from(_OFFER)
        .where(
            _OFFER.c.activity_id == _ACTIVITY_ID,
            _OFFER.c.state == OfferState.OFFERED.value,
            _OFFER.c.kind == kind.value,
        )
        .scalar_subquery()
    )


# Read under the activity's lock: places taken, people waiting, the person's own
# registration and reserve position, and what the survey offer needs, in one go.
_STANDING = (
    core_select(
        func.count(case((_R.c.status == CONFIRMED, 1))).label("taken"),
        func.count(case((_R.c.status == RESERVE, 1))).label("waiting"),
        func.max(case((_R.c.person_id == _PERSON_ID, _R.c.id))).label("my_id"),
        func.max(case((_R.c.person_id == _PERSON_ID, _R.c.status))).label("my_status"),
        func.count(case((and_(_R.c.status == RESERVE, _R.c.id <= _MY_LIVE_ID), 1))).label(
            "my_position"
        ),
        _SIGN_UPS_HERE.label("sign_ups_here"),
        _INITIAL_RESPONSES.label("initial_responses"),
        _TELEGRAM_ID.label("telegram_id"),
        # Places held for the reserve list (storage.activities.offers.held): not free for newcomers.
        _open_offers(OfferKind.DEADLINE).label("deadline_offers"),
        _open_offers(OfferKind.FIRST_COME).label("first_come_offers"),
    )
    .select_from(_R)
    .where(_R.c.activity_id == _ACTIVITY_ID, _R.c.status != CANCELLED)
)
INSERT_REGISTRATION = insert(REGISTRATION).returning(REGISTRATION.c.id)
CANCEL_REGISTRATION = (
    update(REGISTRATION)
    .where(REGISTRATION.c.id == bindparam("registration_id", type_=Integer))
    .values(status=CANCELLED, cancelled_at=bindparam("now"))
)


def standing(session: Session, card: ActivityCard, person_id: int) -> Any:
    """The standing row (`_STANDING`) of a person in a locked activity."""
    return (
        session.connection()
        .execute(
            _STANDING,
            {
                "activity_id": card.id,
                "person_id": person_id,
                "programme_id": card.programme_id,
            },
        )
        .one()
    )
