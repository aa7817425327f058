"""Programmes and their annual editions: rename, dates, archive, copy an edition.

Every function takes the acting person and asks storage.people.staff_access first, then
changes the programme and adds an audit row in the same transaction. Dates are local
calendar days of the deployment's time zone; instants are stored in UTC.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlmodel import Session, col, func, select

from storage.activities.draft_questions import DraftInvalid
from storage.activities.drafts import clean_text
from storage.activities.series import create_series, expand, shifted_rules
from storage.audit import AuditAction, record
from storage.models import Activity, ActivityStatus, Programme
from storage.people.staff_access import NotAllowed, StaffAction, StaffActor

MAX_NAME = 200
# The last minute of the end day: the programme runs through that whole day.
END_OF_DAY = time(23, 59)
_YEAR = re.compile(r"\b(19|20)\d\d\b")


class EditionRefusal(StrEnum):
    """Why a programme change was refused."""

    NAME_LENGTH = "name_length"
    NAME_CHARACTERS = "name_characters"
    NAME_TAKEN = "name_taken"
    DATE_PAST = "date_past"
    END_BEFORE_START = "end_before_start"
    NOT_AFTER_SOURCE = "not_after_source"


class EditionRefused(ValueError):
    """A name or date the programme cannot take; nothing was changed."""

    def __init__(self, reason: EditionRefusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


def programme_for(
    session: Session,
    *,
    actor: StaffActor,
    action: StaffAction,
    programme_id: int,
    lock: bool = False,
) -> Programme:
    """The programme, if `may_act` allows `action` on it; NotAllowed otherwise."""
    query = select(Programme).where(Programme.id == programme_id)
    programme = session.exec(query.with_for_update() if lock else query).first()
    if programme is None or not actor.may(session, action, programme_id):
        raise NotAllowed(programme_id)
    return programme


def local_day(moment: datetime | None, zone: ZoneInfo) -> date | None:
    """The local calendar day of a stored instant."""
    return moment.astimezone(zone).date() if moment is not None else None


def _at(day: date, moment: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, moment, tzinfo=zone).astimezone(UTC)


def clean_programme_name(session: Session, raw: str, *, except_id: int | None = None) -> str:
    """The name as stored (spaces folded), checked like the wizard's texts and unique."""
    try:
        name = clean_text(raw, limit=MAX_NAME)
    except DraftInvalid as exc:
        reason = (
            EditionRefusal.NAME_CHARACTERS
            if exc.problem.value == "control"
            else EditionRefusal.NAME_LENGTH
        )
        raise EditionRefused(reason) from None
    taken = session.exec(select(Programme.id).where(Programme.name == name)).first()
    if taken is not None and taken != except_id:
        raise EditionRefused(EditionRefusal.NAME_TAKEN)
    return name


def rename_programme(
    session: Session, *, actor: StaffActor, programme_id: int, name: str, now: datetime
) -> Programme:
    """Give a programme a new name (unique, up to 200 characters); audited."""
    programme = programme_for(
        session,
        actor=actor,
        action=StaffAction.EDIT_PROGRAMMES,
        programme_id=programme_id,
        lock=True,
    )
    clean = clean_programme_name(session, name, except_id=programme_id)
    if clean != programme.name:
        programme.name = clean
        session.add(programme)
        record(
            session,
            actor_id=actor.person_id,
            action=AuditAction.PROGRAMME_RENAMED,
            subject_type="programme",
            subject_id=programme_id,
            details={},
            at=now,
        )
    return programme


def check_day(day: date, *, today: date) -> date:
    """A day a programme may still start or end on: today or later."""
    if day < today:
        raise EditionRefused(EditionRefusal.DATE_PAST)
    return day


def set_start_date(
    session: Session,
    *,
    actor: StaffActor,
    programme_id: int,
    day: date,
    zone: ZoneInfo,
    now: datetime,
) -> Programme:
    """The edition's first day (today or later, not after its end day); audited."""
    programme = programme_for(
        session, actor=actor, action=StaffAction.RUN_PROGRAMME, programme_id=programme_id, lock=True
    )
    check_day(day, today=now.astimezone(zone).date())
    end = local_day(programme.ends_at, zone)
    if end is not None and end < day:
        raise EditionRefused(EditionRefusal.END_BEFORE_START)
    programme.starts_at = _at(day, time(0, 0), zone)
    session.add(programme)
    record(
        session,
        actor_id=actor.person_id,
        action=AuditAction.PROGRAMME_DATES_SET,
        subject_type="programme",
        subject_id=programme_id,
        details={"field": "starts_at"},
        at=now,
    )
    return programme


