"""Changing an activity's date, place or places, asked one step at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from storage.activities.draft_questions import Step
from storage.activities.editing import EditResult, draft_of, edit_activity
from storage.activities.organising import Actor, managed_activity
from storage.activities.wizard import OPTION_PREFIX, known_categories, recent_venues
from storage.dialogs import close_dialog, get_dialog, save_dialog
from storage.models import Dialog

KIND = "animator_edit"


@dataclass(frozen=True)
class Question:
    """The field being changed, with what the activity holds now."""

    activity_id: int
    title: str
    step: Step
    draft: dict[str, Any]
    options: list[str]


def ask_change(
    session: Session, *, activity_id: int, step: Step, actor: Actor, zone: ZoneInfo
) -> Question:
    """Remember which field of which activity the next answer changes."""
    activity = managed_activity(session, activity_id=activity_id, actor=actor)
    options: list[str] = []
    if step == Step.CATEGORY:
        options = known_categories(session, programme_id=activity.programme_id)
    elif step == Step.VENUE:
        options = recent_venues(
            session, programme_id=activity.programme_id, organiser_id=actor.person_id
        )
    save_dialog(
        session,
        person_id=actor.person_id,
        kind=KIND,
        step=step.value,
        data={"activity_id": activity_id, "options": options},
        awaits_text=True,
    )
    return Question(activity_id, activity.title, step, draft_of(activity, zone), options)


def pending_change(session: Session, *, person_id: int) -> Dialog | None:
    """The person's change dialog in progress, if any."""
    return get_dialog(session, person_id=person_id, kind=KIND)


def apply_change(
    session: Session, *, step: Step, text: str, actor: Actor, now: datetime, zone: ZoneInfo
) -> EditResult:
    """Apply the answer to the activity the dialog names; close the dialog if it worked."""
    dialog = get_dialog(session, person_id=actor.person_id, kind=KIND)
    if dialog is None or dialog.step != step.value:
        raise LookupError("no such question open")
    activity_id = int(dialog.data["activity_id"])
    if text.startswith(OPTION_PREFIX) and step in (Step.CATEGORY, Step.VENUE):
        offered = list(dialog.data.get("options", []))
        index = text[len(OPTION_PREFIX) :]
        if not index.isdigit() or int(index) >= len(offered):
            raise LookupError("stale option")
        text = offered[int(index)]
    result = edit_activity(
        session, activity_id=activity_id, actor=actor, step=step, text=text, now=now, zone=zone
    )
    close_dialog(session, person_id=actor.person_id, kind=KIND)
    return result
