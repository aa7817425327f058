"""The activities an animator may run, loaded with the access rule (storage.access).

Animators manage the activities they organise, and the activities nobody organises
(those imported from a spreadsheet), in the programmes they were granted; admins manage
every activity. Every animator action re-checks this server-side, whatever the button said.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import func, or_
from sqlmodel import Session, SQLModel, col, select

from storage.access import Action, Actor, may, programmes_for
from storage.models import Activity, ActivityStatus, Registration, RegistrationStatus

__all__ = [
    "Actor",
    "ManagedActivity",
    "NotYourActivity",
    "detached",
    "lock_managed_activity",
    "managed_activities",
    "managed_activity",
    "may_manage",
]

M = TypeVar("M", bound=SQLModel)


def detached(row: M) -> M:
    """A copy of a row that outlives its session.

    Read-only sessions roll back when they end, which expires every row they loaded;
    views and exceptions that leave the session carry copies instead.
    """
    return type(row).model_validate(row.model_dump())


class NotYourActivity(PermissionError):
    """The activity exists but this animator may not manage it (or it does not exist)."""


def may_manage(activity: Activity, actor: Actor) -> bool:
    """Whether the actor may change, take attendance for and message this activity."""
    return may(actor, Action.MANAGE_ACTIVITY, activity=activity)


def managed_activity(session: Session, *, activity_id: int, actor: Actor) -> Activity:
    """The activity if the actor may manage it; NotYourActivity otherwise.

    A missing activity raises the same error, so forged ids reveal nothing.
    """
    activity = session.get(Activity, activity_id)
    if activity is None or not may_manage(activity, actor):
        raise NotYourActivity(activity_id)
    return activity


def lock_managed_activity(session: Session, *, activity_id: int, actor: Actor) -> Activity:
    """Like managed_activity, with the row locked for a change (FOR UPDATE on PostgreSQL)."""
    activity = session.exec(
        select(Activity)
        .where(Activity.id == activity_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if activity is None or not may_manage(activity, actor):
        raise NotYourActivity(activity_id)
    return activity


@dataclass(frozen=True)
class ManagedActivity:
    """One line of the animator's list: the activity with its numbers."""

    activity: Activity
    taken: int
    reserve: int


# Finished activities stay in the list this long, for attendance and the participant list.
RECENTLY_FINISHED = timedelta(days=7)


def managed_activities(
    session: Session, *, actor: Actor, now: datetime, limit: int = 30
) -> list[ManagedActivity]:
    """The actor's published activities from a week ago onwards, soonest first."""
    query = select(Activity).where(
        Activity.status == ActivityStatus.PUBLISHED,
        col(Activity.ends_at) > now - RECENTLY_FINISHED,
    )
    scope = programmes_for(actor, Action.MANAGE_ACTIVITY)
    if scope is not None:
        # The same rule as may_manage, as a query: granted programmes, own or unowned.
        query = query.where(
            col(Activity.programme_id).in_(sorted(scope)),
            or_(
                col(Activity.organiser_id) == actor.person_id, col(Activity.organiser_id).is_(None)
            ),
        )
    if actor.programme_id is not None:
        # The programme the animator chose for their screens.
        query = query.where(Activity.programme_id == actor.programme_id)
    activities = list(
        session.exec(query.order_by(col(Activity.starts_at), col(Activity.id)).limit(limit))
    )
    ids = [a.id for a in activities if a.id is not None]
    counts: dict[tuple[int, str], int] = {}
    if ids:
        rows = session.exec(
            select(Registration.activity_id, Registration.status, func.count())
            .where(col(Registration.activity_id).in_(ids))
            .group_by(col(Registration.activity_id), col(Registration.status))
        ).all()
        counts = {(int(a), str(s)): int(n) for a, s, n in rows}
    return [
        ManagedActivity(
            activity=detached(a),
            taken=counts.get((a.id or 0, RegistrationStatus.CONFIRMED.value), 0),
            reserve=counts.get((a.id or 0, RegistrationStatus.RESERVE.value), 0),
        )
        for a in activities
    ]
