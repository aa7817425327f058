"""Animators changing or calling off their activities from the chat.

A change is one wizard answer applied to an existing activity: the activity is turned
into a draft, the answer goes through the same checks as in the wizard
(storage.activities.drafts), and the result is written back. Places can be raised (people on the
reserve list move up through the seat rule) but not lowered below the places taken.
A new time or venue reaches everyone signed up through storage.activities.change_notices'
`announce_activity_change`, the single entry point for change notices; calling off
goes through its `cancel_activity`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from storage.activities.change_notices import ChangeProblem, InvalidChange, announce_activity_change
from storage.activities.change_notices import cancel_activity as cancel_and_announce
from storage.activities.draft_questions import DraftInvalid, Problem, Step
from storage.activities.drafts import answer, moments
from storage.activities.listing import confirmed_count
from storage.activities.offers import void_offers
from storage.activities.organising import Actor, detached, lock_managed_activity
from storage.activities.seats import fill_free_places
from storage.audit import AuditAction, record
from storage.models import Activity, ActivityStatus


class PlacesBelowTaken(ValueError):
    """Fewer places than people already holding one; the numbers go in the hint."""

    def __init__(self, taken: int, requested: int) -> None:
        super().__init__(f"{requested} < {taken}")
        self.taken = taken
        self.requested = requested


@dataclass(frozen=True)
class EditResult:
    """What a change did."""

    activity: Activity
    fields: list[str]
    notices: int
    promoted: int


def draft_of(activity: Activity, zone: ZoneInfo) -> dict[str, Any]:
    """An activity as a complete wizard draft (its deadline as a fixed moment)."""
    local_start = activity.starts_at.astimezone(zone)
    minutes = int(
        (
            activity.ends_at.astimezone(zone).replace(tzinfo=None)
            - local_start.replace(tzinfo=None)
        ).total_seconds()
        // 60
    )
    return {
        "title": activity.title,
        "category": activity.category,
        "date": local_start.date().isoformat(),
        "start": local_start.strftime("%H:%M"),
        "minutes": minutes,
        "venue": activity.venue,
        "places": activity.places,
        "deadline": (
            {"at": activity.registration_deadline.isoformat()}
            if activity.registration_deadline is not None
            else None
        ),
        "description": activity.description,
    }


def _changeable(session: Session, activity_id: int, actor: Actor, now: datetime) -> Activity:
    activity = lock_managed_activity(session, activity_id=activity_id, actor=actor)
    if activity.status == ActivityStatus.CANCELLED:
        raise InvalidChange(ChangeProblem.CANCELLED)
    if activity.starts_at <= now:
        # People may already be on their way; changes now would only confuse.
        raise InvalidChange(ChangeProblem.STARTED)
    return activity


def _apply_answer(
    draft: dict[str, Any], step: Step, text: str, now: datetime, zone: ZoneInfo
) -> dict[str, Any]:
    try:
        return answer(draft, step, text, now=now, zone=zone)
    except DraftInvalid as exc:
        # Sign-ups may already be closed by a deadline in the past; that must not block
        # changing the date or time. The past deadline itself stays as it is.
        deadline = draft.get("deadline")
        if exc.problem != Problem.DEADLINE_PAST or step == Step.DEADLINE or not deadline:
            raise
        changed = answer(
            {k: v for k, v in draft.items() if k != "deadline"}, step, text, now=now, zone=zone
        )
        changed["deadline"] = deadline
        return changed


def edit_activity(
    session: Session,
    *,
    activity_id: int,
    actor: Actor,
    step: Step,
    text: str,
    now: datetime,
    zone: ZoneInfo,
) -> EditResult:
    """Change one field of a managed activity and tell people what they need to know.

    Raises NotYourActivity, InvalidChange (cancelled, started, nothing changed),
    DraftInvalid (the wizard's checks) or PlacesBelowTaken.
    """
    activity = _changeable(session, activity_id, actor, now)
    updated = _apply_answer(draft_of(activity, zone), step, text, now, zone)
    found = moments(updated, zone)
    taken = confirmed_count(session, activity_id)
    places = int(updated["places"])
    if places < taken:
        raise PlacesBelowTaken(taken, places)
    new_values: dict[str, Any] = {
        "title": updated["title"],
        "category": updated["category"],
        "description": updated.get("description") or "",
        "venue": updated["venue"],
        "places": places,
        "starts_at": found.starts_at,
        "ends_at": found.ends_at,
        "registration_deadline": found.deadline,
    }
    fields = [name for name, value in new_values.items() if getattr(activity, name) != value]
    if not fields:
        raise InvalidChange(ChangeProblem.NOTHING)
    old_start, old_venue, old_places = activity.starts_at, activity.venue, activity.places
    for name in fields:
        setattr(activity, name, new_values[name])
    activity.updated_at = now
    session.add(activity)
    session.flush()
    # An open offer named the old time or held a place counted from the old number:
    # void it, and offer the free places afresh with deadlines from the new details.
    voided = (
        void_offers(session, activity_id=activity_id, now=now)
        if {"starts_at", "places"} & set(fields)
        else 0
    )
    promoted = (
        len(fill_free_places(session, activity=activity, now=now))
        if places > old_places or voided
        else 0
    )
    details: dict[str, Any] = {"fields": fields}
    if promoted:
        details["promoted"] = promoted
    record(
        session,
        actor_id=actor.person_id,
        action=AuditAction.ACTIVITY_CHANGED,
        subject_type="activity",
        subject_id=activity_id,
        details=details,
        at=now,
    )
    notices = announce_activity_change(
        session, activity_id=activity_id, now=now, old_starts_at=old_start, old_venue=old_venue
    )
    return EditResult(detached(activity), fields, notices, promoted)


def call_off(session: Session, *, activity_id: int, actor: Actor, now: datetime) -> int:
    """Cancel a managed activity; everyone signed up is told. Returns the notices."""
    _changeable(session, activity_id, actor, now)
    return cancel_and_announce(session, activity_id=activity_id, now=now, actor_id=actor.person_id)
