"""What residents' screens show, read with a few SQLAlchemy Core statements.

The activity list is one statement, an activity's details with the reader's own place
one more, /my one: no ORM objects are loaded on these paths (each costs several times a
Core row), and the statements are built once so SQLAlchemy compiles them once. Places
held by open offers to the reserve list (storage.activities.offers) are read in the same statements
and are not shown as free.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, and_, bindparam, func, select
from sqlmodel import Session

from storage.activities.listing import PAGE_SIZE, ClosedReason, closed_reason_of
from storage.activities.offers import held
from storage.models import ActivityStatus, OfferKind, OfferState, RegistrationStatus
from storage.programmes.open import takes_sign_ups
from storage.tables import ACTIVITY, PLACE_OFFER, PROGRAMME, REGISTRATION

CONFIRMED = RegistrationStatus.CONFIRMED.value
RESERVE = RegistrationStatus.RESERVE.value
CANCELLED = RegistrationStatus.CANCELLED.value


@dataclass(frozen=True)
class ActivityCard:
    """One activity with its programme's name and sign-up window."""

    id: int
    programme_id: int
    title: str
    category: str
    description: str
    venue: str
    starts_at: datetime
    ends_at: datetime
    places: int
    registration_deadline: datetime | None
    status: str
    programme_name: str
    signup_open_until: datetime | None
    # The weekly series this date belongs to, if any.
    series_id: int | None = None

    def closed(self, now: datetime) -> ClosedReason | None:
        """Why sign-up is closed now, or None."""
        return closed_reason_of(
            status=self.status,
            starts_at=self.starts_at,
            deadline=self.registration_deadline,
            signup_open_until=self.signup_open_until,
            now=now,
        )


CARD_COLUMNS = (
    ACTIVITY.c.id,
    ACTIVITY.c.programme_id,
    ACTIVITY.c.title,
    ACTIVITY.c.category,
    ACTIVITY.c.description,
    ACTIVITY.c.venue,
    ACTIVITY.c.starts_at,
    ACTIVITY.c.ends_at,
    ACTIVITY.c.places,
    ACTIVITY.c.registration_deadline,
    ACTIVITY.c.status,
    PROGRAMME.c.name.label("programme_name"),
    PROGRAMME.c.signup_open_until,
    ACTIVITY.c.series_id,
)


def card_of(row: Any) -> ActivityCard:
    """An ActivityCard from a row that starts with CARD_COLUMNS."""
    return ActivityCard(*row[: len(CARD_COLUMNS)])


@dataclass(frozen=True)
class Standing:
    """An activity's places and where one person stands in it."""

    taken: int
    waiting: int
    # CONFIRMED or RESERVE, or None when the person holds neither.
    status: str | None
    registration_id: int | None
    # 1-based reserve-list position (arrival order); None unless on the reserve list.
    position: int | None
    # Open offers of freed places to the reserve list: each deadline offer holds a
    # place, an open first-come round holds every free one (storage.activities.offers.held).
    deadline_offers: int = 0
    first_come_open: bool = False

    def free(self, places: int) -> int:
        """Places free for newcomers (never negative, even if an animator lowered the
        number); places offered to the reserve list are not free."""
        unconfirmed = max(0, places - self.taken)
        return unconfirmed - held(unconfirmed, self.deadline_offers, self.first_come_open)


@dataclass(frozen=True)
class CardView:
    """An activity's details as one person sees them."""

    card: ActivityCard
    standing: Standing
    closed: ClosedReason | None

    @property
    def free(self) -> int:
        """Free places."""
        return self.standing.free(self.card.places)


COUNTED = REGISTRATION.alias("r")
MINE = REGISTRATION.alias("mine")
_AHEAD = REGISTRATION.alias("ahead")
OFFER = PLACE_OFFER.alias("o")


def count_where(*conditions: Any) -> Any:
    """Registrations of the activity in the FROM clause that meet the conditions."""
    return (
        select(func.count())
        .select_from(COUNTED)
        .where(COUNTED.c.activity_id == ACTIVITY.c.id, *conditions)
        .correlate(ACTIVITY)
        .scalar_subquery()
    )


def _open_offers(kind: OfferKind) -> Any:
    return (
        select(func.count())
        .select_from(OFFER)
        .where(
            OFFER.c.activity_id == ACTIVITY.c.id,
            OFFER.c.state == OfferState.OFFERED.value,
            OFFER.c.kind == kind.value,
        )
        .correlate(ACTIVITY)
        .scalar_subquery()
    )


DEADLINE_OFFERS = _open_offers(OfferKind.DEADLINE).label("deadline_offers")
FIRST_COME_OFFERS = _open_offers(OfferKind.FIRST_COME).label("first_come_offers")


_MINE_LIVE = and_(
    MINE.c.activity_id == ACTIVITY.c.id,
    MINE.c.person_id == bindparam("person_id", type_=Integer),
    MINE.c.status != CANCELLED,
)
MY_POSITION = (
    select(func.count())
    .select_from(_AHEAD)
    .where(
        _AHEAD.c.activity_id == MINE.c.activity_id,
        _AHEAD.c.status == RESERVE,
        _AHEAD.c.id <= MINE.c.id,
    )
    .correlate(MINE)
    .scalar_subquery()
)
_DETAILS = (
    select(
        *CARD_COLUMNS,
        count_where(COUNTED.c.status == CONFIRMED).label("taken"),
        count_where(COUNTED.c.status == RESERVE).label("waiting"),
        MINE.c.status.label("my_status"),
        MINE.c.id.label("my_id"),
        MY_POSITION.label("my_position"),
        DEADLINE_OFFERS,
        FIRST_COME_OFFERS,
    )
    .select_from(
        ACTIVITY.join(PROGRAMME, PROGRAMME.c.id == ACTIVITY.c.programme_id).outerjoin(
            MINE, _MINE_LIVE
        )
    )
    .where(ACTIVITY.c.id == bindparam("activity_id", type_=Integer))
)


