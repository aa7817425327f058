"""Keeping a sent spreadsheet for its preview until the animator imports or cancels it."""

from __future__ import annotations

from sqlmodel import Session

from storage.activities.importing import ActivityRow
from storage.activities.sheet_imports import (
    SheetPreview,
    save_preview,
)
from storage.people.staff_access import StaffAction, StaffActor, programmes_for


def keep_for_preview(
    session: Session, *, actor: StaffActor, file_name: str, rows: list[ActivityRow]
) -> tuple[list[tuple[int, str]], SheetPreview | None]:
    """The programmes the file may go to, and its stored preview (None if there are none)."""
    programmes = programmes_for(
        session,
        telegram_id=actor.telegram_id,
        admin_ids=actor.admin_ids,
        action=StaffAction.IMPORT_ACTIVITIES,
    )
    if not programmes:
        return programmes, None
    only = programmes[0][0] if len(programmes) == 1 else None
    return programmes, save_preview(
        session, actor=actor, file_name=file_name, rows=rows, programme_id=only
    )
