"""Which programmes an evaluator may read, for the evaluator's screens."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from evaluation import on_demand  # the report code (numpy, scipy…) loads on first use
from storage.access import Access, Action, may, programmes_for
from storage.models import Programme


def visible_programmes(session: Session, access: Access) -> list[tuple[int, str]]:
    """(id, name) of the programmes this person may read reports of, by name."""
    allowed = programmes_for(access, Action.READ_REPORTS)
    stmt = select(Programme.id, Programme.name).order_by(Programme.name)
    if allowed is not None:
        stmt = stmt.where(col(Programme.id).in_(sorted(allowed)))
    return [(int(pid), name) for pid, name in session.exec(stmt).all() if pid is not None]


def readable_programme(
    session: Session, access: Access, programme_id: int, zone: str
) -> tuple[str, list[int]] | None:
    """Name and report years of a programme this person may read; None if they may not."""
    if not may(access, Action.READ_REPORTS, programme_id=programme_id):
        return None
    programme = session.get(Programme, programme_id)
    if programme is None:
        return None
    periods = on_demand.programme_years(session, programme_id, ZoneInfo(zone))
    return programme.name, [int(y) for y in periods.labels] if periods else []
