"""Quiet hours: no non-urgent message between, by default, 21:00 and 08:00 local time.

Exempt, because the person needs them now: direct replies (they never pass through the
outbox), the last reminder before an activity, the notice that a place became yours,
and change or cancellation notices for an activity starting within 24 hours. Anything
else due in quiet hours waits for their end. Times are computed in the programme's
time zone, so the morning is 08:00 on both sides of a DST change.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from schedules.messages import OutgoingMessage
from storage.models import SendKind
from storage.setting_values import QuietHours, parse_quiet_hours

log = logging.getLogger(__name__)

# Change notices this close to the activity go out at night too: the person may
# otherwise set off for a cancelled or moved activity in the morning.
URGENT_CHANGE_WINDOW = timedelta(hours=24)


def effective_quiet_hours(override: str | None, default: QuietHours) -> QuietHours:
    """A programme's own quiet hours (`22:00-07:00` or `off`), else the default."""
    if override is None or not override.strip():
        return default
    try:
        return parse_quiet_hours(override)
    except ValueError:
        log.warning("ignoring malformed programme quiet hours; using the default")
        return default


def is_quiet(moment: datetime, hours: QuietHours, zone: ZoneInfo) -> bool:
    """Whether `moment` falls inside quiet hours in local time."""
    if hours is None:
        return False
    start, end = hours
    local = moment.astimezone(zone).time().replace(tzinfo=None)
    if start < end:
        return start <= local < end
    return local >= start or local < end


def quiet_end(moment: datetime, hours: QuietHours, zone: ZoneInfo) -> datetime:
    """The instant (UTC) the quiet period around `moment` ends; `moment` if not quiet."""
    if hours is None or not is_quiet(moment, hours, zone):
        return moment
    start, end = hours
    local = moment.astimezone(zone)
    day = local.date()
    if start > end and local.time().replace(tzinfo=None) >= start:
        day += timedelta(days=1)  # evening: quiet until tomorrow morning
    return _local_instant(day, end, zone)


def _local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    # fold=0 (PEP 495): a wall time skipped by the spring DST jump (02:30) maps to the
    # instant after the jump; one repeated in autumn maps to its first occurrence.
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def is_exempt(
    kind: str,
    message: OutgoingMessage,
    *,
    now: datetime,
    activity_starts_at: datetime | None,
) -> bool:
    """Whether a send goes out even in quiet hours."""
    if message.exempt_from_quiet_hours or kind == SendKind.PROMOTION:
        return True
    return (
        kind == SendKind.CHANGE
        and activity_starts_at is not None
        and activity_starts_at - now <= URGENT_CHANGE_WINDOW
    )


def held_until(
    kind: str,
    message: OutgoingMessage,
    *,
    now: datetime,
    hours: QuietHours,
    zone: ZoneInfo,
    activity_starts_at: datetime | None = None,
) -> datetime | None:
    """When a send due now may go out instead, or None if it may go now."""
    if hours is None or not is_quiet(now, hours, zone):
        return None
    if is_exempt(kind, message, now=now, activity_starts_at=activity_starts_at):
        return None
    return quiet_end(now, hours, zone)
