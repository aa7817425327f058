"""A resident's own upcoming places and reserve positions (/my), in one Core statement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, bindparam, select
from sqlmodel import Session

from storage.activities.resident_views import CONFIRMED, MINE, MY_POSITION, OFFER, RESERVE
from storage.models import OfferKind, OfferState
from storage.tables import ACTIVITY


@dataclass(frozen=True)
class MyPlace:
    """One of a person's upcoming sign-ups with its standing."""

    activity_id: int
    title: str
    starts_at: datetime
    venue: str
    activity_status: str
    status: str
    position: int | None
    # An open offer of a freed place to this reserve-list registration, if any.
    offer: OfferOnMy | None = None


@dataclass(frozen=True)
class OfferOnMy:
    """A place offered to the person: take it by `deadline` (or first come, first served)."""

    offer_id: int
    deadline: datetime
    first_come: bool


def _my_offer(column: Any) -> Any:
    # The newest open offer of this registration; a registration holds at most one.
    return (
        select(column)
        .select_from(OFFER)
        .where(OFFER.c.registration_id == MINE.c.id, OFFER.c.state == OfferState.OFFERED.value)
        .order_by(OFFER.c.id.desc())
        .limit(1)
        .correlate(MINE)
        .scalar_subquery()
    )


_MY = (
    select(
        ACTIVITY.c.id,
        ACTIVITY.c.title,
        ACTIVITY.c.starts_at,
        ACTIVITY.c.venue,
        ACTIVITY.c.status.label("activity_status"),
        MINE.c.status,
        MY_POSITION,
        _my_offer(OFFER.c.id).label("offer_id"),
        _my_offer(OFFER.c.deadline).label("offer_deadline"),
        _my_offer(OFFER.c.kind).label("offer_kind"),
    )
    .select_from(MINE.join(ACTIVITY, ACTIVITY.c.id == MINE.c.activity_id))
    .where(
        MINE.c.person_id == bindparam("person_id", type_=Integer),
        MINE.c.status.in_([CONFIRMED, RESERVE]),
        ACTIVITY.c.ends_at > bindparam("now"),
    )
    .order_by(ACTIVITY.c.starts_at, ACTIVITY.c.id)
)


def my_places(session: Session, *, person_id: int, now: datetime) -> list[MyPlace]:
    """The person's places and reserve positions in activities not yet over, soonest first."""
    rows = session.connection().execute(_MY, {"person_id": person_id, "now": now}).all()
    return [
        MyPlace(
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            r[6] if r[5] == RESERVE else None,
            OfferOnMy(r.offer_id, r.offer_deadline, r.offer_kind == OfferKind.FIRST_COME.value)
            if r.offer_id is not None and r[5] == RESERVE
            else None,
        )
        for r in rows
    ]
