"""Checked spreadsheet rows into a programme: one-off activities and weekly series, none
twice (rows are keyed by title, start and venue), in the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from storage.activities.importing import ActivityRow
from storage.activities.listing import programme_by_name
from storage.activities.series import NewSeries, create_series
from storage.models import Activity, ActivitySeries, Programme
from storage.text_rule import InvalidText, check_text


@dataclass(frozen=True)
class ImportResult:
    """What an import did."""

    programme: Programme
    programme_created: bool
    added: int
    already_present: int


def import_activities(
    session: Session,
    *,
    programme_name: str,
    rows: list[ActivityRow],
    now: datetime,
    zone: ZoneInfo,
) -> ImportResult:
    """Add the rows to the programme (created if missing); rows already present are skipped.

    The programme stays open for sign-ups until the start of its last activity.
    """
    try:
        name = check_text(programme_name, limit=200)
    except InvalidText as exc:
        raise ValueError(
            "the programme name must have 1 to 200 characters, without control "
            "or invisible formatting characters"
        ) from exc
    programme = programme_by_name(session, name)
    created = programme is None
    if programme is None:
        programme = Programme(name=name, created_at=now)
        session.add(programme)
        session.flush()
    added, present = _add_rows(session, programme, rows, now, zone)
    return ImportResult(programme, created, added, present)


def import_into_programme(
    session: Session,
    *,
    programme_id: int,
    rows: list[ActivityRow],
    now: datetime,
    zone: ZoneInfo,
) -> ImportResult:
    """Add the rows to an existing programme; rows already present are skipped."""
    programme = session.get(Programme, programme_id)
    if programme is None:
        raise LookupError(programme_id)
    added, present = _add_rows(session, programme, rows, now, zone)
    return ImportResult(programme, False, added, present)


def _add_rows(
    session: Session, programme: Programme, rows: list[ActivityRow], now: datetime, zone: ZoneInfo
) -> tuple[int, int]:
    """Add what is not there yet; counts are of rows (a series is one row)."""
    assert programme.id is not None
    if not rows:
        return 0, 0
    keys = set(
        session.exec(select(Activity.import_key).where(Activity.programme_id == programme.id)).all()
    )
    keys |= set(
        session.exec(
            select(ActivitySeries.import_key).where(ActivitySeries.programme_id == programme.id)
        ).all()
    )
    added = 0
    last_start = max(row.starts_at for row in rows)
    for row in rows:
        if row.import_key in keys:
            continue
        rule = row.weekly_rule(zone)
        if rule is not None:
            _, dates = create_series(
                session, new=_series_of(programme.id, row), rule=rule, zone=zone, now=now
            )
            last_start = max(last_start, *(a.starts_at for a in dates))
        else:
            session.add(_activity_of(programme.id, row, now))
        keys.add(row.import_key)
        added += 1
    if programme.signup_open_until is None or programme.signup_open_until < last_start:
        programme.signup_open_until = last_start
        session.add(programme)
    session.flush()
    return added, len(rows) - added


def _activity_of(programme_id: int, row: ActivityRow, now: datetime) -> Activity:
    return Activity(
        programme_id=programme_id,
        title=row.title,
        category=row.category,
        description=row.description,
        venue=row.venue,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        places=row.places,
        registration_deadline=row.registration_deadline,
        import_key=row.import_key,
        created_at=now,
        updated_at=now,
    )


def _series_of(programme_id: int, row: ActivityRow) -> NewSeries:
    # A deadline in the row is kept as "this long before each date".
    before: timedelta | None = (
        row.starts_at - row.registration_deadline if row.registration_deadline else None
    )
    return NewSeries(
        programme_id=programme_id,
        title=row.title,
        category=row.category,
        description=row.description,
        venue=row.venue,
        places=row.places,
        organiser_id=None,
        deadline_before=before,
        import_key=row.import_key,
    )
