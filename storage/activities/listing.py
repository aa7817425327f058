"""Programmes and activities as residents see them: what is coming, places, why closed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.activities.offers import held_places
from storage.activities.seat_counts import counts, live_registration, reserve_position
from storage.models import Activity, ActivityStatus, Programme, Registration, RegistrationStatus

PAGE_SIZE = 8


class ClosedReason(StrEnum):
    """Why an activity takes no more sign-ups."""

    CANCELLED = "cancelled"
    STARTED = "started"
    DEADLINE = "deadline"
    PROGRAMME_CLOSED = "programme_closed"


class ActivityNotFound(LookupError):
    """No such activity (deleted, never existed, or forged button data)."""


def closed_reason(
    activity: Activity, programme: Programme | None, now: datetime
) -> ClosedReason | None:
    """Why sign-ups are closed, or None if a person may sign up now."""
    return closed_reason_of(
        status=activity.status,
        starts_at=activity.starts_at,
        deadline=activity.registration_deadline,
        signup_open_until=programme.signup_open_until if programme is not None else None,
        now=now,
    )


def closed_reason_of(
    *,
    status: str,
    starts_at: datetime,
    deadline: datetime | None,
    signup_open_until: datetime | None,
    now: datetime,
) -> ClosedReason | None:
    """`closed_reason` from the columns it reads (the one place the rule lives)."""
    if status == ActivityStatus.CANCELLED:
        return ClosedReason.CANCELLED
    if now >= starts_at:
        return ClosedReason.STARTED
    if deadline is not None and now > deadline:
        return ClosedReason.DEADLINE
    if signup_open_until is not None and now > signup_open_until:
        return ClosedReason.PROGRAMME_CLOSED
    return None


def confirmed_count(session: Session, activity_id: int) -> int:
    """How many places are taken."""
    return int(
        session.exec(
            select(func.count())
            .select_from(Registration)
            .where(
                Registration.activity_id == activity_id,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
        ).one()
    )


def free_places(session: Session, activity: Activity) -> int:
    """Places still free (never negative, even if an animator lowered the number)."""
    assert activity.id is not None
    free = max(0, activity.places - confirmed_count(session, activity.id))
    # A place offered to someone on the reserve list is not free for anyone else.
    return free - held_places(session, [activity.id], {activity.id: free}).get(activity.id, 0)


def _confirmed_counts(session: Session, activity_ids: list[int]) -> dict[int, int]:
    if not activity_ids:
        return {}
    rows = session.exec(
        select(Registration.activity_id, func.count())
        .where(
            col(Registration.activity_id).in_(activity_ids),
            Registration.status == RegistrationStatus.CONFIRMED,
        )
        .group_by(col(Registration.activity_id))
    ).all()
    return {int(activity_id): int(count) for activity_id, count in rows}


@dataclass(frozen=True)
class ListedActivity:
    """One line of the activity list."""

    activity: Activity
    free: int


@dataclass(frozen=True)
class ActivityPage:
    """A page of upcoming activities."""

    items: list[ListedActivity]
    page: int
    pages: int
    total: int


def upcoming_activities(
    session: Session, *, programme_id: int, now: datetime, page: int = 0, size: int = PAGE_SIZE
) -> ActivityPage:
    """Published activities of a programme that have not started, soonest first."""
    where = (
        Activity.programme_id == programme_id,
        Activity.status == ActivityStatus.PUBLISHED,
        col(Activity.starts_at) > now,
    )
    total = int(session.exec(select(func.count()).select_from(Activity).where(*where)).one())
    pages = max(1, -(-total // size))
    page = min(max(page, 0), pages - 1)
    activities = list(
        session.exec(
            select(Activity)
            .where(*where)
            .order_by(col(Activity.starts_at), col(Activity.id))
            .offset(page * size)
            .limit(size)
        )
    )
    counts = _confirmed_counts(session, [a.id for a in activities if a.id is not None])
    free = {a.id: max(0, a.places - counts.get(a.id, 0)) for a in activities if a.id is not None}
    held = held_places(session, free, free)
    items = [ListedActivity(a, free.get(a.id or 0, 0) - held.get(a.id or 0, 0)) for a in activities]
    return ActivityPage(items=items, page=page, pages=pages, total=total)


@dataclass(frozen=True)
class ActivityView:
    """Everything the details screen shows, read in one go."""

    activity: Activity
    programme: Programme | None
    free: int
    closed: ClosedReason | None
    registration: Registration | None
    reserve_position: int | None
    reserve_length: int


def activity_view(
    session: Session, *, activity_id: int, person_id: int | None, now: datetime
) -> ActivityView:
    """Details of one activity as a given person sees it."""
    activity = session.get(Activity, activity_id)
    if activity is None:
        raise ActivityNotFound(activity_id)
    programme = session.get(Programme, activity.programme_id)
    registration = (
        live_registration(session, person_id=person_id, activity_id=activity_id)
        if person_id is not None
        else None
    )
    position = (
        reserve_position(session, registration)
        if registration is not None and registration.status == RegistrationStatus.RESERVE
        else None
    )
    confirmed, reserve_length = counts(session, activity_id)
    free = max(0, activity.places - confirmed)
    return ActivityView(
        activity=activity,
        programme=programme,
        free=free - held_places(session, [activity_id], {activity_id: free}).get(activity_id, 0),
        closed=closed_reason(activity, programme, now),
        registration=registration,
        reserve_position=position,
        reserve_length=reserve_length,
    )


def programme_by_name(session: Session, name: str) -> Programme | None:
    """A programme by its exact name."""
    return session.exec(select(Programme).where(Programme.name == name)).first()