def card_view(
    session: Session, *, activity_id: int, person_id: int | None, now: datetime
) -> CardView | None:
    """An activity's details with the person's place or reserve position, in one statement."""
    row = (
        session.connection()
        .execute(_DETAILS, {"activity_id": activity_id, "person_id": person_id})
        .first()
    )
    if row is None:
        return None
    card = card_of(row)
    return CardView(card, standing_of(row), card.closed(now))


def standing_of(row: Any) -> Standing:
    """A Standing from a row with taken, waiting, my_status, my_id, my_position and the
    two offer counts (the details statement's columns)."""
    return Standing(
        taken=row.taken,
        waiting=row.waiting,
        status=row.my_status,
        registration_id=row.my_id,
        position=row.my_position if row.my_status == RESERVE else None,
        deadline_offers=row.deadline_offers,
        first_come_open=row.first_come_offers > 0,
    )


@dataclass(frozen=True)
class ListedCard:
    """One line of the activity list: an activity, or a weekly series by its next date."""

    id: int
    title: str
    starts_at: datetime
    free: int
    series_id: int | None = None
    # How many upcoming dates the series has (1 for a one-off activity).
    dates: int = 1


@dataclass(frozen=True)
class CardPage:
    """A page of upcoming activities."""

    items: list[ListedCard]
    page: int
    pages: int
    total: int


def _counted_for(activity_id: Any, *conditions: Any) -> Any:
    return (
        select(func.count())
        .select_from(COUNTED)
        .where(COUNTED.c.activity_id == activity_id, *conditions)
        .scalar_subquery()
    )


def _offers_for(activity_id: Any, kind: OfferKind) -> Any:
    return (
        select(func.count())
        .select_from(OFFER)
        .where(
            OFFER.c.activity_id == activity_id,
            OFFER.c.state == OfferState.OFFERED.value,
            OFFER.c.kind == kind.value,
        )
        .scalar_subquery()
    )


# A series is one entry: its soonest upcoming date stands for it. One-off activities
# form a group of their own (keyed by -id, as series ids are positive).
_ENTRY = func.coalesce(ACTIVITY.c.series_id, -ACTIVITY.c.id)
_UPCOMING = (
    select(
        ACTIVITY.c.id,
        ACTIVITY.c.title,
        ACTIVITY.c.starts_at,
        ACTIVITY.c.places,
        ACTIVITY.c.series_id,
        func.row_number()
        .over(partition_by=_ENTRY, order_by=(ACTIVITY.c.starts_at, ACTIVITY.c.id))
        .label("nth"),
        func.count().over(partition_by=_ENTRY).label("dates"),
    )
    .where(
        ACTIVITY.c.programme_id == bindparam("programme_id", type_=Integer),
        ACTIVITY.c.status == ActivityStatus.PUBLISHED.value,
        ACTIVITY.c.starts_at > bindparam("now"),
    )
    .subquery("upcoming")
)
_LIST = (
    select(
        _UPCOMING.c.id,
        _UPCOMING.c.title,
        _UPCOMING.c.starts_at,
        _UPCOMING.c.places,
        _UPCOMING.c.series_id,
        _UPCOMING.c.dates,
        _counted_for(_UPCOMING.c.id, COUNTED.c.status == CONFIRMED).label("taken"),
        _offers_for(_UPCOMING.c.id, OfferKind.DEADLINE).label("deadline_offers"),
        _offers_for(_UPCOMING.c.id, OfferKind.FIRST_COME).label("first_come_offers"),
        func.count().over().label("total"),
    )
    .where(_UPCOMING.c.nth == 1)
    .order_by(_UPCOMING.c.starts_at, _UPCOMING.c.id)
    .limit(bindparam("size", type_=Integer))
    .offset(bindparam("offset", type_=Integer))
)


def card_page(
    session: Session, *, programme_id: int, now: datetime, page: int = 0, size: int = PAGE_SIZE
) -> CardPage:
    """Published activities of a programme that have not started, soonest first; a weekly
    series is one entry at its next date.

    One statement (two when asked for a page past the end, e.g. after activities went).
    """
    connection = session.connection()
    page = max(page, 0)
    params = {"programme_id": programme_id, "now": now, "size": size, "offset": page * size}
    rows = connection.execute(_LIST, params).all()
    if not rows and page > 0:
        page = 0
        rows = connection.execute(_LIST, {**params, "offset": 0}).all()
    total = rows[0].total if rows else 0
    pages = max(1, -(-total // size))
    if page >= pages and rows:
        page = pages - 1
    items = [
        ListedCard(
            r.id,
            r.title,
            r.starts_at,
            Standing(r.taken, 0, None, None, None, r.deadline_offers, r.first_come_offers > 0).free(
                r.places
            ),
            r.series_id,
            r.dates,
        )
        for r in rows
    ]
    return CardPage(items=items, page=page, pages=pages, total=total)


@dataclass(frozen=True)
class ProgrammeChoice:
    """A programme a person may join."""

    id: int
    name: str


_OPEN_PROGRAMMES = (
    select(PROGRAMME.c.id, PROGRAMME.c.name)
    .where(takes_sign_ups(bindparam("now")))
    .order_by(PROGRAMME.c.name)
)


def open_programme_choices(session: Session, *, now: datetime) -> list[ProgrammeChoice]:
    """Programmes still taking sign-ups (not archived), by name."""
    rows = session.connection().execute(_OPEN_PROGRAMMES, {"now": now}).all()
    return [ProgrammeChoice(r.id, r.name) for r in rows]
