"""Attendance: the animator's checklist, self check-in with a code, and no-shows.

A tap on the checklist sets an explicit value (the callback says "attended" or "not
attended", never "flip"), so two animators marking the same list at once cannot undo
each other's taps; the list is then drawn again from the database. No-shows are not
stored: they are the people with a place who were not marked once the activity ended.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from storage.activities.organising import Actor, detached, managed_activity
from storage.audit import AuditAction, record
from storage.dialogs import get_dialog, save_dialog
from storage.models import Activity, ActivityStatus, Person, Registration, RegistrationStatus

# The checklist can be ticked from shortly before the start (people arrive early).
ATTENDANCE_OPENS_BEFORE = timedelta(hours=1)
# Self check-in codes work from half an hour before the start until the end.
CHECKIN_OPENS_BEFORE = timedelta(minutes=30)
# Wrong codes allowed per person in a window before check-in pauses for them.
MAX_WRONG_CODES = 5
WRONG_CODE_WINDOW = timedelta(minutes=15)
CHECKIN_GUARD_KIND = "checkin_guard"


class AttendanceNotOpen(Exception):
    """The checklist opens shortly before the start; `opens_at` says when."""

    def __init__(self, opens_at: datetime) -> None:
        super().__init__(opens_at.isoformat())
        self.opens_at = opens_at


class ActivityCancelled(Exception):
    """The activity was called off: there is no attendance to take."""


class NotOnTheList(LookupError):
    """The registration is not a place in this activity (stale or forged button)."""


@dataclass(frozen=True)
class AttendanceRow:
    """One person holding a place, as the checklist shows them."""

    registration_id: int
    person_id: int
    display_name: str
    attended: bool
    # The person has no Telegram; an animator acts for them.
    without_telegram: bool


@dataclass(frozen=True)
class Checklist:
    """Everything the attendance message shows."""

    activity: Activity
    rows: list[AttendanceRow]
    opens_at: datetime

    @property
    def attended(self) -> int:
        """How many are marked present."""
        return sum(1 for row in self.rows if row.attended)


def _places(session: Session, activity_id: int) -> list[tuple[Registration, Person]]:
    rows = session.exec(
        select(Registration, Person)
        .join(Person, col(Person.id) == col(Registration.person_id))
        .where(
            Registration.activity_id == activity_id,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
    ).all()
    # Alphabetical, as a paper list would be, so a name is quick to find.
    return sorted(rows, key=lambda rp: ((rp[1].display_name or "").casefold(), rp[0].id or 0))


def checklist(session: Session, *, activity_id: int, actor: Actor) -> Checklist:
    """The people holding a place, with their attendance, for an animator."""
    activity = managed_activity(session, activity_id=activity_id, actor=actor)
    rows = [
        AttendanceRow(
            registration_id=registration.id or 0,
            person_id=person.id or 0,
            display_name=person.display_name or "—",
            attended=registration.attended,
            without_telegram=person.telegram_id is None,
        )
        for registration, person in _places(session, activity_id)
    ]
    return Checklist(detached(activity), rows, activity.starts_at - ATTENDANCE_OPENS_BEFORE)


def set_attendance(
    session: Session,
    *,
    activity_id: int,
    registration_id: int,
    attended: bool,
    actor: Actor,
    now: datetime,
) -> bool:
    """Mark one person present or absent; returns False when it already was so."""
    activity = managed_activity(session, activity_id=activity_id, actor=actor)
    if activity.status == ActivityStatus.CANCELLED:
        raise ActivityCancelled(activity_id)
    if now < activity.starts_at - ATTENDANCE_OPENS_BEFORE:
        raise AttendanceNotOpen(activity.starts_at - ATTENDANCE_OPENS_BEFORE)
    registration = session.get(Registration, registration_id)
    if (
        registration is None
        or registration.activity_id != activity_id
        or registration.status != RegistrationStatus.CONFIRMED
    ):
        raise NotOnTheList(registration_id)
    if registration.attended == attended:
        return False
    registration.attended = attended
    registration.attendance_marked_at = now
    registration.attendance_marked_by_id = actor.person_id
    session.add(registration)
    person = session.get(Person, registration.person_id)
    details: dict[str, Any] = {
        "activity_id": activity_id,
        "person_id": registration.person_id,
        "attended": attended,
    }
    if person is not None and person.telegram_id is None:
        details["proxy"] = True
    record(
        session,
        actor_id=actor.person_id,
        action=AuditAction.ATTENDANCE_SET,
        subject_type="registration",
        subject_id=registration_id,
        details=details,
        at=now,
    )
    return True


def no_shows(session: Session, *, activity_id: int, now: datetime) -> list[Registration]:
    """People with a place who were not marked present, once the activity has ended."""
    activity = session.get(Activity, activity_id)
    if activity is None or activity.status == ActivityStatus.CANCELLED or now < activity.ends_at:
        return []
    rows = session.exec(
        select(Registration)
        .where(
            Registration.activity_id == activity_id,
            Registration.status == RegistrationStatus.CONFIRMED,
            col(Registration.attended).is_(False),
        )
        .order_by(col(Registration.id))
    )
    return [detached(row) for row in rows]


# ---------------------------------------------------------------- self check-in


@dataclass(frozen=True)
class CheckinCode:
    """The code residents type, and when it works."""

    activity: Activity
    code: str
    valid_from: datetime
    valid_until: datetime


def checkin_window(activity: Activity) -> tuple[datetime, datetime]:
    """From half an hour before the start until the end."""
    return activity.starts_at - CHECKIN_OPENS_BEFORE, activity.ends_at


def checkin_code(session: Session, *, activity_id: int, actor: Actor, now: datetime) -> CheckinCode:
    """The activity's 4-digit code, created the first time an animator asks for it."""
    activity = managed_activity(session, activity_id=activity_id, actor=actor)
    if activity.status == ActivityStatus.CANCELLED:
        raise ActivityCancelled(activity_id)
    if activity.checkin_code is None:
        activity.checkin_code = _fresh_code(session, activity)
        session.add(activity)
        record(
            session,
            actor_id=actor.person_id,
            action=AuditAction.CHECKIN_CODE_SHOWN,
            subject_type="activity",
            subject_id=activity_id,
            at=now,
        )
    opens, closes = checkin_window(activity)
    return CheckinCode(detached(activity), activity.checkin_code, opens, closes)