def set_end_date(
    session: Session,
    *,
    actor: StaffActor,
    programme_id: int,
    day: date,
    zone: ZoneInfo,
    now: datetime,
) -> Programme:
    """The edition's last day (today or later, not before its start); retention counts
    from it. Audited."""
    programme = programme_for(
        session, actor=actor, action=StaffAction.RUN_PROGRAMME, programme_id=programme_id, lock=True
    )
    check_day(day, today=now.astimezone(zone).date())
    start = local_day(programme.starts_at, zone)
    if start is not None and day < start:
        raise EditionRefused(EditionRefusal.END_BEFORE_START)
    programme.ends_at = _at(day, END_OF_DAY, zone)
    session.add(programme)
    record(
        session,
        actor_id=actor.person_id,
        action=AuditAction.PROGRAMME_DATES_SET,
        subject_type="programme",
        subject_id=programme_id,
        details={"field": "ends_at"},
        at=now,
    )
    return programme


def set_archived(
    session: Session, *, actor: StaffActor, programme_id: int, archived: bool, now: datetime
) -> Programme:
    """Archive a programme (it leaves residents' choices and staff screens, its data and
    reports stay) or bring it back; audited when something changes."""
    programme = programme_for(
        session,
        actor=actor,
        action=StaffAction.EDIT_PROGRAMMES,
        programme_id=programme_id,
        lock=True,
    )
    if (programme.archived_at is not None) != archived:
        programme.archived_at = now if archived else None
        session.add(programme)
        record(
            session,
            actor_id=actor.person_id,
            action=AuditAction.PROGRAMME_ARCHIVED if archived else AuditAction.PROGRAMME_RESTORED,
            subject_type="programme",
            subject_id=programme_id,
            details={},
            at=now,
        )
    return programme


def archived_programmes(session: Session, *, actor: StaffActor) -> list[tuple[int, str]]:
    """(id, name) of archived programmes this person may bring back, by name."""
    if not actor.may(session, StaffAction.EDIT_PROGRAMMES, None):
        raise NotAllowed(None)
    rows = session.exec(
        select(Programme.id, Programme.name)
        .where(col(Programme.archived_at).is_not(None))
        .order_by(col(Programme.name))
    ).all()
    return [
        (int(pid), name)
        for pid, name in rows
        if pid is not None and actor.may(session, StaffAction.EDIT_PROGRAMMES, pid)
    ]


@dataclass(frozen=True)
class EditionPlan:
    """What copying an edition will do: the new name, the shift, how many activities."""

    source_id: int
    name: str
    starts_on: date
    weeks: int
    activities: int


def suggested_name(name: str, year: int) -> str:
    """`PAL Barwinek 2026` -> `PAL Barwinek 2027`; without a year, the year is added."""
    if _YEAR.search(name):
        return _YEAR.sub(str(year), name, count=1)[:MAX_NAME]
    return f"{name[: MAX_NAME - 5]} {year}"


def _template(session: Session, programme_id: int) -> list[Activity]:
    return list(
        session.exec(
            select(Activity)
            .where(
                Activity.programme_id == programme_id,
                Activity.status == ActivityStatus.PUBLISHED.value,
            )
            .order_by(col(Activity.starts_at), col(Activity.id))
        )
    )


def _anchor(session: Session, programme: Programme, zone: ZoneInfo) -> date | None:
    if programme.starts_at is not None:
        return local_day(programme.starts_at, zone)
    first = session.exec(
        select(func.min(Activity.starts_at)).where(
            Activity.programme_id == programme.id, Activity.status == ActivityStatus.PUBLISHED.value
        )
    ).first()
    return local_day(first, zone) if first is not None else None


