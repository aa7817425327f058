"""A spreadsheet sent in the chat: its checked rows wait in the database until "Import".

The preview is a dialog row holding every parsed row, so a restart or another process
imports exactly what the person saw. Each preview has a random nonce that its buttons
carry: a button of an older preview never imports a newer file. Importing reuses the
import's dedupe (title, start, venue), so the same file twice adds nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from storage.activities.import_writing import import_into_programme
from storage.activities.importing import ActivityRow
from storage.audit import AuditAction, record
from storage.dialogs import close_dialog, get_dialog, save_dialog
from storage.models import Activity, Programme
from storage.people.staff_access import NotAllowed, StaffAction, StaffActor

DIALOG_KIND = "sheet_import"
PREVIEW_ROWS = 5


class PreviewGone(LookupError):
    """No preview with this nonce waits (imported, cancelled, replaced, or forged)."""


@dataclass(frozen=True)
class SheetPreview:
    """What the person is asked to import."""

    nonce: str
    file_name: str
    programme_id: int | None
    programme_name: str | None
    count: int
    already_present: int
    first_rows: list[ActivityRow]


@dataclass(frozen=True)
class SheetImported:
    """What the import did."""

    programme_name: str
    added: int
    already_present: int


def _row_json(row: ActivityRow) -> dict[str, Any]:
    return {
        "line": row.line,
        "title": row.title,
        "category": row.category,
        "starts_at": row.starts_at.isoformat(),
        "ends_at": row.ends_at.isoformat(),
        "venue": row.venue,
        "places": row.places,
        "registration_deadline": (
            row.registration_deadline.isoformat() if row.registration_deadline else None
        ),
        "description": row.description,
        "repeat_until": row.repeat_until.isoformat() if row.repeat_until else None,
        "skip_dates": [d.isoformat() for d in row.skip_dates],
        "dates": row.dates,
    }


def _row_of(data: dict[str, Any]) -> ActivityRow:
    deadline = data.get("registration_deadline")
    return ActivityRow(
        line=int(data["line"]),
        title=str(data["title"]),
        category=str(data["category"]),
        starts_at=datetime.fromisoformat(data["starts_at"]),
        ends_at=datetime.fromisoformat(data["ends_at"]),
        venue=str(data["venue"]),
        places=int(data["places"]),
        registration_deadline=datetime.fromisoformat(deadline) if deadline else None,
        description=str(data.get("description") or ""),
        repeat_until=date.fromisoformat(until) if (until := data.get("repeat_until")) else None,
        skip_dates=tuple(date.fromisoformat(d) for d in data.get("skip_dates") or ()),
        dates=int(data.get("dates") or 1),
    )


def _preview(session: Session, data: dict[str, Any]) -> SheetPreview:
    rows = [_row_of(r) for r in data["rows"]]
    programme_id = data.get("programme_id")
    programme = session.get(Programme, programme_id) if programme_id is not None else None
    present = 0
    if programme is not None:
        keys = set(
            session.exec(
                select(Activity.import_key).where(Activity.programme_id == programme.id)
            ).all()
        )
        present = sum(1 for r in rows if r.import_key in keys)
    return SheetPreview(
        nonce=str(data["nonce"]),
        file_name=str(data["file_name"]),
        programme_id=programme.id if programme else None,
        programme_name=programme.name if programme else None,
        count=len(rows),
        already_present=present,
        first_rows=rows[:PREVIEW_ROWS],
    )


def save_preview(
    session: Session,
    *,
    actor: StaffActor,
    file_name: str,
    rows: list[ActivityRow],
    programme_id: int | None,
) -> SheetPreview:
    """Keep a checked file's rows until "Import" (replacing an earlier preview)."""
    if actor.person_id is None or not rows:
        raise NotAllowed(programme_id)
    if programme_id is not None and not actor.may(
        session, StaffAction.IMPORT_ACTIVITIES, programme_id
    ):
        raise NotAllowed(programme_id)
    data = {
        "nonce": secrets.token_hex(4),
        "file_name": file_name[:100],
        "programme_id": programme_id,
        "rows": [_row_json(r) for r in rows],
    }
    save_dialog(
        session,
        person_id=actor.person_id,
        kind=DIALOG_KIND,
        step="preview" if programme_id is not None else "programme",
        data=data,
    )
    return _preview(session, data)


def _waiting(session: Session, actor: StaffActor, nonce: str) -> dict[str, Any]:
    if actor.person_id is None:
        raise PreviewGone(nonce)
    dialog = get_dialog(session, person_id=actor.person_id, kind=DIALOG_KIND)
    if dialog is None or dialog.data.get("nonce") != nonce:
        raise PreviewGone(nonce)
    return dict(dialog.data)


def choose_programme(
    session: Session, *, actor: StaffActor, nonce: str, programme_id: int
) -> SheetPreview:
    """The programme the waiting file goes into (for people with several)."""
    data = _waiting(session, actor, nonce)
    if (
        not actor.may(session, StaffAction.IMPORT_ACTIVITIES, programme_id)
        or session.get(Programme, programme_id) is None
    ):
        raise NotAllowed(programme_id)
    data["programme_id"] = programme_id
    assert actor.person_id is not None
    save_dialog(session, person_id=actor.person_id, kind=DIALOG_KIND, step="preview", data=data)
    return _preview(session, data)


def confirm_import(
    session: Session, *, actor: StaffActor, nonce: str, now: datetime, zone: ZoneInfo
) -> SheetImported:
    """ "Import": add the waiting rows to the programme (none twice), audited."""
    data = _waiting(session, actor, nonce)
    programme_id = data.get("programme_id")
    if programme_id is None:
        raise PreviewGone(nonce)
    if not actor.may(session, StaffAction.IMPORT_ACTIVITIES, programme_id):
        raise NotAllowed(programme_id)
    rows = [_row_of(r) for r in data["rows"]]
    result = import_into_programme(
        session, programme_id=programme_id, rows=rows, now=now, zone=zone
    )
    assert actor.person_id is not None
    close_dialog(session, person_id=actor.person_id, kind=DIALOG_KIND)
    record(
        session,
        actor_id=actor.person_id,
        action=AuditAction.ACTIVITIES_IMPORTED,
        subject_type="programme",
        subject_id=programme_id,
        details={
            "added": result.added,
            "already_present": result.already_present,
            "rows": len(rows),
        },
        at=now,
    )
    return SheetImported(result.programme.name, result.added, result.already_present)


def cancel_preview(session: Session, *, actor: StaffActor, nonce: str) -> None:
    """ "Cancel": forget the waiting file; PreviewGone if it is not waiting."""
    _waiting(session, actor, nonce)
    assert actor.person_id is not None
    close_dialog(session, person_id=actor.person_id, kind=DIALOG_KIND)