def _fresh_code(session: Session, activity: Activity) -> str:
    """A random code not used by another activity of the programme at overlapping times."""
    opens, closes = checkin_window(activity)
    taken = set(
        session.exec(
            select(Activity.checkin_code).where(
                Activity.programme_id == activity.programme_id,
                col(Activity.checkin_code).is_not(None),
                col(Activity.starts_at) < closes + CHECKIN_OPENS_BEFORE,
                col(Activity.ends_at) > opens,
            )
        ).all()
    )
    while True:
        code = f"{secrets.randbelow(10_000):04d}"
        if code not in taken:
            return code


class CheckinPaused(Exception):
    """Too many wrong codes lately; `until` says when the person may try again."""

    def __init__(self, until: datetime) -> None:
        super().__init__(until.isoformat())
        self.until = until


class WrongCode(ValueError):
    """No activity of the person's has this code; `left` tries remain before a pause."""

    def __init__(self, left: int) -> None:
        super().__init__(str(left))
        self.left = left


class CodeNotValidNow(Exception):
    """The code is right but outside its window (too early or already over)."""

    def __init__(self, activity: Activity, valid_from: datetime, valid_until: datetime) -> None:
        super().__init__(activity.id)
        self.activity = activity
        self.valid_from = valid_from
        self.valid_until = valid_until


class NoPlaceHere(Exception):
    """The code is right, but the person holds no place in that activity."""

    def __init__(self, activity: Activity) -> None:
        super().__init__(activity.id)
        self.activity = activity


@dataclass(frozen=True)
class CheckinResult:
    """A successful check-in."""

    activity: Activity
    # False when the person was already marked present.
    changed: bool


def _recent_failures(session: Session, person_id: int, now: datetime) -> list[str]:
    guard = get_dialog(session, person_id=person_id, kind=CHECKIN_GUARD_KIND)
    if guard is None:
        return []
    window_start = now - WRONG_CODE_WINDOW
    return [t for t in guard.data.get("fails", []) if datetime.fromisoformat(t) > window_start]


def _note_failure(session: Session, person_id: int, failures: list[str], now: datetime) -> int:
    kept = [*failures, now.isoformat()][-MAX_WRONG_CODES:]
    save_dialog(
        session, person_id=person_id, kind=CHECKIN_GUARD_KIND, step="guard", data={"fails": kept}
    )
    return MAX_WRONG_CODES - len(kept)


def self_check_in(
    session: Session,
    *,
    person_id: int,
    code: str,
    now: datetime,
    activity_id: int | None = None,
) -> CheckinResult:
    """Mark the person present with the code the animator shows.

    Wrong codes count against the person (a 4-digit code must not be guessable);
    after MAX_WRONG_CODES within WRONG_CODE_WINDOW they wait until the oldest expires.
    Raises CheckinPaused, WrongCode, CodeNotValidNow or NoPlaceHere.
    """
    failures = _recent_failures(session, person_id, now)
    if len(failures) >= MAX_WRONG_CODES:
        raise CheckinPaused(datetime.fromisoformat(failures[0]) + WRONG_CODE_WINDOW)
    person = session.get(Person, person_id)
    cleaned = code.strip()
    query = select(Activity).where(
        Activity.checkin_code == cleaned, Activity.status == ActivityStatus.PUBLISHED
    )
    if activity_id is not None:
        query = query.where(Activity.id == activity_id)
    elif person is not None and person.programme_id is not None:
        query = query.where(Activity.programme_id == person.programme_id)
    candidates = list(session.exec(query.order_by(col(Activity.starts_at))))
    if not cleaned.isdigit() or len(cleaned) != 4 or not candidates:
        raise WrongCode(_note_failure(session, person_id, failures, now))
    # Prefer the activity the person has a place in and whose window is open now.
    best: tuple[Activity, Registration | None] | None = None
    for activity in candidates:
        registration = session.exec(
            select(Registration).where(
                Registration.activity_id == activity.id,
                Registration.person_id == person_id,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
        ).first()
        opens, closes = checkin_window(activity)
        if registration is not None and opens <= now < closes:
            best = (activity, registration)
            break
        if best is None or (best[1] is None and registration is not None):
            best = (activity, registration)
    assert best is not None
    activity, registration = best
    opens, closes = checkin_window(activity)
    if not opens <= now < closes:
        raise CodeNotValidNow(detached(activity), opens, closes)
    if registration is None:
        raise NoPlaceHere(detached(activity))
    if registration.attended:
        return CheckinResult(detached(activity), changed=False)
    registration.attended = True
    registration.attendance_marked_at = now
    registration.attendance_marked_by_id = person_id
    session.add(registration)
    record(
        session,
        actor_id=person_id,
        action=AuditAction.SELF_CHECKIN,
        subject_type="registration",
        subject_id=registration.id,
        details={"activity_id": activity.id, "person_id": person_id, "attended": True},
        at=now,
    )
    return CheckinResult(detached(activity), changed=True)
