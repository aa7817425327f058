"""The audit trail: who changed what and when, in ids and field names only.

Every animator or admin action that changes what residents see or what is recorded about
them (activity changes, attendance, broadcasts, actions on behalf of people without
Telegram) adds one row in the same transaction as the change itself, so the trail can
never claim something that was rolled back, nor miss something that was kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Session, col, select

from storage.models import AuditEntry


class AuditAction(StrEnum):
    """The recorded kinds of action (stored as their value, at most 48 characters)."""

    ACTIVITY_CREATED = "activity.created"
    ACTIVITY_CHANGED = "activity.changed"
    ACTIVITY_CANCELLED = "activity.cancelled"
    ACTIVITY_PLACES_PROMOTED = "activity.places_promoted"
    ATTENDANCE_SET = "attendance.set"
    CHECKIN_CODE_SHOWN = "attendance.checkin_code"
    SELF_CHECKIN = "attendance.self_checkin"
    BROADCAST_STARTED = "broadcast.started"
    BROADCAST_CANCELLED = "broadcast.cancelled"
    BROADCAST_FINISHED = "broadcast.finished"
    # Sign-ups and cancellations made for someone else are recorded by storage.activities.seats
    # itself ("registration.sign_up", "registration.cancel").
    PROXY_CREATED = "proxy.created"
    FINAL_SURVEY_OPENED = "survey.final_opened"
    # Staff from the chat: invitations by link, staff lists, spreadsheets.
    INVITATION_CREATED = "invitation.created"
    INVITATION_ACCEPTED = "invitation.accepted"
    INVITATION_REVOKED = "invitation.revoked"
    STAFF_REMOVED = "staff.removed"
    PROGRAMME_CREATED = "programme.created"
    ACTIVITIES_IMPORTED = "activities.imported"
    # Programmes and their settings from /admin (field names only in details).
    PROGRAMME_RENAMED = "programme.renamed"
    PROGRAMME_DATES_SET = "programme.dates_set"
    PROGRAMME_ARCHIVED = "programme.archived"
    PROGRAMME_RESTORED = "programme.restored"
    PROGRAMME_COPIED = "programme.copied"
    PROGRAMME_SETTING_SET = "programme.setting_set"
    QUESTIONNAIRE_CHOSEN = "survey.questionnaire_chosen"
    PERSON_DATA_EXPORTED = "person.data_exported"
    # A resident joined or left a programme besides the one they started in.
    MEMBERSHIP_JOINED = "membership.joined"
    MEMBERSHIP_LEFT = "membership.left"


def record(
    session: Session,
    *,
    actor_id: int | None,
    action: AuditAction | str,
    subject_type: str,
    subject_id: int | None = None,
    details: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Add one audit row; `details` must hold ids, counts and field names only."""
    entry = AuditEntry(
        actor_id=actor_id,
        action=str(action),
        subject_type=subject_type,
        subject_id=subject_id,
        details=dict(details or {}),
    )
    if at is not None:
        entry.at = at
    session.add(entry)
    session.flush()
    return entry


def entries_since(
    session: Session,
    *,
    since: datetime,
    until: datetime | None = None,
    actions: Sequence[str] | None = None,
    actor_id: int | None = None,
) -> list[AuditEntry]:
    """Audit rows from `since` (inclusive) to `until` (exclusive), oldest first."""
    query = select(AuditEntry).where(col(AuditEntry.at) >= since)
    if until is not None:
        query = query.where(col(AuditEntry.at) < until)
    if actions:
        query = query.where(col(AuditEntry.action).in_(list(actions)))
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    return list(session.exec(query.order_by(col(AuditEntry.at), col(AuditEntry.id))).all())