def plan_copy(
    session: Session,
    *,
    actor: StaffActor,
    programme_id: int,
    starts_on: date,
    name: str | None,
    zone: ZoneInfo,
    now: datetime,
) -> EditionPlan:
    """Check a copy of an edition and say what it will make (nothing is written)."""
    source = programme_for(
        session, actor=actor, action=StaffAction.EDIT_PROGRAMMES, programme_id=programme_id
    )
    check_day(starts_on, today=now.astimezone(zone).date())
    anchor = _anchor(session, source, zone)
    weeks = 0 if anchor is None else math.ceil((starts_on - anchor).days / 7)
    if anchor is not None and weeks < 1:
        raise EditionRefused(EditionRefusal.NOT_AFTER_SOURCE)
    wanted = name if name is not None else suggested_name(source.name, starts_on.year)
    clean = clean_programme_name(session, wanted)
    template = _template(session, programme_id)
    one_offs = sum(1 for a in template if a.series_id is None)
    dated = sum(
        len(expand(rule, zone=zone).dates)
        for _, rule in shifted_rules(session, template, weeks=weeks, zone=zone)
    )
    return EditionPlan(programme_id, clean, starts_on, weeks, one_offs + dated)


def shift_by_weeks(moment: datetime, weeks: int, zone: ZoneInfo) -> datetime:
    """The same local weekday and wall-clock time `weeks` later (across DST changes)."""
    local = moment.astimezone(zone).replace(tzinfo=None) + timedelta(weeks=weeks)
    return local.replace(tzinfo=zone).astimezone(UTC)


def copy_edition(
    session: Session,
    *,
    actor: StaffActor,
    programme_id: int,
    starts_on: date,
    name: str | None,
    zone: ZoneInfo,
    now: datetime,
) -> tuple[Programme, EditionPlan]:
    """A new edition: the programme's settings and its published activities shifted by
    whole weeks (same weekday, time, places, venue); no sign-ups. Audited."""
    if not actor.may(session, StaffAction.EDIT_PROGRAMMES, None):
        raise NotAllowed(None)
    plan = plan_copy(
        session,
        actor=actor,
        programme_id=programme_id,
        starts_on=starts_on,
        name=name,
        zone=zone,
        now=now,
    )
    source = programme_for(
        session, actor=actor, action=StaffAction.EDIT_PROGRAMMES, programme_id=programme_id
    )

    def shifted(moment: datetime | None) -> datetime | None:
        return shift_by_weeks(moment, plan.weeks, zone) if moment is not None else None

    edition = Programme(
        name=plan.name,
        area=source.area,
        starts_at=_at(starts_on, time(0, 0), zone),
        ends_at=shifted(source.ends_at),
        signup_open_until=shifted(source.signup_open_until),
        survey_path=source.survey_path,
        reminder_offsets=source.reminder_offsets,
        quiet_hours=source.quiet_hours,
        survey_followups=source.survey_followups,
        retention_months=source.retention_months,
        keep_answers_on_erasure=source.keep_answers_on_erasure,
        created_at=now,
    )
    session.add(edition)
    session.flush()
    assert edition.id is not None
    template = _template(session, programme_id)
    # One executemany for the one-off activities (a year of them is hundreds).
    rows = [
        dict(
            programme_id=edition.id,
            title=a.title,
            category=a.category,
            description=a.description,
            venue=a.venue,
            starts_at=shift_by_weeks(a.starts_at, plan.weeks, zone),
            ends_at=shift_by_weeks(a.ends_at, plan.weeks, zone),
            places=a.places,
            registration_deadline=shifted(a.registration_deadline),
            organiser_id=a.organiser_id,
            contact=a.contact,
            status=ActivityStatus.PUBLISHED.value,
            created_at=now,
            updated_at=now,
        )
        for a in template
        if a.series_id is None
    ]
    if rows:
        session.execute(insert(Activity), rows)
    # Weekly series start again from their rules, moved by the same whole weeks.
    for new, rule in shifted_rules(session, template, weeks=plan.weeks, zone=zone):
        create_series(
            session, new=replace(new, programme_id=edition.id), rule=rule, zone=zone, now=now
        )
    record(
        session,
        actor_id=actor.person_id,
        action=AuditAction.PROGRAMME_COPIED,
        subject_type="programme",
        subject_id=edition.id,
        details={"source_id": programme_id, "activities": plan.activities, "weeks": plan.weeks},
        at=now,
    )
    return edition, plan


def programme_activity_count(session: Session, programme_id: int) -> int:
    """How many published activities a programme has."""
    return int(
        session.exec(
            select(func.count())
            .select_from(Activity)
            .where(
                Activity.programme_id == programme_id,
                Activity.status == ActivityStatus.PUBLISHED.value,
            )
        ).one()
    )
