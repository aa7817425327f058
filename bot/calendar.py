"""Calendar files (.ics) for activities, so a place lands in the person's phone calendar."""

from __future__ import annotations

from datetime import UTC, datetime

from storage.models import Activity

PRODID = "-//PAL Bot//Local Activity Programme//PL"


def activity_ics(activity: Activity, *, now: datetime, description: str = "") -> bytes:
    """One VEVENT with UTC start and end, title and venue; same UID on every download."""
    # Loaded on the first download: icalendar brings dateutil's rrule and about 8 MB that
    # `palbot run` does not need until someone asks for a calendar file.
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    # A stable UID lets calendar apps update the entry instead of duplicating it.
    event.add("uid", f"pal-activity-{activity.id}@palbot")
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", activity.starts_at.astimezone(UTC))
    event.add("dtend", activity.ends_at.astimezone(UTC))
    event.add("summary", activity.title)
    event.add("location", activity.venue)
    if description:
        event.add("description", description)
    calendar.add_component(event)
    return bytes(calendar.to_ical())
