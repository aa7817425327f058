"""Dialog positions (survey, wizard, compose) stored with the answer that moves them."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from storage.models import Dialog
from storage.types import utcnow


def get_dialog(session: Session, *, person_id: int, kind: str) -> Dialog | None:
    """The person's dialog of a kind, if one is open."""
    return session.exec(
        select(Dialog).where(Dialog.person_id == person_id, Dialog.kind == kind)
    ).first()


def save_dialog(
    session: Session,
    *,
    person_id: int,
    kind: str,
    step: str,
    data: dict[str, Any] | None = None,
    awaits_text: bool = False,
    message_id: int | None = None,
) -> Dialog:
    """Create or move a dialog; only one dialog per person waits for text at a time."""
    if awaits_text:
        for other in session.exec(
            select(Dialog).where(
                Dialog.person_id == person_id, Dialog.kind != kind, col(Dialog.awaits_text)
            )
        ):
            other.awaits_text = False
            session.add(other)
    dialog = get_dialog(session, person_id=person_id, kind=kind)
    if dialog is None:
        dialog = Dialog(person_id=person_id, kind=kind)
    dialog.step = step
    if data is not None:
        # A new dict object, so SQLAlchemy sees the JSON column changed.
        dialog.data = dict(data)
    dialog.awaits_text = awaits_text
    if message_id is not None:
        dialog.message_id = message_id
    dialog.updated_at = utcnow()
    session.add(dialog)
    session.flush()
    return dialog


def close_dialog(session: Session, *, person_id: int, kind: str) -> None:
    """Forget a finished or abandoned dialog."""
    dialog = get_dialog(session, person_id=person_id, kind=kind)
    if dialog is not None:
        session.delete(dialog)


def active_text_dialog(session: Session, *, person_id: int) -> Dialog | None:
    """The dialog waiting for this person's next free-text message, if any."""
    return session.exec(
        select(Dialog)
        .where(Dialog.person_id == person_id, col(Dialog.awaits_text))
        .order_by(col(Dialog.updated_at).desc())
    ).first()
