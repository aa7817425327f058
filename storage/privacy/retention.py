"""Retention: identities are erased a set number of months after a programme ends.

A programme with `retention_months` set ends at `Programme.ends_at`, or else when its
last activity ends. Once that many calendar months have passed, every resident whose
programmes have all passed their retention is erased exactly as on /forgetme
(storage.privacy.erasure.erase_person). Team members (anyone holding a role) are not residents
and are left alone. Safe to run from several processes at once: on PostgreSQL one
process at a time works (an advisory lock), and erasure itself is conditional on the
person not being erased yet.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, text
from sqlmodel import Session, col, select

from storage.models import (
    Activity,
    ParticipantCode,
    Person,
    Programme,
    ProgrammeMembership,
    Registration,
    RoleGrant,
)
from storage.privacy.erasure import ErasureReason, ErasureReport, erase_person

# pg_advisory lock key for "a retention purge is running" (any constant shared by all).
_PURGE_LOCK = 7426002


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months later (31 Jan + 1 = 28/29 Feb)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def programme_end(session: Session, programme: Programme) -> datetime | None:
    """When a programme ended (or will): its own end, else its last activity's end."""
    if programme.ends_at is not None:
        return programme.ends_at
    last = session.exec(
        select(func.max(Activity.ends_at)).where(Activity.programme_id == programme.id)
    ).one()
    # max() keeps the column's type, so this is an aware UTC instant (or None).
    return last


@dataclass(frozen=True)
class ExpiredProgramme:
    """A programme whose retention period is over."""

    programme_id: int
    name: str
    ended_at: datetime
    erase_after: datetime


def expired_programmes(session: Session, *, now: datetime) -> list[ExpiredProgramme]:
    """Programmes with a retention period that has passed, oldest first."""
    found = []
    for programme in session.exec(
        select(Programme)
        .where(col(Programme.retention_months).is_not(None))
        .order_by(col(Programme.id))
    ).all():
        assert programme.id is not None and programme.retention_months is not None
        ended = programme_end(session, programme)
        if ended is None:
            continue
        deadline = add_months(ended, programme.retention_months)
        if deadline <= now:
            found.append(ExpiredProgramme(programme.id, programme.name, ended, deadline))
    return sorted(found, key=lambda p: p.erase_after)


@dataclass(frozen=True)
class DueForErasure:
    """A resident whose every programme has passed its retention period."""

    person_id: int
    programme_ids: tuple[int, ...]


def _programmes_of(session: Session, person_ids: Iterable[int]) -> dict[int, set[int]]:
    ids = list(person_ids)
    programmes: dict[int, set[int]] = defaultdict(set)
    if not ids:
        return programmes
    for person_id, programme_id in session.exec(
        select(Person.id, Person.programme_id).where(col(Person.id).in_(ids))
    ).all():
        if person_id is not None and programme_id is not None:
            programmes[person_id].add(programme_id)
    for person_id, programme_id in session.exec(
        select(Registration.person_id, Activity.programme_id)
        .join(Activity, col(Activity.id) == col(Registration.activity_id))
        .where(col(Registration.person_id).in_(ids))
        .distinct()
    ).all():
        programmes[person_id].add(programme_id)
    for person_id, programme_id in session.exec(
        select(ParticipantCode.person_id, ParticipantCode.programme_id).where(
            col(ParticipantCode.person_id).in_(ids)
        )
    ).all():
        if person_id is not None:
            programmes[person_id].add(programme_id)
    # Every programme joined counts, left ones too: their sign-ups may still be kept.
    for person_id, programme_id in session.exec(
        select(ProgrammeMembership.person_id, ProgrammeMembership.programme_id).where(
            col(ProgrammeMembership.person_id).in_(ids)
        )
    ).all():
        programmes[person_id].add(programme_id)
    return programmes


def due_for_erasure(
    session: Session,
    *,
    now: datetime,
    protected_telegram_ids: Iterable[int] = (),
    limit: int | None = None,
) -> list[DueForErasure]:
    """Residents to erase now: not erased yet, no role, all their programmes expired."""
    expired = {p.programme_id for p in expired_programmes(session, now=now)}
    if not expired:
        return []
    linked = (
        select(Person.id)
        .where(col(Person.programme_id).in_(expired))
        .union(
            select(Registration.person_id)
            .join(Activity, col(Activity.id) == col(Registration.activity_id))
            .where(col(Activity.programme_id).in_(expired)),
            select(ParticipantCode.person_id).where(
                col(ParticipantCode.programme_id).in_(expired),
                col(ParticipantCode.person_id).is_not(None),
            ),
            select(ProgrammeMembership.person_id).where(
                col(ProgrammeMembership.programme_id).in_(expired)
            ),
        )
        .subquery()
    )
    candidates = session.exec(
        select(Person.id, Person.telegram_id)
        .where(col(Person.id).in_(select(linked.c[0])), col(Person.erased_at).is_(None))
        .order_by(col(Person.id))
    ).all()
    staff = set(protected_telegram_ids) | set(session.exec(select(RoleGrant.telegram_id)).all())
    residents = [pid for pid, tid in candidates if pid is not None and tid not in staff]
    programmes = _programmes_of(session, residents)
    due = []
    for person_id in residents:
        mine = programmes.get(person_id, set())
        if mine and mine <= expired:
            due.append(DueForErasure(person_id, tuple(sorted(mine))))
            if limit is not None and len(due) >= limit:
                break
    return due


def purge_batch(
    session: Session,
    *,
    now: datetime,
    protected_telegram_ids: Iterable[int] = (),
    limit: int = 200,
) -> list[ErasureReport] | None:
    """Erase up to `limit` residents due for erasure, in this transaction.

    Returns None when another process is purging right now (PostgreSQL), else the
    reports (an empty list when nobody is due).
    """
    if session.get_bind().dialect.name == "postgresql":
        got = session.exec(  # type: ignore[call-overload]
            text("SELECT pg_try_advisory_xact_lock(:key)").bindparams(key=_PURGE_LOCK)
        ).scalar_one()
        if not got:
            return None
    reports = []
    for due in due_for_erasure(
        session, now=now, protected_telegram_ids=protected_telegram_ids, limit=limit
    ):
        report = erase_person(
            session, person_id=due.person_id, now=now, reason=ErasureReason.RETENTION
        )
        if not report.already_erased:
            reports.append(report)
    return reports
